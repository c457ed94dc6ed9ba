"""regsim: agent-based simulator of regional innovation policy and depopulation (Korea, Japan)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("regsim")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"
