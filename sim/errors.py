"""User-facing errors: the CLI prints their message on one line and exits with status 2."""


class RegsimError(Exception):
    """A problem with the user's input (scenario, data, options), not a bug in regsim."""


class DataError(RegsimError):
    """A packaged or user-supplied data file is missing or malformed."""


class ScenarioError(RegsimError):
    """A scenario file is invalid; the message names the file and the field path."""
