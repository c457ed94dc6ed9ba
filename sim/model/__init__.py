"""Layer 2, the model: ``RegionalModel`` (``regional_model.py``), agents, mechanisms, levers, region measures, keyed random draws."""
