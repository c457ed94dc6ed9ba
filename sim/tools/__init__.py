"""Tools outside the layers (``build/``: rebuilding the data pack); never imported by the simulator."""
