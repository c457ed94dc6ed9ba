"""The Python interface for notebooks and scripts, above the layers: the public functions in one place.

``run`` simulates a scenario and ``load_scenario``/``scenario_from_dict`` read one with its levers
resolved (``sim.results.run``); ``compare`` summarises a batch folder; ``compare_under_uncertainty``
compares a batch under its uncertainty draws (probability of beating the reference, regret, EVPPI) and
``discover`` finds the draws where a condition holds (PRIM), e.g.
``discover(DIR, "young_women_retained_non_capital", "korea_2023_regional_plan_mss > japan_style_package")``
(``sim.analysis.compare``).
"""

from sim.analysis.compare import compare, compare_under_uncertainty
from sim.analysis.compare import discover_batch as discover
from sim.results.run import RunResult, load_scenario, paired_ledger, run, scenario_from_dict

__all__ = ["RunResult", "compare", "compare_under_uncertainty", "discover", "load_scenario", "paired_ledger", "run", "scenario_from_dict"]
