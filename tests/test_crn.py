"""Common random numbers (sim.model.crn): keyed uniforms, derived identities, salts, keyed choices and counts.

Every check here is deterministic (the draws are keyed, not sequential), so a statistical tolerance
either always passes or always fails; tolerances are a few standard errors.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from sim.model.crn import (
    HASH_CHUNK,
    POISSON_WALK_MEAN,
    CommonRandomNumbers,
    Purpose,
    identities,
    label_salt,
    poisson_from_uniform,
    rounded_count,
    smallest_keys,
    splitmix64,
)

LARGEST_UNIFORM = 1.0 - 2.0**-53
"""The largest value ``CommonRandomNumbers.uniforms`` can return ((2^53 − 1) / 2^53)."""


def uids(n: int, start: int = 0) -> np.ndarray:
    return np.arange(start, start + n, dtype=np.uint64)


# --- CommonRandomNumbers.uniforms -------------------------------------------------------------------


def test_uniforms_lie_in_unit_interval_including_derived_identities():
    crn = CommonRandomNumbers(3)
    for uid in (uids(500_000), identities(11, uids(500_000)), np.array([0, 2**64 - 1], dtype=np.uint64)):
        u = crn.uniforms(uid, 2024, Purpose.DEATH)
        assert u.dtype == np.float64 and u.shape == uid.shape
        assert u.min() >= 0.0 and u.max() < 1.0


def test_uniforms_same_key_same_value_in_any_call_order_or_subset():
    crn = CommonRandomNumbers(42)
    everyone = uids(1000)
    reference = crn.uniforms(everyone, 2030, Purpose.HIRING)
    rng = np.random.default_rng(0)
    for _ in range(5):
        subset = rng.choice(1000, size=137, replace=False)  # a shuffled subset of the agents
        again = crn.uniforms(everyone[subset], 2030, Purpose.HIRING)
        np.testing.assert_array_equal(again, reference[subset])  # bit-identical: the point of keyed draws
    # other draws in between (other years, purposes) do not shift this stream; a fresh object agrees too
    crn.uniforms(everyone, 2031, Purpose.HIRING)
    crn.uniforms(everyone, 2030, Purpose.DEATH)
    np.testing.assert_array_equal(crn.uniforms(everyone[::-1], 2030, Purpose.HIRING), reference[::-1])
    np.testing.assert_array_equal(CommonRandomNumbers(42).uniforms(everyone, 2030, Purpose.HIRING), reference)
    # a single agent alone gets the same draw as in the crowd
    assert CommonRandomNumbers(42).uniforms(np.array([517], np.uint64), 2030, Purpose.HIRING)[0] == reference[517]


def test_uniforms_differ_across_seed_year_purpose_and_salt():
    everyone = uids(10_000)
    base = CommonRandomNumbers(1).uniforms(everyone, 2024, Purpose.GRANT)
    variants = {
        "seed": CommonRandomNumbers(2).uniforms(everyone, 2024, Purpose.GRANT),
        "year": CommonRandomNumbers(1).uniforms(everyone, 2025, Purpose.GRANT),
        "purpose": CommonRandomNumbers(1).uniforms(everyone, 2024, Purpose.INNOVATION),
        "salt": CommonRandomNumbers(1).uniforms(everyone, 2024, Purpose.GRANT, salt=label_salt("lever A")),
        "other salt": CommonRandomNumbers(1).uniforms(everyone, 2024, Purpose.GRANT, salt=label_salt("lever B")),
    }
    for name, other in variants.items():
        assert np.mean(other == base) < 1e-3, name  # (almost) no shared values
        # independent streams: correlation within 4 standard errors (1/sqrt(n) = 0.01) of zero
        assert abs(np.corrcoef(base, other)[0, 1]) < 0.04, name
    assert np.mean(variants["salt"] == variants["other salt"]) < 1e-3
    # salt 0 is the unsalted stream
    np.testing.assert_array_equal(CommonRandomNumbers(1).uniforms(everyone, 2024, Purpose.GRANT, salt=0), base)


def test_uniforms_roughly_uniform():
    """100 000 draws: mean 1/2 with standard error sqrt(1/12/n) = 0.000913; variance 1/12 with standard
    error sqrt(Var((U−½)²)/n) = sqrt((1/80 − 1/144)/n) = sqrt(1/180/n) = 0.000236; 4 standard errors
    allowed. Ten equal bins: chi-square with 9 degrees of freedom below its 0.9999 quantile (33.7)."""
    n = 100_000
    crn = CommonRandomNumbers(2024)
    for uid in (uids(n), identities(5, uids(n))):  # consecutive and derived identities
        u = crn.uniforms(uid, 2040, Purpose.BIRTH)
        assert u.mean() == pytest.approx(0.5, abs=4 * 0.000913)
        assert u.var() == pytest.approx(1 / 12, abs=4 * 0.000236)
        counts = np.bincount((u * 10).astype(int), minlength=10)
        assert ((counts - n / 10) ** 2 / (n / 10)).sum() < stats.chi2.ppf(0.9999, 9)


def test_stream_serves_the_keyed_draws_once():
    crn = CommonRandomNumbers(9)
    stream = crn.stream(uids(4), 2024, Purpose.LEAVE)
    np.testing.assert_array_equal(stream.random(4), crn.uniforms(uids(4), 2024, Purpose.LEAVE))
    with pytest.raises(ValueError):
        stream.random(5)


def test_same_seed_same_numbers_in_a_fresh_process():
    """'The same seed gives the same numbers in any process': a subprocess (with another hash seed)
    prints the draws and the salt; they match this process bit for bit."""
    code = (
        "import numpy as np\n"
        "from sim.model.crn import CommonRandomNumbers, Purpose, identities, label_salt\n"
        "crn = CommonRandomNumbers(20240607)\n"
        "u = crn.uniforms(np.arange(50, dtype=np.uint64), 2031, Purpose.DESTINATION)\n"
        "s = crn.uniforms(identities(3, np.arange(50, dtype=np.uint64)), 2031, Purpose.GRANT, salt=label_salt('grant'))\n"
        "print(','.join(x.hex() for x in u.tolist()))\n"
        "print(','.join(x.hex() for x in s.tolist()))\n"
        "print(label_salt('grant'))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env, cwd=root, check=True)
    lines = result.stdout.split()
    crn = CommonRandomNumbers(20240607)
    here = crn.uniforms(np.arange(50, dtype=np.uint64), 2031, Purpose.DESTINATION)
    salted = crn.uniforms(identities(3, np.arange(50, dtype=np.uint64)), 2031, Purpose.GRANT, salt=label_salt("grant"))
    assert lines[0] == ",".join(x.hex() for x in here.tolist())
    assert lines[1] == ",".join(x.hex() for x in salted.tolist())
    assert int(lines[2]) == label_salt("grant")


def test_uniforms_pinned_values():
    """The draws of a seed must never change across versions (stored runs, paired comparisons): values
    observed once for seed 7, year 2024, GRANT, uids 0..4."""
    observed = [0.36638143993473815, 0.45653712904580157, 0.1355752247800165, 0.5544120138968094, 0.6102836388733305]
    np.testing.assert_array_equal(CommonRandomNumbers(7).uniforms(uids(5), 2024, Purpose.GRANT), observed)


# --- identities -------------------------------------------------------------------------------------


def test_identities_deterministic_and_order_matters():
    assert identities(1, 2, 3).tolist() == identities(1, 2, 3).tolist()
    assert identities(np.uint64(1), np.array([2]), 3).tolist() == identities(1, 2, 3).tolist()  # type of the parts
    assert identities(1, 2)[0] != identities(2, 1)[0]
    assert identities(1, 2, 3)[0] != identities(3, 2, 1)[0]
    assert identities(1, 2)[0] != identities(1, 2, 0)[0]  # one more (zero) part is another identity
    assert identities(7).dtype == np.uint64


def test_identities_broadcast():
    row = identities(5, np.arange(4))
    assert row.shape == (4,)
    assert row.tolist() == [identities(5, i)[0] for i in range(4)]
    grid = identities(np.arange(3)[:, None], 9, np.arange(4)[None, :])
    assert grid.shape == (3, 4)
    assert grid[2, 1] == identities(2, 9, 1)[0]
    assert grid[0, 3] == identities(0, 9, 3)[0]


def test_identities_no_collisions_among_a_million():
    def distinct(values: np.ndarray) -> int:
        ordered = np.sort(values.ravel())
        return 1 + int(np.count_nonzero(np.diff(ordered)))

    one_part = identities(7, np.arange(1_000_000))
    assert distinct(one_part) == 1_000_000
    pairs = identities(np.arange(1000)[:, None], np.arange(1000)[None, :])  # (a, b) and (b, a) both present
    assert distinct(pairs) == 1_000_000
    # and the derived identities do not land on a start population numbered 0…N−1
    assert np.count_nonzero(one_part < np.uint64(1_000_000)) == 0


# --- label_salt -------------------------------------------------------------------------------------


def test_label_salt_is_stable_across_versions():
    """Values observed once (blake2b-64 of the UTF-8 label, shifted right by 2): a lever's grant lottery
    must draw the same numbers in every version and process."""
    assert label_salt("grant") == 1158515843833131820
    assert label_salt("rd_grants") == 4023852852345774276
    assert label_salt("") == 3255150753318709689
    assert label_salt("grant") == label_salt("gr" + "ant")


def test_label_salt_differs_by_label_and_fits_62_bits():
    labels = ["grant", "Grant", "grant ", "rd_grants", "korea_business", "kosen", "meister", "연구"]
    salts = [label_salt(label) for label in labels]
    assert len(set(salts)) == len(labels)
    assert all(0 <= s < 2**62 for s in salts)


# --- smallest_keys ----------------------------------------------------------------------------------


def test_smallest_keys_hand_case_order_and_ties():
    # equal uniforms 0.5: clocks −ln(0.5)/w = 0.693/1, 0.693/2, 0.693/3 → heaviest first
    assert smallest_keys(np.array([0.5, 0.5, 0.5]), np.array([1.0, 2.0, 3.0]), 3).tolist() == [2, 1, 0]
    # clocks: −ln(1−0.1)/1 = 0.105, −ln(1−0.9)/10 = 0.230, −ln(1−0.2)/1 = 0.223 → [0, 2] for k = 2
    assert smallest_keys(np.array([0.1, 0.9, 0.2]), np.array([1.0, 10.0, 1.0]), 2).tolist() == [0, 2]
    # equal clocks: lower index first
    assert smallest_keys(np.array([0.3, 0.3, 0.3]), np.ones(3), 2).tolist() == [0, 1]
    # k ≤ 0 or nobody eligible: nothing
    assert smallest_keys(np.array([0.3, 0.4]), np.ones(2), 0).tolist() == []
    assert smallest_keys(np.array([0.3, 0.4]), np.zeros(2), 2).tolist() == []


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_smallest_keys_distinct_never_zero_weight_and_prefix_property():
    rng = np.random.default_rng(5)
    for _ in range(200):
        n = rng.integers(1, 40)
        u = rng.random(n)
        w = np.where(rng.random(n) < 0.3, 0.0, rng.uniform(0.1, 5.0, n))
        eligible = int((w > 0).sum())
        full = smallest_keys(u, w, n + 5)
        assert len(full) == eligible
        for k in range(0, n + 2):
            chosen = smallest_keys(u, w, k)
            assert len(chosen) == min(k, eligible)
            assert len(set(chosen.tolist())) == len(chosen)
            assert np.all(w[chosen] > 0)
            np.testing.assert_array_equal(chosen, full[: len(chosen)])  # larger k: superset, same order prefix


def test_smallest_keys_one_more_candidate_displaces_at_most_one():
    rng = np.random.default_rng(6)
    for _ in range(500):
        n = rng.integers(1, 30)
        k = rng.integers(1, n + 1)
        u, w = rng.random(n + 1), rng.uniform(0.1, 3.0, n + 1)
        before = set(smallest_keys(u[:n], w[:n], k).tolist())
        after = set(smallest_keys(u, w, k).tolist())
        assert len(before - after) <= 1
        assert after - before <= {n}  # only the newcomer can enter
        assert len(after) == len(before)


def test_smallest_keys_inclusion_proportional_to_weight():
    """k = 1 over 30 000 independent keyed uniform vectors, weights 1, 2, 3: chosen with probability
    1/6, 2/6, 3/6 (standard error at most sqrt(0.25/30000) = 0.0029; 4 allowed → 0.012)."""
    trials = 30_000
    crn = CommonRandomNumbers(11)
    u = crn.uniforms(identities(np.arange(trials)[:, None], np.arange(3)[None, :]), 2024, Purpose.GRANT)
    w = np.array([1.0, 2.0, 3.0])
    first = np.array([smallest_keys(row, w, 1)[0] for row in u])
    frequency = np.bincount(first, minlength=3) / trials
    assert frequency == pytest.approx([1 / 6, 2 / 6, 3 / 6], abs=0.012)


# --- rounded_count ----------------------------------------------------------------------------------


def test_rounded_count_hand_cases():
    # floor(2.3 + 0.6) = floor(2.9) = 2; floor(2.3 + 0.8) = floor(3.1) = 3; floor(2.3 + 0.7) = floor(3.0) = 3
    assert rounded_count(np.array([0.6, 0.8, 0.0, 0.7]), np.array([2.3, 2.3, 2.3, 2.3])).tolist() == [2, 3, 2, 3]
    assert rounded_count(np.array([0.999, 0.0]), np.array([0.0, 0.0])).tolist() == [0, 0]
    assert rounded_count(np.array([0.2]), 5.0).dtype == np.int64


def test_rounded_count_mean_equals_expected_and_monotone():
    u = (np.arange(10_000) + 0.5) / 10_000  # an even grid over [0, 1): the mean is exact up to 1/10 000
    for expected in (0.0, 0.37, 1.75, 2.3, 10.0, 123.456):
        counts = rounded_count(u, np.full(len(u), expected))
        assert counts.mean() == pytest.approx(expected, abs=1e-4)
        assert np.all(np.abs(counts - expected) < 1.0)  # at most one away (strictly less)
    grid = np.linspace(0, 20, 2001)
    for ui in (0.0, 0.13, 0.5, 0.99):
        assert np.all(np.diff(rounded_count(np.full(len(grid), ui), grid)) >= 0)  # monotone in expected


def test_rounded_count_integer_expectation_for_the_largest_uniforms():
    u = np.array([LARGEST_UNIFORM, 1.0 - 2.0**-51, 0.5])
    assert rounded_count(u, np.full(3, 10.0)).tolist() == [10, 10, 10]


# --- poisson_from_uniform ---------------------------------------------------------------------------


def test_poisson_hand_cases():
    # mean 1: P(0) = e⁻¹ = 0.368, P(≤1) = 0.736, P(≤2) = 0.920 → u 0.3 → 0, 0.5 → 1, 0.9 → 2, 0.95 → 3
    assert poisson_from_uniform(np.array([0.3, 0.5, 0.9, 0.95]), 1.0).tolist() == [0, 1, 2, 3]
    # mean 2: P(≤0..3) = 0.135, 0.406, 0.677, 0.857 → u 0.7 → 3, 0.1 → 0, 0.4 → 1
    assert poisson_from_uniform(np.array([0.7, 0.1, 0.4]), np.array([2.0, 2.0, 2.0])).tolist() == [3, 0, 1]


def test_poisson_zero_mean_gives_zero():
    u = np.array([0.0, 0.3, 0.999999, LARGEST_UNIFORM])
    assert poisson_from_uniform(u, np.zeros(4)).tolist() == [0, 0, 0, 0]
    assert poisson_from_uniform(np.zeros(0), np.zeros(0)).tolist() == []


@pytest.mark.parametrize("mean", [0.05, 0.7, 3.0, 12.5, 29.99, POISSON_WALK_MEAN, 30.01, 150.0, 744.0, 746.0, 800.0, 5000.0])
def test_poisson_equals_scipy_ppf(mean):
    """Inversion at 20 000 keyed uniforms equals scipy's quantile, on both sides of the walk/scipy switch
    (30) and past 745, where exp(−mean) underflows to 0."""
    u = CommonRandomNumbers(4).uniforms(uids(20_000), 2024, Purpose.ENTRY)
    u = np.concatenate((u, [1e-300, 1e-12, 0.5, 1 - 1e-12]))
    count = poisson_from_uniform(u, np.full(len(u), mean))
    assert count.dtype == np.int64
    np.testing.assert_array_equal(count, stats.poisson.ppf(u, mean).astype(np.int64))
    assert count.mean() == pytest.approx(mean, abs=4 * np.sqrt(mean / 20_000) + 1e-3)


def test_poisson_mixed_means_in_one_call_match_one_by_one():
    u = CommonRandomNumbers(8).uniforms(uids(9), 2024, Purpose.ENTRY)
    means = np.array([0.0, 1.0, 29.0, 31.0, 1000.0, 0.5, 30.0, 760.0, 2.0])
    together = poisson_from_uniform(u, means)
    alone = [poisson_from_uniform(u[i : i + 1], means[i : i + 1])[0] for i in range(9)]
    assert together.tolist() == alone
    assert together.tolist() == stats.poisson.ppf(u, means).astype(int).tolist()


def test_poisson_monotone_in_mean_at_fixed_uniform():
    u = CommonRandomNumbers(12).uniforms(uids(300), 2024, Purpose.ENTRY)
    previous = np.zeros(len(u), np.int64)
    for mean in np.concatenate((np.linspace(0, 40, 401), np.linspace(700, 800, 51))):
        count = poisson_from_uniform(u, np.full(len(u), mean))
        assert np.all(count >= previous), mean
        previous = count


def test_poisson_count_at_zero_uniform_is_zero_for_every_mean():
    means = np.array([1.0, 30.0, 30.5, 800.0])
    assert poisson_from_uniform(np.zeros(4), means).tolist() == [0, 0, 0, 0]


def test_splitmix64_in_chunks_equals_one_value_at_a_time():
    """The finaliser runs HASH_CHUNK identities per pass: arrays longer than a chunk, and 2-D arrays in
    either memory order, hash element by element exactly as single values (0 → the published
    0xE220A8397B1DCDAF, SplitMix64's first output from state 0)."""
    values = np.arange(2 * HASH_CHUNK + 3, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    one_by_one = np.array([splitmix64(np.array([v], dtype=np.uint64))[0] for v in values[:: HASH_CHUNK // 2]])
    np.testing.assert_array_equal(splitmix64(values)[:: HASH_CHUNK // 2], one_by_one)
    assert splitmix64(np.zeros(HASH_CHUNK + 1, np.uint64))[-1] == np.uint64(0xE220A8397B1DCDAF)
    grid = values[:12].reshape(3, 4)
    np.testing.assert_array_equal(splitmix64(np.asfortranarray(grid)), splitmix64(grid))
    np.testing.assert_array_equal(splitmix64(grid).ravel(), splitmix64(values[:12]))


def test_uniforms_are_the_top_53_bits_of_the_hashes():
    """A uniform is hash >> 11 over 2^53, over more than one chunk and whatever was drawn before (the
    stream's salt is kept between calls)."""
    crn = CommonRandomNumbers(3)
    uid = np.arange(HASH_CHUNK + 10, dtype=np.uint64) * np.uint64(977)
    crn.uniforms(uid[:5], 2031, Purpose.DEATH)  # the salt of (2031, DEATH) is now kept
    expected = (crn.hashes(uid, 2031, Purpose.DEATH) >> np.uint64(11)).astype(np.float64) / 2.0**53
    np.testing.assert_array_equal(crn.uniforms(uid, 2031, Purpose.DEATH), expected)
    np.testing.assert_array_equal(CommonRandomNumbers(3).uniforms(uid, 2031, Purpose.DEATH), expected)
    assert crn.uniforms(uid, 2031, Purpose.DEATH).dtype == np.float64
