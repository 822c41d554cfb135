"""Errors caused by what the user gave us: the CLI prints them as one line, without a traceback."""


class UserInputError(Exception):
    """A problem the user can fix (a missing folder, a bad file, a checkpoint that does not fit, a
    full disk)."""
