"""Errors caused by what the user gave us: the programs print them as one line, without a traceback."""


class UserInputError(ValueError):
    """A problem the user can fix (a missing folder, a bad file, a setting that does not fit, a
    checkpoint that does not fit, a full disk). A ``ValueError``, so that code using the package
    from Python (a network built with a wrong setting) can catch it as one."""


def behind(error: BaseException | None, kind: type, through_handling: bool = True):
    """The first exception of type ``kind`` among ``error`` and those behind it: the one it was
    raised from (``raise ... from``) and, with ``through_handling``, the one being handled when it
    was raised. Libraries wrap a failure in errors of their own (torch.save's zip writer turns a
    refused write into a RuntimeError, Lightning's ``log_metrics`` any failure into a ValueError,
    SQLAlchemy and Optuna a database's error into theirs); this finds it again."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, kind):
            return error
        seen.add(id(error))
        error = error.__cause__ or (error.__context__ if through_handling else None)
    return None
