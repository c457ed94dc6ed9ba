"""The agent types: Region, Municipality (``resolution: sigungu``) and University are ``mesa.Agent`` objects;
persons (Talent) and firms are vectorised populations whose state lives in numpy arrays."""

from sim.model.agents.firm import FirmPopulation
from sim.model.agents.municipality import Municipality
from sim.model.agents.region import Region
from sim.model.agents.talent import TalentPool
from sim.model.agents.university import University

__all__ = ["FirmPopulation", "Municipality", "Region", "TalentPool", "University"]
