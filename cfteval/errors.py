"""User-facing errors.

Anything the user can fix (a bad option, a missing file, a malformed line) is raised as a
`UserError`; the CLI prints its message on one line and exits with code 2, never a traceback.
"""


class UserError(Exception):
    """A mistake in the user's input, reported as one line and exit code 2."""

    exit_code = 2
