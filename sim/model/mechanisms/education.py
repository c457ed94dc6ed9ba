"""Education: enrolment in higher education and graduation, as vectorised rules."""

from __future__ import annotations

import numpy as np

NOT_STUDYING, COLLEGE, UNIVERSITY = 0, 1, 2
SECONDARY = 0
"""Education levels: SECONDARY (or less), COLLEGE (2–3-year, incl. vocational), UNIVERSITY (4-year or more).
``enrolled`` uses the same codes for the level being studied, NOT_STUDYING otherwise."""


def enrol(
    candidates: np.ndarray,
    entry_draw: np.ndarray,
    programme_draw: np.ndarray,
    entry_rate: float,
    college_share: float,
    college_years: int,
    university_years: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Choose entrants among ``candidates`` (person indices), given each candidate's U(0,1) draws.

    Returns (entrant indices, level studied, years to graduation); a candidate enters if
    ``entry_draw`` < ``entry_rate``, into a 2–3-year college if ``programme_draw`` < ``college_share``.
    """
    enters = entry_draw < entry_rate
    entrants = candidates[enters]
    to_college = programme_draw[enters] < college_share
    level = np.where(to_college, COLLEGE, UNIVERSITY).astype(np.int8)
    years = np.where(to_college, college_years, university_years).astype(np.int8)
    return entrants, level, years


def advance_studies(enrolled: np.ndarray, study_years_left: np.ndarray, education: np.ndarray) -> np.ndarray:
    """One year of study for every student; those finishing take their level. Returns graduate indices."""
    students = np.flatnonzero(study_years_left > 0)
    study_years_left[students] -= 1
    graduates = students[study_years_left[students] == 0]
    education[graduates] = np.maximum(education[graduates], enrolled[graduates])
    enrolled[graduates] = NOT_STUDYING
    return graduates
