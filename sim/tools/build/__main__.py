"""Entry point: ``python -m sim.tools.build [--shared PATH]`` rebuilds every packaged table."""

import argparse
from pathlib import Path

from sim.inputs.data import DATA_DIR
from sim.tools.build import demography, economy, geometry, migration, migration_age, migration_size, municipalities, policy, validation

DEFAULT_SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="folder of the raw CSVs")
    args = parser.parse_args()
    out = DATA_DIR / "korea"
    # municipalities reads the demography tables; migration_age reads the tables of demography (mortality) and migration (every calibration window)
    for module in (demography, migration, migration_age, migration_size, economy, validation, policy, geometry, municipalities):
        module.build(args.shared, out)
        print(f"built {module.__name__}")


if __name__ == "__main__":
    main()
