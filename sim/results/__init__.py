"""Layer 3, results: running a scenario (``run.py``), the additionality ledger, outcomes, result folders (``store.py``)."""
