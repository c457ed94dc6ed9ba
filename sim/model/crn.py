"""Common random numbers: uniform draws keyed by agent, year and purpose.

A policy effect is read as the difference between a run with the lever and the baseline run
with the same seed. Drawing from one sequential generator would make the two runs diverge as
soon as a single agent differs (every later draw shifts). Here each draw is a hash of
(seed, year, purpose, agent id) (SplitMix64), so the same person gets the same draw for the
same decision in both runs, whatever else differs, and the paired difference keeps only the
policy's effect and its consequences. Counts come from keyed uniforms too (``rounded_count``,
``poisson_from_uniform``), and choices among candidates take the lowest keyed draws
(``smallest_keys``, ``lowest_in_groups``), so one more candidate changes at most one choice.
"""

from __future__ import annotations

import hashlib
from enum import IntEnum

import numpy as np
from scipy import stats

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
    ENTRY = 19
    ENTRY_RD = 21
    ROUNDING = 22
    EMIGRATION = 25
    ARRIVAL_EDUCATION = 26
    REMOTE_WORK = 27
    GRANT = 28
    INNOVATING = 29
    JOB_SLOT = 30
    CLOSURE_JOB_LOSS = 31
    VACANCY_FILL = 32
    HIRES = 33
    SEPARATIONS = 34
    CLOSURE_JOB_LOSSES = 35
    MUNICIPAL_DESTINATION = 40
    MUNICIPAL_LEAVE = 41
    MUNICIPAL_MOVE_DESTINATION = 42
    ARRIVAL_MUNICIPALITY = 43


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser on uint64 arrays (wrapping arithmetic); ``x`` is left unchanged."""
    return _splitmix64_in_place(np.array(x, dtype=np.uint64))


HASH_CHUNK = 1 << 15
"""Identities hashed per pass (256 KB of uint64, which stays in a core's cache through the nine
operations of the finaliser and the conversion to a uniform): about five times faster than
whole-array passes at 1:100, where the keyed draws were a sixth of the model's time."""


def _splitmix64_in_place(z: np.ndarray, to_unit: bool = False) -> np.ndarray:
    """SplitMix64 computed in ``z`` itself (a contiguous uint64 array), ``HASH_CHUNK`` identities at a
    time with one small scratch array: no temporary the size of ``z`` (400 MB at 50 million persons).
    With ``to_unit``, each hash is then replaced by the uniform in [0, 1) of its top 53 bits, and ``z``
    is returned as float64 (the same memory)."""
    flat = z.ravel(order="K")  # a view: every caller passes a new, contiguous array
    shifted = np.empty(min(flat.size, HASH_CHUNK), dtype=np.uint64)
    for start in range(0, flat.size, HASH_CHUNK):
        part = flat[start : start + HASH_CHUNK]
        scratch = shifted[: part.size]
        np.add(part, _GOLDEN, out=part)
        for shift, multiplier in ((30, _MIX1), (27, _MIX2), (31, None)):
            np.right_shift(part, np.uint64(shift), out=scratch)
            np.bitwise_xor(part, scratch, out=part)
            if multiplier is not None:
                np.multiply(part, multiplier, out=part)
        if to_unit:
            np.right_shift(part, np.uint64(11), out=scratch)
            np.multiply(scratch, 1.0 / 2**53, out=part.view(np.float64))  # exact: below 2^53 times a power of 2
    return z.view(np.float64) if to_unit else z


class CommonRandomNumbers:
    """Keyed uniform draws for one seed."""

    def __init__(self, seed: int) -> None:
        self._key = splitmix64(np.array([seed], dtype=np.uint64))[0]
        self._salts: dict[tuple[int, int], np.uint64] = {}

    def _salt(self, year: int, purpose: Purpose) -> np.uint64:
        """The hash of (seed, year, purpose) that keys one stream (kept: a year asks for it many times)."""
        key = (year, int(purpose))
        if key not in self._salts:
            self._salts[key] = splitmix64(np.array([self._key ^ np.uint64(year * 1_000_003 + int(purpose))], dtype=np.uint64))[0]
        return self._salts[key]

    def hashes(self, uid: np.ndarray, year: int, purpose: Purpose) -> np.ndarray:
        """64-bit hashes of (seed, year, purpose, uid)."""
        return _splitmix64_in_place(np.bitwise_xor(np.asarray(uid, dtype=np.uint64), self._salt(year, purpose)))

    def uniforms(self, uid: np.ndarray, year: int, purpose: Purpose, salt: int = 0) -> np.ndarray:
        """Uniform [0, 1) draws, one per ``uid``, fixed by (seed, year, purpose, uid): the top 53 bits of
        its hash over 2⁵³; ``salt`` separates streams of one purpose (e.g. one grant lottery per lever)."""
        uid = np.asarray(uid, np.uint64) if salt == 0 else identities(np.asarray(uid, np.uint64), salt)
        return _splitmix64_in_place(np.bitwise_xor(uid, self._salt(year, purpose)), to_unit=True)

    def stream(self, uid: np.ndarray, year: int, purpose: Purpose) -> KeyedStream:
        """An object with ``random(n)`` returning these draws, for mechanisms written against a Generator."""
        return KeyedStream(self.uniforms(uid, year, purpose))


class KeyedStream:
    """Pre-computed keyed draws served through the ``Generator.random`` call a mechanism makes once."""

    def __init__(self, values: np.ndarray) -> None:
        self._values = values

    def random(self, size: int | None = None, dtype=np.float64) -> np.ndarray:
        """The keyed uniforms, as numpy's ``Generator.random`` would return draws (``size`` must match)."""
        if size != len(self._values):
            raise ValueError(f"keyed stream holds {len(self._values)} draws, {size} requested")
        return self._values.astype(dtype, copy=False)


def identities(*parts: np.ndarray | int) -> np.ndarray:
    """A 64-bit identity derived from integer keys (broadcast): the same keys always give the same
    identity, whatever else exists, so new agents (entrants, arrivals) get identities from what they
    are (parent, year, ordinal), never from a counter whose value depends on the run's history."""
    key = np.zeros(1, dtype=np.uint64)
    for part in parts:
        key = _splitmix64_in_place(np.bitwise_xor(key, np.asarray(part, dtype=np.uint64)))
    return key


def label_salt(label: str) -> int:
    """A stable 62-bit integer for a text label (e.g. a lever's), for ``CommonRandomNumbers.uniforms``."""
    return int.from_bytes(hashlib.blake2b(label.encode(), digest_size=8).digest(), "little") >> 2


def smallest_keys(uniform: np.ndarray, weight: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` candidates chosen by weighted sampling without replacement, in order of
    choice: the smallest exponential clocks −ln(u)/w (Efraimidis & Spirakis 2006). With keyed
    uniforms, adding a candidate displaces at most one chosen one, and a larger ``k`` chooses a
    superset. Candidates of zero weight are never chosen."""
    with np.errstate(divide="ignore"):
        clock = -np.log1p(-uniform) / weight
    chosen = np.flatnonzero(weight > 0)
    k = min(k, len(chosen))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k < len(chosen):
        chosen = chosen[np.argpartition(clock[chosen], k - 1)[:k]]
    return chosen[np.lexsort((chosen, clock[chosen]))]


def lowest_in_groups(uniform: np.ndarray, group: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Mask of the ``count[g]`` members of each group g with the lowest keyed ``uniform`` (in [0, 1)).

    Alignment, as in dynamic microsimulation: a group's events happen at an exact count (a market's
    hires, a firm's separations), and its members' own keyed draws decide who. The count then depends
    on the group alone, not on which members it has; adding or removing a member changes at most one
    other member's outcome, and a larger count chooses a superset. ``group``: indices into ``count``
    (one entry per group). Ties (draws within 2⁻³¹ of each other) go to the lower index.
    """
    group = np.asarray(group, np.int64)
    uniform = np.asarray(uniform, float)
    count = np.asarray(count)
    size = np.bincount(group, minlength=len(count))
    take = np.minimum(count, size)
    if not take.any() or (take == size).all():  # nobody, or everybody: no draw decides
        return np.full(len(group), take.any(), dtype=bool)
    # Only members below a generous cut can be among the lowest (the k-th lowest of n uniform draws is
    # near k/n); a group with too few members below it (rare) sorts all of them. Exact either way.
    cut = np.where(take > 0, (take + 4.0 * np.sqrt(take) + 4.0) / np.maximum(size, 1), 0.0)
    candidate = uniform < cut[group]
    short = np.bincount(group[candidate], minlength=len(count)) < take
    if short.any():
        candidate |= short[group]
    members = np.flatnonzero(candidate)
    key = (group[members] << 31) + (uniform[members] * (1 << 31)).astype(np.int64)  # exact order: group, then draw
    order = np.argsort(key)
    if (np.diff(key[order]) == 0).any():
        order = np.argsort(key, kind="stable")
    members = members[order]
    per_group = np.bincount(group[members], minlength=len(count))
    rank = np.arange(len(members)) - np.repeat(np.cumsum(per_group) - per_group, per_group)
    chosen = np.zeros(len(group), dtype=bool)
    chosen[members[rank < take[group[members]]]] = True
    return chosen


def rounded_count(u: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Whole counts floor(expected + u): equal to ``expected`` on average, never smaller for a larger
    ``expected`` at the same keyed uniform, and at most one away from it (the events of a cohort of
    identical establishments, such as closures, at their expected number)."""
    expected = np.asarray(expected, dtype=float)
    return np.minimum(np.floor(expected + u), np.ceil(expected)).astype(np.int64)  # 10.0 + (1 − 2⁻⁵³) rounds to 11.0


POISSON_WALK_MEAN = 30.0
"""Largest mean whose Poisson CDF is walked up from 0; larger means go through scipy (exp(−mean)
underflows past about 745, and the walk is slow long before)."""


def poisson_from_uniform(u: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Poisson draws by inversion of the CDF at the given uniforms (a keyed uniform gives a keyed count):
    the smallest k with P(X ≤ k) ≥ u, so a larger mean never gives a smaller count."""
    u = np.asarray(u, dtype=float)
    mean = np.broadcast_to(np.asarray(mean, dtype=float), u.shape)
    count = np.zeros(len(u), dtype=np.int64)
    large = np.flatnonzero(mean > POISSON_WALK_MEAN)
    if large.size:
        count[large] = np.maximum(stats.poisson.ppf(u[large], mean[large]), 0).astype(np.int64)  # ppf(0) is −1
    walk = np.flatnonzero(mean <= POISSON_WALK_MEAN)
    uu, mm = u[walk], mean[walk]
    k = np.zeros(len(walk), dtype=np.int64)
    probability = np.exp(-mm)
    cumulative = probability.copy()
    pending = np.flatnonzero(uu > cumulative)
    while pending.size:
        k[pending] += 1
        probability[pending] *= mm[pending] / k[pending]
        cumulative[pending] += probability[pending]
        pending = pending[(uu[pending] > cumulative[pending]) & (probability[pending] > 0)]
    count[walk] = k
    return count
