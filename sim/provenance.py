"""What a result must record to be reproduced: package version and source commit."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

from sim import __version__

SOURCE_ROOT = Path(__file__).resolve().parents[1]


@cache
def git_commit() -> str:
    """Commit of the source tree (with ``-dirty`` if it has uncommitted changes), or ``unknown``."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=SOURCE_ROOT, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=SOURCE_ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit}-dirty" if dirty else commit


def package_version() -> str:
    """The installed regsim version (``sim.__version__``), recorded with every run."""
    return __version__
