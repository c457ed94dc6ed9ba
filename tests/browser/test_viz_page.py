"""`regsim viz` in headless chromium: the page loads with its charts from the local server only,
a lever control reruns the model and changes a chart, and a bad scenario shows its error.

With REGSIM_SCREENSHOTS=1 the page runs at the scenario's own scale and years and its screenshot
(after the first run) is saved to docs/figures/viz_page.png, the README's; otherwise a short coarse
run and tmp_path.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
REGSIM = Path(sys.executable).parent / "regsim"
SCENARIO = ROOT / "scenarios" / "korea_2023_regional_plan_mss.yaml"
README_FIGURE = ROOT / "docs" / "figures" / "viz_page.png"
FULL = os.environ.get("REGSIM_SCREENSHOTS") == "1"
QUICK = [] if FULL else ["--scale", "200", "--until", "2026"]
RUN_TIMEOUT_MS = 60_000 if FULL else 30_000
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def viz_server(scenario: Path, folder: Path, *options: str) -> Iterator[tuple[str, Path]]:
    """`regsim viz` on a free port: yields (page address, stderr file) once the port accepts."""
    port = free_port()
    stdout, stderr = folder / "viz.out", folder / "viz.err"
    command = [str(REGSIM), "viz", str(scenario), "--port", str(port), *options]
    with open(stdout, "w") as out, open(stderr, "w") as err:
        server = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=err)
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                pytest.fail(f"regsim viz exited with {server.returncode}: {stderr.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"regsim viz did not listen on port {port} within 60 s: {stderr.read_text()}")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/", stderr
    finally:
        server.terminate()
        server.wait(timeout=10)


def offline(page) -> list[str]:
    """Abort every request that leaves this machine; returns the list of such requests."""
    external: list[str] = []

    def route(request_route) -> None:
        url = request_route.request.url
        if url.startswith(LOCAL):
            request_route.continue_()
        else:
            external.append(url)
            request_route.abort()

    page.route("**/*", route)
    return external


def source_data(page, name: str) -> dict:
    """The data of a Bokeh ColumnDataSource on the page, by name."""
    return page.evaluate("(name) => Bokeh.documents[0].get_model_by_name(name).data", name)


def test_page_loads_and_a_lever_reruns_the_model(page, tmp_path):
    if FULL:
        page.set_viewport_size({"width": 1400, "height": 1560})
    external = offline(page)
    with viz_server(SCENARIO, tmp_path, *QUICK) as (address, _):
        page.goto(address)
        page.get_by_text("run 1 done").wait_for(timeout=RUN_TIMEOUT_MS)
        assert page.locator(".bk-Canvas, canvas").count() >= 8  # a tile map and three line charts a side
        for side in ("baseline", "variant"):
            for measure in ("population", "youth_share", "employed"):
                assert len(source_data(page, f"{side}-{measure}")["ys"]) == 17, (side, measure)
            assert len(source_data(page, f"{side}-tiles")["value"]) == 17
            assert len(source_data(page, f"{side}-map")["value"]) == 17  # the geographic province map
        assert page.locator(".national-summary").get_by_text("employed (persons)").count() == 1
        assert page.locator(".ledger-table").get_by_text("all levers (package)").count() == 1
        before = {side: source_data(page, f"{side}-employed")["ys"] for side in ("baseline", "variant")}
        page.screenshot(path=README_FIGURE if FULL else tmp_path / "viz_page.png")

        budget = page.locator(".control-budget-0 input")
        budget.fill("20000")  # bn KRW a year instead of 101.6
        budget.press("Enter")
        page.get_by_text("run 2 done").wait_for(timeout=RUN_TIMEOUT_MS)
        after = {side: source_data(page, f"{side}-employed")["ys"] for side in ("baseline", "variant")}
        assert after["variant"] != before["variant"], "the variant's employment chart did not change"
        assert after["baseline"] == before["baseline"], "the baseline (no levers, same seed) must not change"
        page.screenshot(path=tmp_path / "viz_page_rerun.png")

        start = page.locator(".control-start-0 input")
        start.fill("2031")  # after the lever's end (2030): invalid
        start.press("Enter")
        alert = page.locator(".run-error")
        alert.get_by_text("must not be before start").wait_for(timeout=RUN_TIMEOUT_MS)
    assert not external, f"the page asked for assets off this machine: {external}"


def test_invalid_scenario_shows_its_error_in_the_terminal_and_on_the_page(page, tmp_path):
    bad = tmp_path / "bad.yaml"
    if FULL:
        page.set_viewport_size({"width": 1400, "height": 220})
    bad.write_text(f"extends: {ROOT / 'scenarios' / 'korea_baseline.yaml'}\nname: bad\nend_year: 2099\n", encoding="utf-8")
    external = offline(page)
    with viz_server(bad, tmp_path) as (address, stderr):
        page.goto(address)
        alert = page.locator(".run-error")
        alert.get_by_text("end_year").wait_for(timeout=20_000)
        assert "bad.yaml" in alert.get_by_text("end_year").text_content()
        page.screenshot(path=README_FIGURE.with_name("viz_error.png") if FULL else tmp_path / "viz_error.png")
        lines = stderr.read_text().splitlines()
    assert lines[0].startswith("regsim: error: ") and "bad.yaml" in lines[0] and "end_year" in lines[0], lines
    assert "Traceback" not in "\n".join(lines)
    assert not external, external
