"""Common random numbers: uniform draws keyed by agent, year and purpose.

A policy effect is read as the difference between a run with the lever and the baseline run
with the same seed. Drawing from one sequential generator would make the two runs diverge as
soon as a single agent differs (every later draw shifts). Here each draw is a hash of
(seed, year, purpose, agent id) (SplitMix64), so the same person gets the same draw for the
same decision in both runs, whatever else differs, and the paired difference keeps only the
policy's effect and its consequences.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


class Purpose(IntEnum):
    """One stream per kind of decision, so draws for different decisions are independent."""

    DEATH = 1
    BIRTH = 2
    NEWBORN_SEX = 3
    NEWBORN_ID = 4
    LEAVE = 5
    DESTINATION = 6
    SEPARATION = 7
    HIRING = 8
    ENROLMENT = 9
    PROGRAMME = 10
    PARTICIPATION = 11
    FIRM_EXIT = 12
    INNOVATION = 13
    COMMUTE_HIRING = 14
    INTERNATIONAL = 15
    LAYOFF = 16
    JOB_ASSIGNMENT = 17
    COLLABORATION = 18
    ENTRY = 19


def yearly_generator(seed: int, year: int, purpose: Purpose) -> np.random.Generator:
    """A generator for one purpose in one year: its draws do not depend on how many numbers other
    purposes or earlier years consumed (for draws that are not about one identified agent)."""
    return np.random.default_rng([seed, year, int(purpose)])


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser on uint64 arrays (wrapping arithmetic); ``x`` is left unchanged."""
    return _splitmix64_in_place(np.array(x, dtype=np.uint64))


def _splitmix64_in_place(z: np.ndarray) -> np.ndarray:
    """SplitMix64 computed in ``z`` itself with one scratch array: at 50 million persons each temporary
    is 400 MB, and the keyed draws of a year are a sixth of the model's time."""
    np.add(z, _GOLDEN, out=z)
    shifted = np.empty_like(z)
    for shift, multiplier in ((30, _MIX1), (27, _MIX2), (31, None)):
        np.right_shift(z, np.uint64(shift), out=shifted)
        np.bitwise_xor(z, shifted, out=z)
        if multiplier is not None:
            np.multiply(z, multiplier, out=z)
    return z


class CommonRandomNumbers:
    """Keyed uniform draws for one seed."""

    def __init__(self, seed: int) -> None:
        self._key = splitmix64(np.array([seed], dtype=np.uint64))[0]

    def hashes(self, uid: np.ndarray, year: int, purpose: Purpose) -> np.ndarray:
        """64-bit hashes of (seed, year, purpose, uid)."""
        salt = splitmix64(np.array([self._key ^ np.uint64(year * 1_000_003 + int(purpose))], dtype=np.uint64))[0]
        return _splitmix64_in_place(np.bitwise_xor(np.asarray(uid, dtype=np.uint64), salt))

    def uniforms(self, uid: np.ndarray, year: int, purpose: Purpose) -> np.ndarray:
        """Uniform [0, 1) draws, one per ``uid``, fixed by (seed, year, purpose, uid)."""
        bits = self.hashes(uid, year, purpose)
        np.right_shift(bits, np.uint64(11), out=bits)
        draws = bits.astype(np.float64)
        draws *= 1.0 / 2**53
        return draws

    def stream(self, uid: np.ndarray, year: int, purpose: Purpose) -> KeyedStream:
        """An object with ``random(n)`` returning these draws, for mechanisms written against a Generator."""
        return KeyedStream(self.uniforms(uid, year, purpose))


class KeyedStream:
    """Pre-computed keyed draws served through the ``Generator.random`` call a mechanism makes once."""

    def __init__(self, values: np.ndarray) -> None:
        self._values = values

    def random(self, size: int | None = None, dtype=np.float64) -> np.ndarray:
        if size != len(self._values):
            raise ValueError(f"keyed stream holds {len(self._values)} draws, {size} requested")
        return self._values.astype(dtype, copy=False)


def poisson_from_uniform(u: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Poisson draws by inversion of the CDF at the given uniforms (so a keyed uniform gives a keyed count)."""
    mean = np.asarray(mean, dtype=float)
    count = np.zeros(len(u), dtype=np.int64)
    probability = np.exp(-mean)
    cumulative = probability.copy()
    pending = np.flatnonzero(u > cumulative)
    while pending.size:
        count[pending] += 1
        probability[pending] *= mean[pending] / count[pending]
        cumulative[pending] += probability[pending]
        pending = pending[(u[pending] > cumulative[pending]) & (probability[pending] > 0)]
    return count
