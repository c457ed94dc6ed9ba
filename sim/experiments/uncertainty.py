"""Policy comparison under parameter uncertainty: functions over tables, no model (SALib style).

A batch with ``uncertainties`` (``sim.experiments.batch``) gives every replicate r one seed and one point of the
uncertain parameters, the same for every scenario, so each replicate is a paired draw of the
world. These functions take the outcomes as a *wide* table (one row per replicate, one column per
scenario) and the draws as a table (one row per replicate, one column per parameter):

- ``draw_points``: the points, by Latin hypercube or scrambled Sobol sequence (scipy.stats.qmc),
  reproducible from a seed, mapped through a uniform, triangular or truncated-normal distribution
  on each parameter's range;
- ``win_probabilities``, ``rank_probabilities``, ``regret``, ``uncertainty_summary``,
  ``cost_effectiveness``: which scenario wins, how often, by how much it falls short of the best
  scenario of the same replicate, and what an outcome costs;
- ``discover``: PRIM scenario discovery (the ``prim`` package): the region of parameter space where
  a condition holds, as a peeling trajectory and a box of parameter ranges;
- ``evppi``: the expected value of partial perfect information of each parameter for a decision
  between scenarios, by the regression method of Strong, Oakley & Brennan (2014, Med Decis Making
  34(3):311-326): the net benefit of each decision is smoothed on one parameter, and EVPPI is the
  mean of the maximum of the smooths minus the maximum of their means. The smooth is a cubic
  regression spline from scipy (no GAM package: pygam is on the registry but adds a dependency for
  one smooth term, and scipy's GCV smoothing spline oversmoothed the known-answer case).

Ties between scenarios (identical values in a replicate, e.g. a lever that changes nothing) are
not wins: ``win_probabilities`` counts strict wins and ranks share the better (``min``) place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats
from scipy.interpolate import make_lsq_spline
from scipy.stats import qmc

DRAW_METHODS = ("latin_hypercube", "sobol")
DISTRIBUTIONS = ("uniform", "triangular", "normal")
LEVEL = 0.95
"""Coverage of every interval over replicates (percentiles of the draws; Wilson for probabilities)."""


# --- draws -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Marginal:
    """The distribution of one uncertain parameter on its range [low, high] (the parameter's unit).

    ``uniform``; ``triangular`` with ``mode``; ``normal`` with ``mean`` and ``sd``, truncated to the range.
    """

    low: float
    high: float
    distribution: Literal["uniform", "triangular", "normal"] = "uniform"
    mode: float | None = None
    mean: float | None = None
    sd: float | None = None

    def quantile(self, unit: np.ndarray) -> np.ndarray:
        """Values at the probabilities ``unit`` (in [0, 1))."""
        width = self.high - self.low
        if self.distribution == "triangular":
            c = (self.mode - self.low) / width
            return stats.triang.ppf(unit, c, loc=self.low, scale=width)
        if self.distribution == "normal":
            a, b = (self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd
            return stats.truncnorm.ppf(unit, a, b, loc=self.mean, scale=self.sd)
        return self.low + unit * width


def unit_sample(dimensions: int, count: int, seed: int, method: str = "latin_hypercube") -> np.ndarray:
    """``count`` points in the unit hypercube [0, 1)^dimensions: scipy's Latin hypercube or a
    scrambled Sobol sequence (``count`` a power of two), seeded with ``seed``."""
    rng = np.random.default_rng(seed)
    if method == "latin_hypercube":
        return qmc.LatinHypercube(d=dimensions, rng=rng).random(count)
    if method == "sobol":
        if count & (count - 1):
            raise ValueError(f"a Sobol sequence needs a power of two points, found {count}")
        return qmc.Sobol(d=dimensions, scramble=True, rng=rng).random_base2(int(np.log2(count)))
    raise ValueError(f"method: expected one of {', '.join(DRAW_METHODS)}, found {method!r}")


def draw_points(marginals: dict[str, Marginal], count: int, seed: int, method: str = "latin_hypercube") -> pd.DataFrame:
    """One row per draw (``draw`` 0..count-1) and one column per parameter, in the order of ``marginals``."""
    unit = unit_sample(len(marginals), count, seed, method)
    table = pd.DataFrame({"draw": np.arange(count)})
    for j, (name, marginal) in enumerate(marginals.items()):
        table[name] = marginal.quantile(unit[:, j])
    return table


# --- comparison ----------------------------------------------------------------------------------
def _oriented(wide: pd.DataFrame, maximize: bool) -> np.ndarray:
    values = wide.to_numpy(float)
    return values if maximize else -values


def win_probabilities(wide: pd.DataFrame, maximize: bool = True) -> pd.DataFrame:
    """P(row scenario strictly beats column scenario) over the replicates (rows of ``wide``)."""
    values = _oriented(wide, maximize)
    wins = (values[:, :, None] > values[:, None, :]).mean(axis=0)
    return pd.DataFrame(wins, index=wide.columns, columns=wide.columns)


def ranks(wide: pd.DataFrame, maximize: bool = True) -> pd.DataFrame:
    """Each scenario's rank in each replicate (1 = best; ties share the better place)."""
    values = _oriented(wide, maximize)
    ranked = stats.rankdata(-values, axis=1, method="min")
    return pd.DataFrame(ranked.astype(int), index=wide.index, columns=wide.columns)


def rank_probabilities(wide: pd.DataFrame, maximize: bool = True) -> pd.DataFrame:
    """P(scenario has rank k) for k = 1..scenarios (rows: scenarios; columns: ranks)."""
    ranked = ranks(wide, maximize)
    places = range(1, wide.shape[1] + 1)
    return pd.DataFrame({k: (ranked == k).mean(axis=0) for k in places}, index=wide.columns)


def regret(wide: pd.DataFrame, maximize: bool = True) -> pd.DataFrame:
    """Per replicate, how far each scenario falls short of the best scenario of that replicate (≥ 0,
    in the outcome's unit)."""
    values = _oriented(wide, maximize)
    return pd.DataFrame(values.max(axis=1, keepdims=True) - values, index=wide.index, columns=wide.columns)


def proportion_interval(successes: int, trials: int, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval of a probability estimated from ``successes`` in ``trials`` replicates."""
    if trials == 0:
        return np.nan, np.nan
    interval = stats.binomtest(int(successes), int(trials)).proportion_ci(confidence_level=level, method="wilson")
    return float(interval.low), float(interval.high)


def percentile_interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The central ``level`` range of ``values`` over replicates (their spread under uncertainty)."""
    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    if not len(values):
        return np.nan, np.nan
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def uncertainty_summary(wide: pd.DataFrame, reference: str, maximize: bool = True) -> pd.DataFrame:
    """One row per scenario: the outcome's mean and central 95 % range over replicates; the
    probability (Wilson 95 % interval) of strictly beating the reference; the probability of being
    best and the expected rank; the regret's mean and 95th percentile."""
    n = len(wide)
    wins = win_probabilities(wide, maximize)
    ranked = ranks(wide, maximize)
    shortfall = regret(wide, maximize)
    rows = []
    for scenario in wide.columns:
        values = wide[scenario].to_numpy(float)
        low, high = percentile_interval(values)
        beats = round(wins.loc[scenario, reference] * n)
        p_low, p_high = proportion_interval(beats, n)
        rows.append(
            {
                "scenario": scenario,
                "replicates": n,
                "mean": float(values.mean()),
                "low": low,
                "high": high,
                "p_beats_reference": beats / n,
                "p_beats_reference_low": p_low,
                "p_beats_reference_high": p_high,
                "p_best": float((ranked[scenario] == 1).mean()),
                "expected_rank": float(ranked[scenario].mean()),
                "regret_mean": float(shortfall[scenario].mean()),
                "regret_p95": float(np.percentile(shortfall[scenario], 95)),
            }
        )
    return pd.DataFrame(rows)


def cost_effectiveness(effect: pd.DataFrame, spending_krw: pd.DataFrame) -> pd.DataFrame:
    """Effect per bn KRW of each scenario with spending (wide tables of the same shape): the ratio of
    the means over replicates, and the central 95 % range of the per-replicate ratio."""
    rows = []
    for scenario in effect.columns:
        spent = spending_krw[scenario].to_numpy(float) / 1e9
        gained = effect[scenario].to_numpy(float)
        if not (spent > 0).any():
            continue
        paid = spent > 0
        low, high = percentile_interval(gained[paid] / spent[paid])
        rows.append(
            {"scenario": scenario, "per_bn_krw": gained.mean() / spent.mean(), "low": low, "high": high, "spending_bn_krw": spent.mean()}
        )
    return pd.DataFrame(rows, columns=["scenario", "per_bn_krw", "low", "high", "spending_bn_krw"])


def robust_score(values: np.ndarray, statistic: str = "mean", quantile: float | None = None, maximize: bool = True) -> float:
    """One score of a decision from its values over replicates (draws and seeds): the ``mean``, the
    ``quantile`` (e.g. 0.1: the value it beats in 90 % of replicates when maximising), or the
    ``worst`` case (the minimum when maximising, the maximum when minimising)."""
    values = np.asarray(values, float)
    if statistic == "mean":
        return float(values.mean())
    if statistic == "worst":
        return float(values.min() if maximize else values.max())
    if statistic == "quantile":
        return float(np.quantile(values, quantile))
    raise ValueError(f"statistic: expected mean, quantile or worst, found {statistic!r}")


# --- scenario discovery --------------------------------------------------------------------------
@dataclass
class Discovery:
    """PRIM's result: the peeling trajectory (``coverage``, ``density``, ``mass``, ``res dim`` per
    box, the first the whole space), the chosen box's index, and that box as parameter ranges
    (``parameter``, ``low``, ``high``, ``restricted``: narrower than the draws' range, ``quasi_p``:
    the restriction's quasi-p value, a one-sided binomial test (Bryant & Lempert 2010); above
    about 0.05 the restriction may be chance; ``draws_low``, ``draws_high``: the draws' range)."""

    trajectory: pd.DataFrame
    chosen: int
    box: pd.DataFrame
    cases: int
    share: float
    """Replicates where the condition holds, and their share of all replicates."""

    @property
    def coverage(self) -> float:
        """Coverage of the chosen box: the share of the cases of interest inside it."""
        return float(self.trajectory.loc[self.chosen, "coverage"])

    @property
    def density(self) -> float:
        """Density of the chosen box: the share of the draws inside it that are cases of interest."""
        return float(self.trajectory.loc[self.chosen, "density"])


def discover(x: pd.DataFrame, condition: np.ndarray, min_coverage: float = 0.8, peel_alpha: float = 0.05) -> Discovery:
    """PRIM (Friedman & Fisher 1999, via the ``prim`` package) on the draws ``x`` (one column per
    parameter) for the replicates where ``condition`` holds. The chosen box is the densest of the
    trajectory with coverage ≥ ``min_coverage`` (the whole space if none is)."""
    import prim  # PRIM (0.2 s): only for discovery

    condition = np.asarray(condition, bool)
    if len(condition) != len(x):
        raise ValueError(f"condition has {len(condition)} values for {len(x)} draws")
    if not condition.any():
        raise ValueError("the condition holds in no replicate: nothing to discover")
    x = x.reset_index(drop=True).astype(float)
    finder = prim.Prim(x, condition.astype(float), threshold=0.5, threshold_type=">", peel_alpha=peel_alpha, paste_alpha=peel_alpha)
    found = finder.find_box()
    trajectory = found.peeling_trajectory.astype(float).reset_index(drop=True)
    eligible = trajectory[trajectory["coverage"] >= min_coverage - 1e-12]
    chosen = int(eligible["density"].idxmax()) if not eligible.empty else 0
    found.select(chosen)
    restricted = found.limits  # the chosen box's restricted parameters with their quasi-p values
    limits = found._box_lims[chosen]  # every parameter's limits (the package has no public accessor)
    box = pd.DataFrame(
        {
            "parameter": list(x.columns),
            "low": [float(limits[name][0]) for name in x.columns],
            "high": [float(limits[name][1]) for name in x.columns],
            "restricted": [name in restricted.index for name in x.columns],
            "quasi_p": [float(restricted.loc[name, "qp values"]) if name in restricted.index else np.nan for name in x.columns],
            "draws_low": [float(x[name].min()) for name in x.columns],
            "draws_high": [float(x[name].max()) for name in x.columns],
        }
    )
    return Discovery(trajectory=trajectory, chosen=chosen, box=box, cases=int(condition.sum()), share=float(condition.mean()))


# --- value of information ------------------------------------------------------------------------
def conditional_mean(parameter: np.ndarray, values: np.ndarray) -> np.ndarray:
    """E[values | parameter] at each replicate: a least-squares cubic regression spline in the
    parameter (scipy's ``make_lsq_spline``) with interior knots at quantiles of the parameter, one
    per 50 replicates beyond the first 50, at most 8 (a cubic polynomial below 100 replicates): the
    one-smooth-term regression of Strong et al. (2014) with its flexibility tied to the sample size."""
    parameter, values = np.asarray(parameter, float), np.asarray(values, float)
    order = np.argsort(parameter, kind="stable")
    x, y = parameter[order], values[order]
    distinct, groups = np.unique(x, return_inverse=True)
    if len(distinct) < 5:  # too few values for a cubic spline: the mean of each value
        fitted = (np.bincount(groups, weights=y) / np.bincount(groups))[groups]
        return fitted[np.argsort(order, kind="stable")]
    inner = int(np.clip(len(x) // 50 - 1, 0, min(8, len(distinct) - 4)))
    knots = np.unique(np.quantile(x, np.linspace(0, 1, inner + 2)[1:-1]))
    knots = knots[(knots > x[0]) & (knots < x[-1])]
    spline = make_lsq_spline(x, y, np.r_[[x[0]] * 4, knots, [x[-1]] * 4], k=3)
    fitted = np.empty(len(x))
    fitted[order] = spline(x)
    return fitted


def evppi(net_benefit: pd.DataFrame, draws: pd.DataFrame) -> pd.Series:
    """EVPPI of each parameter (column of ``draws``) for the choice between the decisions (columns
    of ``net_benefit``, to be maximised; rows are the replicates of ``draws``), in the net benefit's
    unit: mean_r max_d ĝ_d(θ_r) − max_d mean_r ĝ_d(θ_r), with ĝ_d = ``conditional_mean`` of decision
    d's net benefit on the parameter. Never negative; at most the EVPI of all parameters and seeds."""
    values = net_benefit.to_numpy(float)
    out = {}
    for name in draws.columns:
        theta = draws[name].to_numpy(float)
        fitted = np.column_stack([conditional_mean(theta, values[:, d]) for d in range(values.shape[1])])
        value = float(fitted.max(axis=1).mean() - fitted.mean(axis=0).max())
        out[name] = value if value > 1e-9 * (np.abs(values).max() + 1.0) else 0.0  # rounding, not information
    return pd.Series(out, name="evppi")


def evpi(net_benefit: pd.DataFrame) -> float:
    """Expected value of perfect information over every replicate (parameters and seed together):
    mean of the best decision per replicate minus the best mean."""
    values = net_benefit.to_numpy(float)
    return float(values.max(axis=1).mean() - values.mean(axis=0).max())
