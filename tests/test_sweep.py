"""``python sweep.py``: an Optuna study whose trials are ordinary fit runs, on the tiny data."""

import multiprocessing
import os
import re
import signal
import threading
import time
from pathlib import Path

import optuna
import pytest

from helpers.paths import ROOT
from helpers.reading import read_scalars
from helpers.running import TINY_ARGS, call_main, output_to, run_main
from helpers.waiting import wait_until
from lstm_mnist.apps import sweep

pytestmark = pytest.mark.slow  # sweeps of several fits, worker processes

# Trials of a second or two: 20 steps of a tiny LSTM, validated every 10.
TRIAL_FLAGS = [
    *TINY_ARGS,
    *("--model.hidden_size", "8", "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "20"),
    *("--trainer.val_check_interval", "10", "--trainer.enable_progress_bar", "false"),
]
SPACE = """
space:
  model.lr: {low: 0.003, high: 0.03, log: true}
  model.beta2: {low: 0.9, high: 0.999}
pruner: {n_startup_trials: 100}
"""
FORK = multiprocessing.get_context("fork")


@pytest.fixture
def space(tmp_path) -> Path:
    path = tmp_path / "space.yaml"
    path.write_text(SPACE)
    return path


def run_sweep(root: Path, space: Path, data: Path, *args: str) -> tuple[int, str, str]:
    """``python sweep.py ARGS`` in this process: exit status, stdout, stderr."""
    flags = [*args, "--space", str(space), *TRIAL_FLAGS, "--data.data_dir", str(data)]
    result = call_main(sweep.main, [*flags, "--trainer.default_root_dir", str(root)])
    return result.code, result.out, result.err


def load_study(root: Path, name: str = "sweep") -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{root / 'sweeps' / name / 'study.db'}")


def test_three_trials_are_three_runs_and_best_yaml_reruns_the_best(tiny_data, tmp_path, space):
    root = tmp_path / "runs"
    code, out, err = run_sweep(root, space, tiny_data, "--n_trials", "3")
    assert code == 0, err
    runs = sorted((root / "lightning_logs").iterdir())
    assert [run.name for run in runs] == ["version_0", "version_1", "version_2"]
    assert all((run / "config.yaml").is_file() and list(run.glob("checkpoints/*.ckpt")) for run in runs)
    study = load_study(root)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE] * 3
    assert sorted(t.user_attrs["run"] for t in study.trials) == [str(run) for run in runs]
    for t in study.trials:  # each trial's value is its run's own best val/acc, as logged
        assert t.value == pytest.approx(max(v for _, v in read_scalars(Path(t.user_attrs["run"]))["val/acc"]))
    best = study.best_trial
    folder = root / "sweeps" / "sweep"
    assert f"best: trial {best.number}, val/acc_best {best.value:.4f}" in out
    assert f"  model.lr = {best.params['model.lr']}" in out
    for picture in ("history.png", "importances.png"):
        assert (folder / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # best.yaml reruns the best trial: the same settings, the same seed, the same validations
    run_main("fit", "--config", str(folder / "best.yaml"), root=tmp_path / "rerun")
    rerun = read_scalars(tmp_path / "rerun" / "lightning_logs" / "version_0")["val/acc"]
    assert rerun == read_scalars(Path(best.user_attrs["run"]))["val/acc"]


@pytest.mark.filterwarnings("ignore:Fixed parameter model.lr with value:UserWarning")  # the queued extremes
def test_a_diverging_trial_is_recorded_as_failed_and_a_worse_one_is_pruned(tiny_data, tmp_path, space):
    root = tmp_path / "runs"
    space.write_text(SPACE.replace("n_startup_trials: 100", "n_startup_trials: 1, n_warmup_steps: 15"))
    folder = root / "sweeps" / "sweep"  # the study the sweep will use, made first to queue three trials
    folder.mkdir(parents=True)
    study = optuna.create_study(study_name="sweep", storage=f"sqlite:///{folder / 'study.db'}", direction="maximize")
    study.enqueue_trial({"model.lr": 0.03, "model.beta2": 0.95})  # learns the tiny data
    study.enqueue_trial({"model.lr": 1e38, "model.beta2": 0.95})  # diverges: the loss becomes NaN
    study.enqueue_trial({"model.lr": 1e-7, "model.beta2": 0.95})  # learns nothing: pruned at step 20
    code, out, err = run_sweep(root, space, tiny_data, "--n_trials", "3", "--model.schedule", "constant")
    assert code == 0, err
    complete, diverged, worse = load_study(root).trials
    assert complete.state == optuna.trial.TrialState.COMPLETE
    assert diverged.state == optuna.trial.TrialState.FAIL
    assert diverged.user_attrs["error"].startswith("training diverged at step")
    assert worse.state == optuna.trial.TrialState.PRUNED and list(worse.intermediate_values) == [10, 20]
    assert "trial 1 failed: training diverged at step" in out
    assert "trial 2: pruned at step 20" in out
    lines = out.splitlines()
    assert any(line.startswith("  trial   1  failed: training diverged") for line in lines)
    assert any(line.startswith("  trial   2  pruned at step 20") for line in lines)


def sweep_in_child(args: list[str], output: Path, start) -> None:
    """The body of a forked worker: ``python sweep.py ARGS`` from the moment ``start`` is set."""
    output_to(output)
    start.wait()
    sweep.main(args)


def test_two_workers_started_together_share_the_budget(tiny_data, tmp_path, space):
    """Two processes (forked from this one, which has imported torch already) on one study, named
    by its database URL as on several machines."""
    root, storage = tmp_path / "runs", f"sqlite:///{tmp_path / 'shared.db'}"
    args = ["--n_trials", "3", "--study_name", "shared", "--storage", storage, "--space", str(space)]
    args += [*TRIAL_FLAGS, "--data.data_dir", str(tiny_data), "--trainer.default_root_dir", str(root)]
    start = FORK.Event()
    workers = [FORK.Process(target=sweep_in_child, args=(args, tmp_path / f"out{n}", start)) for n in range(2)]
    for worker in workers:
        worker.start()
    time.sleep(0.3)  # both forked and waiting
    start.set()
    for worker in workers:
        worker.join(timeout=300)
    outputs = [(tmp_path / f"out{n}").read_text() for n in range(2)]
    assert [worker.exitcode for worker in workers] == [0, 0], [output[-2000:] for output in outputs]
    trials = optuna.load_study(study_name="shared", storage=storage).trials
    assert len(trials) == 3 and all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    assert len({t.user_attrs["run"] for t in trials}) == 3
    assert len(list((root / "lightning_logs").iterdir())) == 3
    assert all(re.search(r"^trial \d of 3: ", output, flags=re.M) for output in outputs)  # both ran one
    assert (root / "sweeps" / "shared" / "best.yaml").is_file()


def test_ctrl_c_stops_the_sweep_and_the_same_command_goes_on(tiny_data, tmp_path, space):
    root = tmp_path / "runs"
    training = root / "lightning_logs" / "version_0" / "checkpoints"

    def ctrl_c_once_the_first_trial_trains() -> None:
        wait_until(training.is_dir, seconds=60, every=0.01)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=ctrl_c_once_the_first_trial_trains, daemon=True).start()
    code, out, err = run_sweep(root, space, tiny_data, "--n_trials", "1")
    assert code == 130, err
    assert err.endswith("interrupted: run the same command again to go on with the study\n")
    (interrupted,) = load_study(root).trials
    assert interrupted.user_attrs["interrupted"] and interrupted.state == optuna.trial.TrialState.FAIL
    assert (training / "interrupted.ckpt").is_file()

    code, out, err = run_sweep(root, space, tiny_data, "--n_trials", "1")
    assert code == 0, err
    assert "0 of 1 trials so far" in out
    states = [t.state for t in load_study(root).trials]
    assert states == [optuna.trial.TrialState.FAIL, optuna.trial.TrialState.COMPLETE]
    assert "  trial   0  interrupted" in out


def test_the_shipped_search_space_reads_and_a_fit_flag_takes_a_setting_out_of_it():
    space, pruner = sweep.read_space(ROOT / sweep.DEFAULT_SPACE, fixed={"model.hidden_size"})
    assert set(space) == {
        "model.lr",
        "model.beta2",
        "model.warmup_fraction",
        "trainer.gradient_clip_val",
        "data.batch_size",
    }
    assert space["model.lr"]["log"] and optuna.pruners.MedianPruner(**pruner)


@pytest.mark.parametrize(
    "content, expect",
    [
        ("space: [1, 2", "is not valid YAML"),
        ("model.lr: {low: 0.1, high: 1}", "must hold a mapping `space:`"),
        ("space:\n  model.lrr: {low: 0.1, high: 1}", "model.lrr is not a fit setting"),
        ("space:\n  model.lr: {low: 1, high: 0.1}", "model.lr: low and high must be numbers with low < high"),
        ("space:\n  model.lr: {low: 0, high: 1, log: true}", "a log scale needs low > 0"),
        ("space:\n  data.batch_size: {choices: []}", "choices must be a non-empty list"),
        ("space:\n  model.lr: {low: 0.1, high: 1}\npruner: {patience: 3}", "pruner: "),
    ],
)
def test_a_bad_search_space_is_one_line(content, expect, tiny_data, tmp_path, space):
    space.write_text(content)
    code, out, err = run_sweep(tmp_path / "runs", space, tiny_data, "--n_trials", "1")
    assert code == 1 and err.startswith("error: ") and expect in err and err.count("\n") == 1
    assert not (tmp_path / "runs" / "lightning_logs").exists()
