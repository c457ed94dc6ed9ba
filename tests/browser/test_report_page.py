"""The HTML report in headless chromium: every figure decodes, the tables show, nothing is fetched.

With ``REGSIM_SCREENSHOTS=1`` the report is of the shipped R&D-grant sweep (3 × 3 grid, 3 seeds,
until 2030, 1:100; about a minute) and its first screens are saved as ``docs/figures/report_page.png``
(the README's screenshot); otherwise it is of the small test batch, and the screenshot goes to tmp_path.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from report_folders import make_batch

from sim.analysis.report import build_report
from sim.experiments.batch import run_batch

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "figures" / "report_page.png"
FULL = os.environ.get("REGSIM_SCREENSHOTS") == "1"


def sweep_batch(folder: Path) -> Path:
    """experiments/rd_grant_sweep.yaml with 3 seeds until 2030."""
    source = ROOT / "experiments" / "rd_grant_sweep.yaml"
    experiment = yaml.safe_load(source.read_text(encoding="utf-8"))
    experiment.update(description="Key-industry R&D grants, budget x co-funding rate grid, 3 seeds, until 2030.")
    experiment.update(seeds=3, until=2030, scenarios=[str((source.parent / path).resolve()) for path in experiment["scenarios"]])
    path = folder / "rd_grant_sweep.yaml"
    path.write_text(yaml.safe_dump(experiment, sort_keys=False), encoding="utf-8")
    assert run_batch(path, out=folder / "batch", workers=2).failed == 0
    return folder / "batch"


def test_report_page_renders_every_figure(page, tmp_path):
    report = build_report(sweep_batch(tmp_path) if FULL else make_batch(tmp_path))
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(report.as_uri())
    page.wait_for_load_state("load")

    sizes = page.evaluate("[...document.images].map(img => [img.complete, img.naturalWidth, img.naturalHeight])")
    assert len(sizes) == 10  # differences, ledger, tile map (findings); 3 province maps; timeseries, 2 × provinces, sweep
    assert all(complete and width > 0 and height > 0 for complete, width, height in sizes), sizes
    assert page.locator("#comparison + div table").is_visible()
    assert page.locator("#provenance + table").is_visible()
    assert page.locator("#findings").is_visible() and page.locator("#ledger + div table").is_visible()
    assert page.locator("nav.toc a").count() >= 6
    assert [url for url in requests if not url.startswith(("file:", "data:"))] == []

    shot = SCREENSHOT if FULL else tmp_path / "report_page.png"
    page.screenshot(path=str(shot), clip={"x": 0, "y": 0, "width": 1400, "height": 1900}, full_page=True)
    assert shot.stat().st_size > 0
