"""The user-error type and the exit codes every `meterseal` command keeps.

A leaf: it imports nothing of meterseal, so any layer may raise a UsageError without pulling in
the command line. The command layer turns it (and the libraries' own input errors) into one
line on stderr and EXIT_USAGE.
"""

EXIT_OK = 0
EXIT_FAIL = 1  # the job ran and found a failure (an invariant broken, no part meets a need)
EXIT_USAGE = 2  # bad input: one line on stderr naming the problem, nothing written or lost
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad input the user must fix; printed as one line, exit status 2."""


def one_line(exc: BaseException) -> str:
    """The exception's message folded onto one line (never empty)."""
    return " ".join(str(exc).split()) or exc.__class__.__name__
