"""Errors caused by what the user gave us: the programs print them as one line, without a traceback."""


class UserInputError(ValueError):
    """A problem the user can fix (a missing folder, a bad file, a setting that does not fit, a
    checkpoint that does not fit, a full disk). A ``ValueError``, so that code using the package
    from Python (a network built with a wrong setting) can catch it as one."""
