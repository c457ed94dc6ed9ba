"""Layer 1, inputs: the scenario schema, parameters, configuration files and the region packs (``data/``)."""
