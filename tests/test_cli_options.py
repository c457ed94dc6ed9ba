"""Every command-line value is checked before any work starts: a value out of its range or sense is
one line naming the option, exit status 2; a value in range passes to the next check (here the
missing input file, so that nothing runs)."""

from __future__ import annotations

import contextlib
import io
import sys
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.cli import main

MISSING = "/nonexistent/input.yaml"
FIRST_YEAR, LAST_YEAR = 2016, 2072

INTEGER_OPTIONS = [
    # command, option, lowest valid value, highest valid value
    ("run", "--seed", 0, None),
    ("run", "--scale", 1, None),
    ("run", "--until", FIRST_YEAR, LAST_YEAR),
    ("check", "--seeds", 1, None),
    ("check", "--scale", 1, None),
    ("effects", "--seeds", 2, None),
    ("effects", "--scale", 1, None),
    ("batch", "--workers", 1, None),
    ("tune", "--workers", 1, None),
    ("calibrate", "--trials", 1, None),
    ("calibrate", "--workers", 1, None),
    ("sensitivity", "--workers", 1, None),
    ("viz", "--port", 1, 65535),
    ("viz", "--seed", 0, None),
    ("viz", "--scale", 1, None),
    ("viz", "--until", FIRST_YEAR, LAST_YEAR),
]


def invoke(*args: str) -> tuple[int, str]:
    """Run ``regsim ARGS`` in this process: exit status and what it printed to stderr."""
    stderr = io.StringIO()
    with mock.patch.object(sys, "argv", ["regsim", *args]), contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            main()
        except SystemExit as exc:
            return int(exc.code or 0), stderr.getvalue()
    return 0, stderr.getvalue()


def assert_refused(args: tuple[str, ...], option: str) -> None:
    status, stderr = invoke(*args)
    lines = stderr.strip().splitlines()
    assert status == 2 and len(lines) == 1, (args, status, stderr)
    assert lines[0].startswith(f"regsim: error: {option}: "), (args, lines[0])


def assert_passed_on(args: tuple[str, ...], option: str) -> None:
    """The option was accepted: the command went on and failed on its missing input file."""
    status, stderr = invoke(*args)
    assert status == 2 and option not in stderr and "nonexistent" in stderr, (args, status, stderr)


@settings(max_examples=100, deadline=None)
@given(case=st.sampled_from(INTEGER_OPTIONS), data=st.data())
def test_integers_outside_their_range_are_refused_and_inside_pass(case, data):
    command, option, low, high = case
    below = st.integers(max_value=low - 1)
    outside = st.one_of(below, st.integers(min_value=high + 1)) if high is not None else below
    value = data.draw(outside, label="outside")
    assert_refused((command, MISSING, option, str(value)), option)
    inside = data.draw(st.integers(low, high if high is not None else low + 10_000), label="inside")
    assert_passed_on((command, MISSING, option, str(inside)), option)


@settings(max_examples=60, deadline=None)
@given(command=st.sampled_from(["batch", "tune", "calibrate", "sensitivity"]), executor=st.text(min_size=1, max_size=12))
def test_unknown_executor_is_refused(command, executor):
    if executor in ("local", "dask") or executor.startswith("-") or "\x00" in executor:
        return
    assert_refused((command, MISSING, "--executor", executor), "--executor")


@settings(max_examples=60, deadline=None)
@given(text=st.text(alphabet="0123456789,x -", min_size=1, max_size=14))
def test_year_lists_are_numbers_within_the_simulated_years(text):
    if text.startswith("-"):
        return
    try:
        years = [int(part) for part in text.split(",")]
    except ValueError:
        years = None
    if years is not None and all(FIRST_YEAR - 1 <= year <= LAST_YEAR for year in years):
        assert_passed_on(("effects", MISSING, "--years", text), "--years")
    else:
        assert_refused(("effects", MISSING, "--years", text), "--years")


@pytest.mark.parametrize(
    "args, option",
    [
        (("batch", MISSING, "--scheduler", "tcp://127.0.0.1:8786"), "--scheduler"),
        (("sensitivity", MISSING, "--resume"), "--resume"),
        (("calibrate", MISSING, "--resume"), "--resume"),
        (("plot", MISSING, "--format", "png,gif"), "--format"),
        (("plot", MISSING, "--lang", "fr"), "--lang"),
        (("bench", "--scales", "100,0"), "--scales"),
        (("effects", MISSING, "--target-jobs", "-5"), "--target-jobs"),
        (("compare", MISSING, "--csv", "--markdown"), "--csv and --markdown"),
    ],
)
def test_options_that_make_no_sense_together_or_in_form(args, option):
    assert_refused(args, option)


def test_an_output_folder_holding_a_batch_needs_resume(tmp_path):
    (tmp_path / "manifest.json").write_text("{}", encoding="utf-8")
    assert_refused(("batch", MISSING, "--out", str(tmp_path)), "--out")
