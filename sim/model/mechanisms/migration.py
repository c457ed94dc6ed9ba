"""Internal (inter-regional) migration of one simulated year: who moves, and where to.

Two stages. (1) Move: a person in region r aged a leaves r with probability ``move_prob[r, a]``, the
Rogers–Castro age schedule scaled so that each region loses its observed outflow rate. (2) Destination:
a mover from i picks j ≠ i with logit probabilities P_ij ∝ exp(V_ij) over the destination utility of
Klabunde & Willekens (2016), calibrated in ``sim/tools/build/migration.py``. Leaving also responds to
the origin's wages, chance of a job and job openings (``leave_factor``).

Pure, vectorised functions over agent arrays. Region = index 0..n_regions-1 in the order of the region
pack; age in completed years with ``MAX_AGE`` standing for "MAX_AGE and over". Probabilities are per
person per year. No function loops over persons in Python, so they scale to 50 million persons.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from sim.inputs.parameters import Migration
from sim.model.cells import per_person

MAX_AGE = 100
N_AGES = MAX_AGE + 1


def rogers_castro(age: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
    """Seven-parameter model migration schedule (Rogers & Castro 1981, IIASA RR-81-30).

    m(x) = a1·exp(−α1·x) + a2·exp(−α2·(x − μ2) − exp(−λ2·(x − μ2))) + c, with ``params`` keys
    a1, alpha1, a2, alpha2, mu2, lambda2, c (ages in years, α and λ per year). Returns the relative
    migration intensity by age (only its shape is used; see ``move_probability_table``).
    """
    x = np.asarray(age, dtype=float)
    childhood = params["a1"] * np.exp(-params["alpha1"] * x)
    shifted = x - params["mu2"]
    labour_force = params["a2"] * np.exp(-params["alpha2"] * shifted - np.exp(-params["lambda2"] * shifted))
    return childhood + labour_force + params["c"]


def move_probability_table(outflow_rate: np.ndarray, population_by_age: np.ndarray, schedule: np.ndarray) -> np.ndarray:
    """Probability of leaving the region within the year, by region × age (shape [n_regions, N_AGES]).

    Each origin's schedule is scaled by a factor k_r so that Σ_a population[r, a]·p[r, a] equals
    outflow_rate[r] × Σ_a population[r, a] (expected out-migrants, persons/year). Probabilities are
    capped at 1; capped ages are fixed at 1 and the rest rescaled until the target is met exactly.
    """
    population = np.asarray(population_by_age, dtype=float)
    shape = np.broadcast_to(np.asarray(schedule, dtype=float), population.shape)
    target = np.asarray(outflow_rate, dtype=float) * population.sum(axis=1)
    if np.any(target > population.sum(axis=1) * (1 + 1e-12)):
        raise ValueError("outflow_rate above 1: more expected movers than persons")
    capped = np.zeros(population.shape, dtype=bool)
    while True:  # each pass caps at least one more age or returns, so at most N_AGES + 1 passes
        free_mass = np.where(capped, 0.0, population * shape).sum(axis=1)
        remaining = target - np.where(capped, population, 0.0).sum(axis=1)
        scale = np.divide(remaining, free_mass, out=np.zeros_like(remaining), where=free_mass > 0)
        probability = np.where(capped, 1.0, scale[:, None] * shape)
        newly_capped = probability > 1.0
        if not newly_capped.any():
            return probability
        capped |= newly_capped


def destination_utility(
    constants: np.ndarray,
    log_distance: np.ndarray,
    log_ties: np.ndarray,
    weights: Migration,
    log_wage_ratio: np.ndarray,
    log_employment_ratio: np.ndarray,
    log_housing_ratio: np.ndarray,
    amenity: np.ndarray,
    log_population_ratio: np.ndarray | float = 0.0,
    log_openings_ratio: np.ndarray | None = None,
) -> np.ndarray:
    """Systematic utility V_ij (shape [n, n]) of moving from origin i to destination j.

    V_ij = α_j − b_d·ln d_ij + b_n·ln(1 + N_ij) + b_w·Δln w_j + b_e·Δln(1 − u_j) + b_o·Δ₁ln θ_j − b_h·Δln h_j + b_a·ΔA_j
           + b_s·Δln P_j
    (Klabunde & Willekens 2016 form, with the size term of an aggregate destination, McFadden 1978, and the
    year's new job openings Δ₁ln θ_j, the change since last year of labour demand per member of the expected
    labour force; without ``log_openings_ratio`` no openings term).
    ``constants`` α_j, ``log_distance`` ln km, ``log_ties`` ln(1 + persons); the destination terms (length n)
    are changes against the calibration base — ln(w_t / w_base), ln((1 − u_t) / (1 − u_base)), ln(h_t / h_base),
    the amenity index change and ln(P_t / P_base) of the population — so all-zero changes reproduce the fitted
    logit. ``weights`` is the ``migration`` parameter section (distance_elasticity = b_d, ties_elasticity = b_n,
    wage_weight = b_w, employment_weight = b_e, housing_cost_weight = b_h, amenity_weight = b_a,
    destination_population_elasticity = b_s). The diagonal is not used.
    With ``constants`` of shape [G, n] (one row α_gj per age group g) the result is V_gij, shape [G, n, n].
    """
    labour = weights.wage_weight * np.asarray(log_wage_ratio) + weights.employment_weight * np.asarray(log_employment_ratio)
    if log_openings_ratio is not None:
        labour = labour_utility(log_wage_ratio, log_employment_ratio, log_openings_ratio, weights)
    destination_shift = (
        labour
        - weights.housing_cost_weight * np.asarray(log_housing_ratio)
        + weights.amenity_weight * np.asarray(amenity)
        + weights.destination_population_elasticity * np.asarray(log_population_ratio)
    )
    return (
        (np.asarray(constants) + destination_shift)[..., None, :]
        - weights.distance_elasticity * np.asarray(log_distance)
        + weights.ties_elasticity * np.asarray(log_ties)
    )


def labour_utility(
    log_wage_ratio: np.ndarray, log_employment_ratio: np.ndarray, log_openings_ratio: np.ndarray, weights: Migration
) -> np.ndarray:
    """The labour-market part of a place's utility, b_w·Δln w + b_e·Δln(1 − u) + b_o·Δln θ: the wage and the
    chance of a job against the calibration base (expected income; Harris & Todaro 1970), and the year's
    new job openings (the change of θ, labour demand per member of the expected labour force, since last
    year: movers respond to openings when they appear, not to demographic drift of θ)."""
    return (
        weights.wage_weight * np.asarray(log_wage_ratio)
        + weights.employment_weight * np.asarray(log_employment_ratio)
        + weights.openings_weight * np.asarray(log_openings_ratio)
    )


def leave_factor(
    log_wage_ratio: np.ndarray, log_employment_ratio: np.ndarray, log_openings_ratio: np.ndarray, weights: Migration
) -> np.ndarray:
    """Factor on each origin's leaving probabilities: exp(−λ · labour utility of the origin), with
    λ = ``leave_labour_response``: better pay, a better chance of a job and more openings at home keep
    people, as they attract them as a destination (λ = 1 weighs them as the destination choice does)."""
    return np.exp(-weights.leave_labour_response * labour_utility(log_wage_ratio, log_employment_ratio, log_openings_ratio, weights))


def choice_probabilities(V: np.ndarray) -> np.ndarray:
    """Row-wise logit over destinations j ≠ i: P_ij = exp(V_ij) / Σ_{k≠i} exp(V_ik), P_ii = 0.

    ``V`` is [n, n] or a stack [G, n, n] of one utility matrix per age group (same rule per matrix).
    """
    utility = np.array(V, dtype=float)
    n = utility.shape[-1]
    utility[..., np.arange(n), np.arange(n)] = -np.inf
    utility -= utility.max(axis=-1, keepdims=True)
    weight = np.exp(utility)
    return weight / weight.sum(axis=-1, keepdims=True)


def draw_destinations(origin: np.ndarray, P: np.ndarray, rng: np.random.Generator, group: np.ndarray | None = None) -> np.ndarray:
    """Destination region of each mover (origin indices → destination indices), never the origin.

    ``P`` is [n, n], or [G, n, n] with ``group`` (age-group index 0..G−1 per mover) selecting the matrix.
    One uniform per mover, looked up with a single ``searchsorted`` in the rows of cumulative
    probabilities laid end to end (row r = g·n + i shifted by +r). Zero-probability destinations
    (including the origin itself) have zero-width intervals and cannot be drawn; a key that rounds onto
    the next row's start is pulled back to the last destination of its own row with positive probability.
    """
    origin = np.asarray(origin, dtype=np.int64)
    n = P.shape[-1]
    rows = P.reshape(-1, n)
    row = origin if group is None else np.asarray(group, dtype=np.int64) * n + origin
    cumulative = np.cumsum(rows, axis=1)
    cumulative /= cumulative[:, -1:]
    flat = (cumulative + np.arange(len(rows))[:, None]).ravel()
    last_positive = n - 1 - np.argmax(rows[:, ::-1] > 0, axis=1)
    key = row + rng.random(origin.size)
    index = np.searchsorted(flat, key, side="right")
    index = np.minimum(index, row * n + last_positive[row])
    return index - row * n


def draw_movers(region: np.ndarray, age: np.ndarray, move_prob: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of persons who leave their region this year (ages above MAX_AGE use MAX_AGE).

    Uses single-precision uniforms (resolution 6e-8, far below any move probability) to halve memory
    at 50 million persons.
    """
    probability = per_person(move_prob.astype(np.float32), region, np.minimum(age, MAX_AGE))
    return rng.random(probability.size, dtype=np.float32) < probability
