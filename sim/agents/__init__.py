"""The agent types: Region, Municipality (``resolution: sigungu``) and University are ``mesa.Agent`` objects;
persons (Talent) and firms are vectorised populations whose state lives in numpy arrays."""

from sim.agents.firm import FirmPopulation
from sim.agents.municipality import Municipality
from sim.agents.region import Region
from sim.agents.talent import TalentPool
from sim.agents.university import University

__all__ = ["FirmPopulation", "Municipality", "Region", "TalentPool", "University"]
