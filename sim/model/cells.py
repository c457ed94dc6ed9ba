"""Cells of small tables indexed by person attributes (region, sex, age): the per-person hot path.

Rates live in tables of a few thousand cells (region × sex × age); persons number up to 50 million.
Looking a rate up for every person, or counting persons per cell, goes through one flat cell code
per person in the smallest integer type that holds it: at full scale each extra full-width index
array is 400 MB, and the lookups are memory-bound.
"""

from __future__ import annotations

import numpy as np


def cell_codes(shape: tuple[int, ...], *indices: np.ndarray) -> np.ndarray:
    """Flat (C-order) cell index of every person in a table of ``shape``, one index array per axis.

    Indices must lie within ``shape`` (not checked: this is the per-person path).
    """
    if len(indices) != len(shape):
        raise ValueError(f"{len(indices)} index arrays for a table with {len(shape)} axes")
    size = int(np.prod(shape))
    dtype = np.int16 if size <= np.iinfo(np.int16).max else np.int32 if size <= np.iinfo(np.int32).max else np.int64
    codes = np.asarray(indices[0]).astype(dtype)
    for index, length in zip(indices[1:], shape[1:]):
        codes *= length
        codes += index
    return codes


def per_person(table: np.ndarray, *indices: np.ndarray) -> np.ndarray:
    """``table[indices[0], indices[1], …]`` for every person, through one flat cell code."""
    table = np.asarray(table)
    return table.ravel()[cell_codes(table.shape, *indices)]


def persons_per_cell(shape: tuple[int, ...], *indices: np.ndarray) -> np.ndarray:
    """Count of persons in each cell of a table of ``shape`` (int64)."""
    return np.bincount(cell_codes(shape, *indices), minlength=int(np.prod(shape))).reshape(shape)
