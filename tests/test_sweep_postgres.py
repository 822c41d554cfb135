"""Sweeps on a real PostgreSQL server, as on several machines: the README's command run by three
workers at once spends exactly ``--n_trials``, and a worker killed mid-trial is replaced."""

import multiprocessing
import os
import shlex
import signal
import time

import optuna
import pytest
from test_sweep import TRIAL_FLAGS, run_sweep, sweep_in_child

from helpers.ports import free_port
from helpers.postgres import postgres_server
from helpers.reading import readme_block
from helpers.waiting import wait_until

pytestmark = pytest.mark.slow  # a real PostgreSQL server and worker processes

FORK = multiprocessing.get_context("fork")
SPACE = "space:\n  model.lr: {low: 0.003, high: 0.03, log: true}\npruner: {n_startup_trials: 100}\n"


@pytest.fixture(scope="module")
def database():
    with postgres_server() as url:
        yield url


def readme_command(url: str, n_trials: int) -> list[str]:
    """The README's sweep line for several machines, word for word but for its placeholders."""
    block = readme_block("--storage postgresql://", language="bash")
    assert "pip install -e '.[sweep,postgres]'" in block  # the driver extra this test's install has too
    [line] = [line for line in block.splitlines() if line.startswith("python sweep.py")]
    words = shlex.split(line.replace("postgresql://USER:PASSWORD@HOST/lstm_mnist_sweeps", url))
    assert words[:4] == ["python", "sweep.py", "--n_trials", "100"] and words[-2] == "--data.data_dir"
    return ["--n_trials", str(n_trials), *words[4:-2]]


def trials_of(study_name: str, url: str) -> list:
    """The study's trials; none before a worker has created it."""
    if study_name not in optuna.get_all_study_names(url):
        return []
    return optuna.load_study(study_name=study_name, storage=url).trials


def start_workers(args: list[str], tmp_path, count: int, start) -> list:
    workers = [FORK.Process(target=sweep_in_child, args=(args, tmp_path / f"out{n}", start)) for n in range(count)]
    for worker in workers:
        worker.start()
    return workers


def test_three_workers_at_once_run_exactly_the_budget(database, tiny_data, tmp_path):
    url = database
    (tmp_path / "space.yaml").write_text(SPACE)
    args = [*readme_command(url, 6), "--space", str(tmp_path / "space.yaml"), *TRIAL_FLAGS]
    args += ["--data.data_dir", str(tiny_data), "--trainer.default_root_dir", str(tmp_path / "runs")]
    start = FORK.Event()
    workers = start_workers(args, tmp_path, 3, start)
    time.sleep(0.3)  # all three forked and waiting
    start.set()
    for worker in workers:
        worker.join(timeout=300)
    outputs = [(tmp_path / f"out{n}").read_text() for n in range(3)]
    assert [worker.exitcode for worker in workers] == [0, 0, 0], [output[-2000:] for output in outputs]
    trials = trials_of("lr-search", url)
    assert [t.state for t in trials] == [optuna.trial.TrialState.COMPLETE] * 6
    runs = {t.user_attrs["run"] for t in trials}
    assert len(runs) == 6 and sorted(runs) == sorted(str(p) for p in (tmp_path / "runs" / "lightning_logs").iterdir())
    assert {t.user_attrs["worker"].rsplit(":", 1)[1] for t in trials} <= {str(w.pid) for w in workers}
    assert all("study lr-search: 6 trials (--n_trials 6)" in output for output in outputs)


def test_a_worker_killed_mid_trial_is_replaced_and_the_budget_still_met(database, tiny_data, tmp_path):
    """Two workers with a heartbeat every second; one is killed with SIGKILL once its trial trains.
    The other fails that trial when its heartbeat stops and runs a third in its place."""
    (tmp_path / "space.yaml").write_text(SPACE)
    args = ["--n_trials", "3", "--study_name", "killed", "--storage", database, "--heartbeat_interval", "1"]
    args += ["--space", str(tmp_path / "space.yaml"), *TRIAL_FLAGS, "--trainer.limit_train_batches", "40"]
    args += ["--data.data_dir", str(tiny_data), "--trainer.default_root_dir", str(tmp_path / "runs")]
    start = FORK.Event()
    doomed, survivor = start_workers(args, tmp_path, 2, start)
    start.set()

    def doomed_trial_fits() -> bool:
        started = [t for t in trials_of("killed", database) if "run" in t.user_attrs]
        return any(t.user_attrs["worker"].endswith(f":{doomed.pid}") for t in started)

    wait_until(doomed_trial_fits, seconds=120, every=0.05)
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.join()
    survivor.join(timeout=300)
    output = (tmp_path / "out1").read_text()
    assert survivor.exitcode == 0, output[-3000:]
    trials = trials_of("killed", database)
    [stopped] = [t for t in trials if t.state == optuna.trial.TrialState.FAIL]
    assert stopped.user_attrs["worker"].endswith(f":{doomed.pid}") and "error" not in stopped.user_attrs
    assert sum(t.state == optuna.trial.TrialState.COMPLETE for t in trials) == 3 and len(trials) == 4
    assert f"waiting for 1 trial(s) running on other workers: trial {stopped.number}" in output
    assert f"  trial {stopped.number:>3}  its worker stopped; run again" in output


@pytest.mark.parametrize(
    "storage, expect",
    [
        ("mysql://me@127.0.0.1/sweeps", "sweeps keep an exact budget on SQLite (sqlite:///FILE) or PostgreSQL"),
        ("postgresql://postgres@127.0.0.1:CLOSED_PORT/sweeps", "cannot open the study in postgresql://"),
        ("postgresql://me:secret@host:port/sweeps", "--storage is not a database URL (invalid literal for int()"),
    ],
)
def test_a_database_without_a_lock_or_a_server_that_does_not_answer_is_one_line(storage, expect, tiny_data, tmp_path):
    (tmp_path / "space.yaml").write_text(SPACE)
    storage = storage.replace("CLOSED_PORT", str(free_port()))  # nothing listens there
    code, out, err = run_sweep(tmp_path, tmp_path / "space.yaml", tiny_data, "--n_trials", "1", "--storage", storage)
    assert code == 1 and "Traceback" not in err, err
    [line] = err.strip().splitlines()
    assert line.startswith("error: ") and expect in line
    assert not (tmp_path / "lightning_logs").exists()


def test_a_real_refused_write_of_the_sweeps_pictures_is_one_line(database, tiny_data, tmp_path):
    """The study on the server, the trial's files small (a checkpoint of 2 units: about 21 kB, 5 kB of
    it torch's random state), no file past 22 kB: best.yaml is written, the optimisation history
    (about 23 kB) refused."""
    from test_crash_safety import refused_under_file_size_limit

    from lstm_mnist.apps import sweep

    (tmp_path / "space.yaml").write_text(SPACE)
    args = ["--n_trials", "1", "--study_name", "pictures", "--storage", database]
    args += ["--space", str(tmp_path / "space.yaml"), *TRIAL_FLAGS, "--model.hidden_size", "2"]
    args += ["--data.data_dir", str(tiny_data), "--trainer.default_root_dir", str(tmp_path)]
    error = refused_under_file_size_limit(22_000, args, tiny_data, tmp_path, entry=sweep.main)
    folder = tmp_path / "sweeps" / "pictures"
    assert (
        error == f"error: cannot write {folder / 'history.png'}: File too large; the files written before it are intact"
    )
    assert (
        "best trial of study pictures" in (folder / "best.yaml").read_text() and not (folder / "history.png").exists()
    )
    assert [t.state.name for t in trials_of("pictures", database)] == ["COMPLETE"]
