"""Talent: persons as a vectorised population (one agent stands for ``scale`` persons).

State lives in parallel numpy arrays, one entry per agent, in the style of microsimulation
cohorts (LIAM2): the yearly rules in ``sim.model.mechanisms`` act on whole arrays, never on one person
at a time. Dead or emigrated agents are dropped and newcomers appended in one pass per year.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from sim.model.cells import persons_per_cell
from sim.model.mechanisms.education import NOT_STUDYING

NOT_EMPLOYED = -1
FEMALE, MALE = 0, 1


@dataclass
class TalentPool:
    """Arrays of person attributes; index i is one agent throughout a year."""

    age: np.ndarray  # completed years at 31 December, uint8 (100 = 100+)
    sex: np.ndarray  # 0 female, 1 male, int8
    region: np.ndarray  # region index of residence, int8
    education: np.ndarray  # SECONDARY / COLLEGE / UNIVERSITY, int8
    enrolled: np.ndarray  # level being studied (COLLEGE / UNIVERSITY), NOT_STUDYING otherwise, int8
    study_years_left: np.ndarray  # years to graduation while enrolled, 0 otherwise, int8
    participation_draw: np.ndarray  # persistent U(0,1) propensity to be in the labour force, float32
    employer: np.ndarray  # firm index, NOT_EMPLOYED if none, int32
    uid: np.ndarray  # identifier for life (keys the person's common random numbers), uint64
    municipality: np.ndarray  # si-gun-gu index at ``resolution: sigungu`` (``sim.model.mechanisms.municipalities``), else 0; int16

    @classmethod
    def new(
        cls,
        age: np.ndarray,
        sex: np.ndarray,
        region: np.ndarray,
        education: np.ndarray,
        uid: np.ndarray,
        participation_draw: np.ndarray,
        municipality: np.ndarray | None = None,
    ) -> TalentPool:
        """Persons not studying and not employed; ``participation_draw`` is their persistent
        U(0,1) propensity to be in the labour force; ``municipality`` their si-gun-gu (0 without)."""
        n = len(age)
        return cls(
            age=age.astype(np.uint8),
            sex=sex.astype(np.int8),
            region=region.astype(np.int8),
            education=education.astype(np.int8),
            enrolled=np.zeros(n, np.int8),
            study_years_left=np.zeros(n, np.int8),
            participation_draw=np.asarray(participation_draw, np.float32),
            employer=np.full(n, NOT_EMPLOYED, np.int32),
            uid=np.asarray(uid, np.uint64),
            municipality=np.zeros(n, np.int16) if municipality is None else np.asarray(municipality, np.int16),
        )

    def __len__(self) -> int:
        return len(self.age)

    def keep_and_append(self, keep: np.ndarray, newcomers: TalentPool) -> None:
        """Drop agents where ``keep`` is False and append ``newcomers``, in one copy per array."""
        for field in fields(self):
            current = getattr(self, field.name)
            setattr(self, field.name, np.concatenate((current[keep], getattr(newcomers, field.name))))

    @property
    def employed(self) -> np.ndarray:
        """[persons] bool: has an employer."""
        return self.employer != NOT_EMPLOYED

    @property
    def studying(self) -> np.ndarray:
        """[persons] bool: enrolled in education."""
        return self.enrolled != NOT_STUDYING

    def count_by_region(self, n_regions: int, mask: np.ndarray | None = None) -> np.ndarray:
        """Agents per region (optionally only where ``mask``), as int64."""
        if mask is None:
            return np.bincount(self.region, minlength=n_regions)
        codes = self.region * 2  # int8 codes region·2 + mask: no copy of the subset
        codes += mask
        return np.bincount(codes, minlength=2 * n_regions)[1::2]

    def status_by_region(self, n_regions: int, in_labour_force: np.ndarray) -> np.ndarray:
        """Agents by region and status, array [n_regions, 4]: column 0 outside the labour force without a
        job, 1 employed outside it, 2 unemployed (in it, no job), 3 employed in it. One byte per person
        (region·4 + status), so up to 64 regions."""
        if n_regions > 64:
            raise ValueError(f"status codes are one byte: at most 64 regions, not {n_regions}")
        codes = self.region.astype(np.uint8)
        codes <<= 2
        codes += self.employed
        codes += in_labour_force.view(np.uint8) << 1
        return np.bincount(codes, minlength=4 * n_regions).reshape(n_regions, 4)

    def pyramid(self, n_regions: int) -> np.ndarray:
        """Agents by region, sex and age: array [n_regions, 2, 101]."""
        return persons_per_cell((n_regions, 2, 101), self.region, self.sex, self.age)
