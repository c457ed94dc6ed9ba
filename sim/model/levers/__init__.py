"""Policy levers from the Korean and Japanese cases; importing this package registers them all.

One module per lever family (every module of this package is imported here, so adding a family
is adding a file); ``REGISTRY`` maps scenario names to lever classes.
"""

import importlib
import pkgutil

from sim.model.levers.base import REGISTRY, Lever, PolicyEffects, build_lever, register

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["REGISTRY", "Lever", "PolicyEffects", "build_lever", "register"]
