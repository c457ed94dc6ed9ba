"""Rebuild the packaged data tables from the raw public statistics in ``shared/data``.

Run ``python -m sim.data.build [--shared PATH]``. Each module here builds one family of tables
and documents, next to the code, which raw file and which derivation each output comes from.
"""
