"""A sweep's budget: ``--n_trials`` trials between all the workers of a study, exactly, on one
machine or many, even when a worker dies mid-trial.

Checking the total and starting a trial are two steps, so workers do both while holding a lock that
every worker of the study takes: a file lock beside a SQLite study, an advisory lock of the server
for a PostgreSQL one (the server drops it with the connection of a worker that dies). Other
databases are refused rather than run with a budget that can overshoot.

A worker that dies mid-trial (``kill -9``, a lost machine) leaves its trial running forever unless
someone notices: every running trial records a heartbeat, and a worker that has nothing left to
start waits while trials of others run, failing those whose heartbeat stopped (Optuna's
``fail_stale_trials``). Such a trial no longer counts, so a waiting worker runs one in its place:
the budget is met while any worker lives.
"""

import contextlib
import os
import socket
import threading
import time
import zlib

from lstm_mnist.adapters.optuna import trial_id
from lstm_mnist.errors import UserInputError

# Every worker of every lstm-mnist sweep on one PostgreSQL server takes this advisory lock: one
# key, so that workers creating Optuna's tables on a new database wait for each other too.
ADVISORY_LOCK_KEY = zlib.crc32(b"lstm-mnist sweep budget")
# How often a worker with nothing left to start looks again at the trials running elsewhere (seconds).
WAITING_POLL = 2


def budget_lock(storage_url: str):
    """A function that returns the study's lock, a context manager; one line for a database that
    has none here."""
    if storage_url.startswith("sqlite:///"):
        from filelock import FileLock

        lock = FileLock(storage_url.removeprefix("sqlite:///") + ".lock")
        return lambda: lock
    if storage_url.split(":", 1)[0].split("+", 1)[0] in ("postgresql", "postgres"):
        return advisory_lock(storage_url)
    raise UserInputError(
        f"--storage {without_password(storage_url)}: sweeps keep an exact budget on SQLite (sqlite:///FILE) "
        "or PostgreSQL (postgresql://USER:PASSWORD@HOST/DATABASE) only"
    )


def without_password(storage_url: str) -> str:
    """The URL as printed and logged: a password shown as ***."""
    import sqlalchemy

    try:
        return sqlalchemy.engine.make_url(storage_url).render_as_string(hide_password=True)
    except (sqlalchemy.exc.ArgumentError, ValueError):  # malformed: shown as given (it is refused next)
        return storage_url


def advisory_lock(storage_url: str):
    """PostgreSQL's session advisory lock on a connection of its own, held only while in use."""
    import sqlalchemy
    from sqlalchemy.pool import NullPool

    try:
        engine = sqlalchemy.create_engine(storage_url.replace("postgres://", "postgresql://", 1), poolclass=NullPool)
    except ImportError as error:
        raise UserInputError(f"PostgreSQL's driver is missing ({error}): pip install -e '.[postgres]'") from error
    except (sqlalchemy.exc.ArgumentError, ValueError) as error:
        message = f"--storage is not a database URL ({error}): postgresql://USER:PASSWORD@HOST/DB"
        raise UserInputError(message) from error

    @contextlib.contextmanager
    def held():
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
            try:
                yield
            finally:
                connection.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})

    return held


def uses_budget(trial) -> bool:
    """Every trial started counts (not one only queued with ``enqueue_trial``, which the next
    ``ask`` starts), but a failed one only if it failed by itself (its ``error`` recorded): not one
    stopped by Ctrl-C, nor one whose worker died (failed by its heartbeat). A running trial counts
    once its worker is recorded, the last write that starts it (``Budget.next_trial``, under the
    lock, so a worker counting never sees another's trial half-started): one whose start the
    database refused half-way (a full disk) runs nowhere and would never end."""
    import optuna

    if trial.state == optuna.trial.TrialState.WAITING:
        return False
    if trial.state == optuna.trial.TrialState.RUNNING:
        return "worker" in trial.user_attrs
    return trial.state != optuna.trial.TrialState.FAIL or "error" in trial.user_attrs


def counted(study) -> int:
    return sum(uses_budget(t) for t in study.get_trials(deepcopy=False))


class Budget:
    """Hands this worker its next trial until the study holds ``total`` trials and none of another
    worker is still running."""

    def __init__(self, study, storage, total: int, lock, heartbeat_interval: float):
        self.study, self.storage, self.total = study, storage, total
        self.lock, self.heartbeat_interval = lock, heartbeat_interval

    def next_trial(self):
        """A new trial of the study, or None when the budget is spent and every trial has ended."""
        import optuna

        told = False
        while True:
            with self.lock():
                if counted(self.study) < self.total:
                    trial = self.study.ask()
                    # beats from the start: a worker killed before its first beat would leave the trial running
                    # for good (Optuna names a trial to its storage by this id only)
                    self.storage.record_heartbeat(trial_id(trial))
                    trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
                    return trial
            elsewhere = self.running_elsewhere()
            if not elsewhere:
                return None
            if not told:
                print(
                    f"waiting for {len(elsewhere)} trial(s) running on other workers: {', '.join(elsewhere)}",
                    flush=True,
                )
                told = True
            time.sleep(min(self.heartbeat_interval, WAITING_POLL))
            optuna.storages.fail_stale_trials(self.study)

    def running_elsewhere(self) -> list[str]:
        """The running trials that beat (those started by this sweep; a trial of an older version
        left running by a killed worker would never be failed), as ``trial N (worker)``."""
        import optuna

        running = self.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
        return [f"trial {t.number} ({t.user_attrs['worker']})" for t in running if "worker" in t.user_attrs]

    @contextlib.contextmanager
    def heartbeat(self, trial):
        """The trial's heartbeat, recorded every ``heartbeat_interval`` seconds while it runs."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.heartbeat_interval):
                try:
                    self.storage.record_heartbeat(trial_id(trial))
                except Exception:  # the database refused: the trial's own next write says so; others fail it
                    return

        thread = threading.Thread(target=beat, name="sweep-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
