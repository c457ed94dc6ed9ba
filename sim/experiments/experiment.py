"""What every experiment kind shares: field paths, seeds, default bounds, intervals, result folders.

Batch, sensitivity, tuning and calibration files name what they vary in one **field-path language**,
a path into the resolved scenario:

- ``parameters.<section>.<name>``: a behavioural parameter of ``sim/inputs/data/parameters.yaml``;
- ``levers[i].params.<name>``, ``levers[i].budget_krw_per_year``, ``levers[i].start`` …: a field of
  the i-th lever; any other scenario field by its name.

A parameter's bounds default to its ``range`` in ``parameters.yaml`` (``default_bounds``). Seeds are
a count N (seeds 0..N-1) or a list of distinct non-negative seeds. Intervals over seeds are
Student-t intervals of the mean (``t_interval``, ``summarise``). Where the simulations run is
``sim.experiments.executors``; what a result folder holds is ``sim.results.store``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import AfterValidator
from scipy import stats

from sim.inputs.parameters import parameter_keys, parameter_range
from sim.inputs.scenario import Scenario

RESULTS_DIR = Path("results")
"""Where result folders go by default (relative to the working directory)."""

_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


# --- field paths -------------------------------------------------------------------------------
def parse_path(path: str) -> list[str | int]:
    """``levers[0].params.cofunding_rate`` -> ['levers', 0, 'params', 'cofunding_rate'];
    ``parameters.migration.wage_weight`` -> ['parameters', 'migration.wage_weight'] (parameter keys
    are ``section.name``)."""
    tokens: list[str | int] = []
    position = 0
    text = path.strip()
    while position < len(text):
        if tokens and text[position] == ".":
            position += 1
        match = _TOKEN.match(text, position)
        if match is None:
            raise ValueError(f"{path!r}: not a field path (expected e.g. levers[0].budget_krw_per_year)")
        tokens.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        position = match.end()
    if not tokens or not isinstance(tokens[0], str):
        raise ValueError(f"{path!r}: not a field path")
    if tokens[0] == "parameters":
        rest = ".".join(str(token) for token in tokens[1:])
        if "." not in rest:
            raise ValueError(f"{path!r}: expected parameters.<section>.<name>")
        return ["parameters", rest]
    return tokens


def check_field_paths[T](paths: dict[str, T]) -> dict[str, T]:
    """``paths`` unchanged if every key is a field path starting at a scenario field that may vary;
    ValueError naming the first that is not (for the experiment files' field validators)."""
    fields = list(Scenario.model_fields)
    for path in paths:
        tokens = parse_path(path)
        if tokens[0] not in fields:
            if path in parameter_keys():
                raise ValueError(f"{path!r}: a parameter is written parameters.{path}")
            close = difflib.get_close_matches(str(tokens[0]), fields, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; scenario fields: {', '.join(fields)}"
            raise ValueError(f"{path!r}: unknown scenario field {tokens[0]!r}{hint}")
        if tokens[0] in ("name", "description"):
            raise ValueError(f"{path!r}: cannot vary the scenario's {tokens[0]}")
    return paths


def set_path(raw: dict[str, Any], path: str, value: Any) -> None:
    """Set ``path`` in a scenario mapping; missing mapping keys are created, list indexes must exist."""
    tokens = parse_path(path)
    node: Any = raw
    walked = ""
    for i, token in enumerate(tokens):
        last = i == len(tokens) - 1
        label = f"[{token}]" if isinstance(token, int) else (f".{token}" if walked else token)
        if isinstance(token, int):
            if not isinstance(node, list):
                raise ValueError(f"{walked or 'scenario'} is not a list")
            if token >= len(node):
                raise ValueError(f"{walked}{label}: index out of range ({walked} has {len(node)} entries)")
        elif not isinstance(node, dict):
            raise ValueError(f"{walked or 'scenario'} is not a mapping")
        if last:
            node[token] = value
        else:
            if isinstance(node, dict) and node.get(token) is None:
                node[token] = [] if isinstance(tokens[i + 1], int) else {}
            node = node[token]
        walked += label


def get_path(raw: dict[str, Any], path: str) -> Any:
    """The value at ``path`` in a scenario mapping, or None where the path leads nowhere."""
    node: Any = raw
    for token in parse_path(path):
        try:
            node = node[token]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def default_bounds(path: str) -> tuple[float, float] | None:
    """The ``range`` that ``sim/inputs/data/parameters.yaml`` gives a ``parameters.<section>.<name>`` path,
    or None (another kind of field, or a parameter without a range)."""
    tokens = parse_path(path)
    if tokens[0] != "parameters":
        return None
    key = str(tokens[1])
    if key not in parameter_keys():
        close = difflib.get_close_matches(key, parameter_keys(), n=1)
        hint = f"; did you mean 'parameters.{close[0]}'?" if close else ""
        raise ValueError(f"{path!r}: unknown parameter{hint}")
    return parameter_range(key)


# --- seeds -------------------------------------------------------------------------------------
def check_seeds(seeds: int | list[int]) -> int | list[int]:
    """``seeds`` of an experiment file: a count of at least 1, or a list of distinct non-negative seeds."""
    if isinstance(seeds, int):
        if seeds < 1:
            raise ValueError("the number of seeds must be at least 1")
        return seeds
    if not seeds:
        raise ValueError("the list of seeds is empty")
    if any(seed < 0 for seed in seeds):
        raise ValueError("seeds must not be negative")
    if len(set(seeds)) != len(seeds):
        raise ValueError("seeds are repeated")
    return seeds


Seeds = Annotated[int | list[int], AfterValidator(check_seeds)]
"""An experiment file's model seeds: N (0..N-1) or a list of distinct non-negative seeds."""
SeedList = Annotated[list[int], AfterValidator(check_seeds)]
"""Model seeds given one by one."""


def seed_list(seeds: int | list[int]) -> list[int]:
    """The model seeds of ``seeds``: N means 0..N-1."""
    return list(range(seeds)) if isinstance(seeds, int) else list(seeds)


# --- intervals over seeds ----------------------------------------------------------------------
def t_factor(n: np.ndarray | int, level: float = 0.95) -> np.ndarray:
    """Half-width of the Student-t interval of a mean per standard deviation: t(level, n−1) / √n
    (NaN with fewer than two values). The one rule behind every interval over seeds."""
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 1, stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)) / np.sqrt(np.maximum(n, 1)), np.nan)


def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t interval over seeds (NaN bounds with fewer than two values)."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean()) if len(values) else np.nan
    if len(values) < 2:
        return mean, np.nan, np.nan
    half = float(t_factor(len(values), level)) * values.std(ddof=1)
    return mean, mean - half, mean + half


def summarise(table: pd.DataFrame, columns: Iterable[str], by: list[str], level: float = 0.95) -> pd.DataFrame:
    """Mean, low and high (``<column>_mean/_low/_high``) over the rows of each ``by`` group, with ``seeds``."""
    columns = list(columns)
    grouped = table.groupby(by, sort=False, dropna=False)
    out = grouped.size().rename("seeds").reset_index()
    n = out["seeds"].to_numpy(float)
    means = grouped[columns].mean().reset_index(drop=True)
    sds = grouped[columns].std(ddof=1).reset_index(drop=True)
    factor = t_factor(n, level)
    for column in columns:
        half = sds[column].to_numpy(float) * factor
        out[f"{column}_mean"] = means[column].to_numpy(float)
        out[f"{column}_low"] = out[f"{column}_mean"] - half
        out[f"{column}_high"] = out[f"{column}_mean"] + half
    return out


# --- result folders ----------------------------------------------------------------------------
def new_results_folder(name: str, kind: str = "batch") -> Path:
    """A new folder ``results/<kind>-<name>-<timestamp>`` (not created)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    slug = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name)
    folder = RESULTS_DIR / f"{kind}-{slug}-{stamp}"
    suffix = 1
    while folder.exists():
        suffix += 1
        folder = RESULTS_DIR / f"{kind}-{slug}-{stamp}-{suffix}"
    return folder
