"""User-facing errors: the CLI prints their message on one line and exits with status 2."""


class RegsimError(Exception):
    """A problem with the user's input (scenario, data, options), not a bug in regsim."""


class DataError(RegsimError):
    """A packaged or user-supplied data file is missing or malformed."""


class ScenarioError(RegsimError):
    """A scenario file is invalid; the message names the file and the field path."""


class ArgumentError(RegsimError):
    """A bad value of a function's argument, said in domain words; ``argument`` names it so that the
    CLI can name its option instead (``--min-coverage`` for ``min_coverage``)."""

    def __init__(self, argument: str, detail: str) -> None:
        super().__init__(f"{argument}: {detail}")
        self.argument = argument
        self.detail = detail
