"""The import contracts of ``[tool.importlinter]`` in pyproject.toml: layers follow the flow of a study
(inputs -> model -> results -> experiments -> analysis and presentation) and levers do not import the
model class."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    lint_imports = Path(sys.executable).parent / "lint-imports"  # installed by `make setup` (the test extra)
    done = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout
