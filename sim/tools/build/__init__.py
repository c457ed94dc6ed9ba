"""Rebuild the packaged data tables from the raw public statistics in ``shared/data``.

Run ``python -m sim.tools.build [--shared PATH]``. Each module here builds one family of tables
and documents, next to the code, which raw file and which derivation each output comes from.
"""

from pathlib import Path


def write_provenance_section(path: Path, heading: str, section: str) -> None:
    """Put ``section`` (starting with the line ``heading``) into the provenance file: replace an
    earlier version of it, or append it; other sections stay as they are."""
    text = path.read_text(encoding="utf-8") if path.is_file() else "# Korea region pack — provenance\n"
    start = text.find(heading + "\n")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n"
    else:
        following = text.find("\n## ", start + len(heading))
        rest = "" if following == -1 else "\n" + text[following:].lstrip("\n")
        text = text[:start] + section.rstrip("\n") + "\n" + rest
    path.write_text(text, encoding="utf-8")
