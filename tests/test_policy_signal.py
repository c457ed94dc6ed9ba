"""The policy signal: a lever's paired effect grows with its dose and is not drowned in noise.

Grants fund single establishments (projects) however many establishments a firm agent stands for,
so the money buys projects, R&D and labour demand in proportion to the budget, seed by seed; and
with every draw keyed by identity and the labour market's flows aligned to their expected counts,
the paired effects of the 2023 MSS plan have tight intervals over seeds (slow test, 20 seeds at 1:100).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.results.ledger import ALL
from sim.results.run import _resolve, run

BUDGETS = (2e9, 5e9, 10e9, 20e9)  # 10 to 100 projects: within Jeju's eligible establishments at 1:400
CAP = 2e8  # key_industry_rnd: KRW per establishment and year (seed 003 table)


def jeju_ledger(budget: float, seed: int, scale: int, until: int):
    scenario = _resolve("scenarios/rd_grant_jeju.yaml", scale=scale, end_year=until)
    lever = scenario.levers[0].model_copy(update={"budget_krw_per_year": budget})
    result = run(scenario.model_copy(update={"levers": [lever]}), seed=seed)
    ledger = result.ledger
    return ledger[(ledger["lever"] == ALL) & (ledger["region"] == "50")].set_index("year"), result


@pytest.mark.parametrize("seed", [0, 1])
def test_a_budget_sweep_buys_projects_rd_and_labour_demand_in_proportion(seed):
    """Jeju at 1:400, where a firm agent stands for up to 400 establishments: 2, 5, 10 and 20 bn KRW
    a year fund 10, 25, 50 and 100 projects in 2024, R&D rises, and the supported firms' labour
    demand never falls as the budget rises."""
    rows = [jeju_ledger(budget, seed, scale=400, until=2025) for budget in BUDGETS]
    supported = [ledger.loc[2024, "supported_establishments"] for ledger, _ in rows]
    assert supported == pytest.approx([b / CAP for b in BUDGETS])
    demand = [ledger.loc[2025, "gross_labour_demand"] for ledger, _ in rows]
    assert all(later >= earlier for earlier, later in zip(demand, demand[1:])), demand
    assert demand[-1] > 0
    for (ledger, result), budget in zip(rows, BUDGETS):
        assert ledger.loc[2024, "spending_krw"] == pytest.approx(budget)
        jeju = result.regions[(result.regions["region"] == "50") & (result.regions["year"] == 2024)]
        assert result.lever_spending["spending_krw"].sum() == pytest.approx(2 * budget)
        assert float(jeju["rd_spending_krw"].iloc[0]) > 0


@pytest.mark.slow
def test_the_mss_plan_signal_over_20_seeds():
    """Issue criteria at 1:100, 2030: 95 % half-width of net national jobs ≤ 1,000 persons, of gross
    jobs in supported firms ≤ 10 % of its mean, and of net jobs in the non-capital provinces ≤ 1,000."""
    capital = {"11", "28", "41"}
    net, gross, non_capital = [], [], []
    for seed in range(20):
        result = run("scenarios/korea_2023_regional_plan_mss.yaml", seed=seed, until=2030)
        ledger = result.ledger[(result.ledger["lever"] == ALL) & (result.ledger["year"] == 2030)].set_index("region")
        net.append(ledger.loc[ALL, "net_jobs"])
        gross.append(ledger.loc[ALL, "gross_jobs"])
        regions = ledger.drop(index=ALL)
        non_capital.append(regions.loc[~regions.index.isin(capital), "net_jobs"].sum())

    def half_width(values: list[float]) -> float:
        return float(stats.t.ppf(0.975, len(values) - 1) * np.std(values, ddof=1) / np.sqrt(len(values)))

    assert half_width(net) <= 1_000
    assert half_width(gross) <= 0.1 * np.mean(gross)
    assert half_width(non_capital) <= 1_000
