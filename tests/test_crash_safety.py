"""Killed at any instant, nothing lost: kill -9 at random moments, runs started together in one
folder, a full disk (a real one: a small tmpfs, and the kernel's file-size limit, which refuses a
write as a full disk does, for every file a run or a sweep writes).

The runs here are real processes forked from this one (which has imported torch already, so a
run starts in a fraction of a second instead of five), killed with SIGKILL as the out-of-memory
killer or a preempted machine would. To aim kills into checkpoint writes, which take about a
millisecond, the killed runs write their checkpoints slowly (``slowly_writing``).
"""

import contextlib
import errno
import multiprocessing
import os
import random
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from helpers.reading import only, read_scalars
from helpers.running import QUICK, TINY_ARGS, call_main, command_line, data_dir_variable, output_to, refused, run_main
from lstm_mnist.apps.cli import main
from lstm_mnist.storage.atomic import AtomicFile
from lstm_mnist.storage.run_folders import ExclusiveTensorBoardLogger

pytestmark = pytest.mark.slow  # real faults: kills, full filesystems, refused writes in child processes

FORK = multiprocessing.get_context("fork")
# 100 steps, last.ckpt rewritten after the validation every 10 steps; no pictures to draw.
RUN = [
    *("fit", *TINY_ARGS, "--trainer.max_epochs", "1", "--trainer.val_check_interval", "10"),
    *("--trainer.enable_progress_bar", "false", "--pictures.every_n_validations", "1000"),
]
# events.out.tfevents.<time>.<host>.<pid>.<n>
EVENTS_FILE = r"events\.out\.tfevents\.\d+\..+\.(\d+)\.\d+"
KILL_SEED = int(os.environ.get("KILL_SEED", "7"))  # another seed replays another set of moments


def run_in_child(args: list[str], data_dir: Path, output: Path, start=None, writing: Path | None = None) -> None:
    """The body of a forked run: its output to a file, then ``main(args)``; exit status as a user
    sees it. With ``writing``, every checkpoint is written in slices 2 ms apart (about 30 ms for one
    of these) and the file ``writing`` appears as one starts, so that a kill can be aimed into it."""
    output_to(output)
    if writing is not None:
        AtomicFile.write = slowly_writing(AtomicFile.write, writing)
    if start is not None:
        start.wait()
    try:
        with data_dir_variable(data_dir):
            main(args)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def slowly_writing(write, writing: Path):
    """``AtomicFile.write`` (which writes every checkpoint) in slices of 16 kB, 2 ms apart, the file
    ``writing`` touched as it starts."""

    def write_slowly(self, data):
        writing.touch()
        for start in range(0, len(data), 1 << 14):
            write(self, data[start : start + (1 << 14)])
            self.file.flush()
            time.sleep(0.002)

    return write_slowly


def start_run(args, data_dir, output, start=None, writing=None) -> multiprocessing.Process:
    process = FORK.Process(target=run_in_child, args=(args, data_dir, output, start, writing))
    process.start()
    return process


def weights(path: Path) -> dict:
    return torch.load(path, weights_only=True)["state_dict"]


def every_checkpoint_is_whole(root: Path) -> None:
    """A half-written checkpoint would fail to load; stray ``.partial`` files are never ``*.ckpt``."""
    for path in root.rglob("*.ckpt"):
        torch.load(path, weights_only=True)


def newest_last_checkpoint(root: Path) -> Path | None:
    found = [(torch.load(p, weights_only=True)["global_step"], p) for p in root.rglob("last.ckpt")]
    return max(found)[1] if found else None


def wait_for_a_checkpoint_write(writing: Path, run: multiprocessing.Process) -> bool:
    """Wait until the run starts writing a checkpoint; False if it ends first."""
    writing.unlink(missing_ok=True)
    while run.is_alive():
        if writing.exists():
            return True
    return False


def test_killed_at_random_moments_the_run_resumes_to_the_same_weights(tiny_data, tmp_path):
    """Twelve SIGKILLs at seeded random moments, six of them while a checkpoint is being written;
    after each, ``fit --ckpt_path last.ckpt`` goes on, and every run that reaches its end equals
    one never killed. (A run takes about a second here, so a chain of resumes that ends
    before the twelfth kill is compared and a new chain starts.)"""
    run_main(*RUN, root=tmp_path / "straight", data_dir=tiny_data)
    reference = weights(only((tmp_path / "straight").rglob("last.ckpt")))

    def same_as_never_killed(root: Path) -> None:
        final = newest_last_checkpoint(root)
        assert torch.load(final, weights_only=True)["global_step"] == 100
        resumed = weights(final)
        for name, value in reference.items():
            assert (resumed[name].float() - value.float()).abs().max() <= 1e-6, name

    rng = random.Random(KILL_SEED)
    kills = mid_write = chains = 0
    root = None
    while kills < 12:
        if root is None:
            chains += 1
            root, resume_from = tmp_path / f"chain{chains}", None
        before = torch.load(resume_from, weights_only=True)["global_step"] if resume_from else 0
        resume_args = ["--ckpt_path", str(resume_from)] if resume_from else []
        writing = tmp_path / "writing"
        args = command_line([*RUN, *resume_args], root)
        run = start_run(args, tiny_data, tmp_path / "out", writing=writing)
        aimed = kills % 2 == 1  # every other kill lands while a checkpoint is being written
        if aimed:
            time.sleep(rng.uniform(0.0, 0.6))
            if wait_for_a_checkpoint_write(writing, run):
                time.sleep(rng.uniform(0.0, 0.02))
        else:  # at any moment, from start-up to the end
            time.sleep(rng.uniform(0.05, 1.2))
        run.kill()
        run.join()
        if run.exitcode == 0:  # it reached the end before the moment came
            same_as_never_killed(root)
            root = None
            continue
        assert run.exitcode == -signal.SIGKILL, (run.exitcode, (tmp_path / "out").read_text()[-3000:])
        kills += 1
        mid_write += aimed
        every_checkpoint_is_whole(root)
        resume_from = newest_last_checkpoint(root) or resume_from
        # The killed run's TensorBoard events open and hold every validation its last.ckpt has seen.
        runs = sorted(root.glob("lightning_logs/version_*"), key=lambda p: int(p.name.split("_")[1]))
        killed_run = runs[-1] if runs else root  # none when killed before it had made its folder
        if (killed_run / "checkpoints" / "last.ckpt").is_file():
            saved = torch.load(killed_run / "checkpoints" / "last.ckpt", weights_only=True)["global_step"]
            logged = [step for step, _ in read_scalars(killed_run).get("val/acc", [])]
            assert set(range(before + 10, saved + 1, 10)) <= set(logged), (before, saved, logged)

    assert mid_write == 6
    resume_args = ["--ckpt_path", str(resume_from)] if resume_from else []
    run_main(*RUN, *resume_args, root=root, data_dir=tiny_data)
    same_as_never_killed(root)


def test_four_runs_started_together_in_one_folder_get_a_folder_each(tiny_data, tmp_path):
    start = FORK.Event()
    runs = [
        start_run(command_line(["fit", *QUICK], tmp_path), tiny_data, tmp_path / f"out{n}", start) for n in range(4)
    ]
    time.sleep(0.5)  # all four forked and waiting
    start.set()
    for run in runs:
        run.join(timeout=120)
    assert [run.exitcode for run in runs] == [0, 0, 0, 0], [
        (tmp_path / f"out{n}").read_text()[-2000:] for n in range(4)
    ]
    folders = sorted(p.name for p in (tmp_path / "lightning_logs").iterdir())
    assert folders == ["version_0", "version_1", "version_2", "version_3"]
    writers = set()
    for folder in (tmp_path / "lightning_logs").iterdir():
        assert (folder / "config.yaml").is_file()
        assert torch.load(folder / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 10
        only((folder / "checkpoints").glob("best-step=10-*.ckpt"))
        # one process wrote each folder's events (TensorBoard puts the writer's pid in the file name)
        [pid] = {re.fullmatch(EVENTS_FILE, path.name)[1] for path in folder.glob("events.out.tfevents.*")}
        writers.add(pid)
        EventAccumulator(str(folder)).Reload()
    assert len(writers) == 4


def test_two_runs_that_number_themselves_at_the_same_moment_get_different_folders(tmp_path):
    """The race the test above can only hope to meet, made certain: both runs look for the next
    free number before either has created its folder. (Lightning's own logger gives both 0.)"""
    first = ExclusiveTensorBoardLogger(save_dir=str(tmp_path))
    second = ExclusiveTensorBoardLogger(save_dir=str(tmp_path))
    assert (first.version, second.version) == (0, 1)
    assert sorted(p.name for p in (tmp_path / "lightning_logs").iterdir()) == ["version_0", "version_1"]


@contextlib.contextmanager
def small_disk(folder: Path, size: str):
    """A real filesystem of ``size`` mounted at ``folder`` (tmpfs; mounting needs root, as in CI)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root); the RLIMIT_FSIZE tests below meet the same path")
    folder.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def test_a_full_disk_stops_the_run_with_one_line_and_keeps_the_files_before(tiny_data, tmp_path):
    """A real full disk: an 800 kB tmpfs as the run's folder. The default model's checkpoints (about
    300 kB each) fill it by the second validation; whichever write meets the full disk is named."""
    with small_disk(tmp_path / "disk", "800k") as disk:
        args = [*RUN, "--trainer.limit_train_batches", "40", "--trainer.default_root_dir", str(disk)]
        result = refused(*args, root=disk, data_dir=tiny_data, expect="No space left on device", nothing_written=False)
        [error] = [line for line in result.err.splitlines() if line.startswith("error:")]
        assert re.fullmatch(
            r"error: cannot write \S+: No space left on device; the files written before it are intact", error
        )
        every_checkpoint_is_whole(disk)
        checkpoints = disk / "lightning_logs" / "version_0" / "checkpoints"
        assert torch.load(checkpoints / "last.ckpt", weights_only=True)["global_step"] >= 10
        assert not list(disk.rglob("*.partial"))


def run_with_file_size_limit(limit: int, args: list[str], data_dir: Path, output: Path, entry=None) -> None:
    """A forked run of ``entry`` (the training CLI's ``main`` unless given) in which the kernel refuses
    to write a file past ``limit`` bytes (EFBIG), as a full disk refuses with ENOSPC; SIGXFSZ ignored,
    so the write fails instead of killing the run."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    if entry is None:
        run_in_child(args, data_dir, output)
        return
    output_to(output)
    try:
        entry(args)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def refused_under_file_size_limit(
    limit: int, args: list[str], data_dir: Path, tmp_path: Path, entry=None, expect: str = "error: .*"
) -> str:
    """The one error line of a forked run under ``limit``, which must exit 1 without a traceback and
    match the pattern ``expect``."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    output = tmp_path / "output.txt"
    child = FORK.Process(target=run_with_file_size_limit, args=(limit, args, data_dir, output, entry))
    child.start()
    child.join(120)
    err = output.read_text()
    assert child.exitcode == 1 and "Traceback" not in err, err[-3000:]
    [error] = [line for line in err.splitlines() if line.startswith("error:")]
    assert f"\n{error}\n" in f"\n{err}", err[-3000:]  # a line of its own, not after a progress bar's \r
    assert re.fullmatch(expect, error), err[-3000:]
    assert not list(tmp_path.rglob("*.partial"))
    return error


def test_a_real_refused_write_of_a_checkpoint_is_one_line(tiny_data, tmp_path):
    """No patched function: the kernel refuses the checkpoint's bytes, torch.save's zip writer turns
    that into a RuntimeError, and the run still ends with one line naming the file, exit 1, the
    files before it whole and no .partial left."""
    args = ["fit", *QUICK, "--trainer.default_root_dir", str(tmp_path)]
    # config.yaml and the events fit under 60 kB; a checkpoint of the default model (about 300 kB) does not
    error = refused_under_file_size_limit(60_000, args, tiny_data, tmp_path)
    assert re.fullmatch(
        r"error: cannot write \S+/checkpoints/\S+\.ckpt: File too large; the files written before it are intact", error
    )
    run = tmp_path / "lightning_logs" / "version_0"
    assert "model:" in (run / "config.yaml").read_text() and not list(tmp_path.rglob("*.ckpt"))


def test_a_real_refused_write_of_config_yaml_is_one_line_before_training(tiny_data, tmp_path):
    """config.yaml (about 3 kB), the run's first file, refused past 1 kB: nothing trained, nothing left."""
    args = ["fit", *QUICK, "--trainer.default_root_dir", str(tmp_path)]
    error = refused_under_file_size_limit(1_000, args, tiny_data, tmp_path)
    assert re.fullmatch(
        r"error: cannot write \S+/version_0/config\.yaml: File too large; the files written before it are intact", error
    )
    assert not list(tmp_path.rglob("config.yaml")) and not list(tmp_path.rglob("*.ckpt"))


def test_a_real_refused_write_of_predictions_or_an_onnx_file_is_one_line(tiny_data, tmp_path):
    """predictions.csv (written a batch at a time) and the ONNX export, refused by the kernel part-way:
    one line naming the file, exit 1, no file and no .partial left."""
    from lstm_mnist.apps.export import main as export_main

    run_main("fit", *QUICK, root=tmp_path / "trained", data_dir=tiny_data)
    last = str(only((tmp_path / "trained").rglob("last.ckpt")))
    # config.yaml (about 3 kB) fits under 8 kB; the 200 rows of predictions.csv (about 10 kB) do not
    root = tmp_path / "p"
    args = ["predict", "--ckpt_path", last, "--data.eval_batch_size", "50", "--trainer.enable_progress_bar", "false"]
    args += ["--trainer.default_root_dir", str(root)]
    error = refused_under_file_size_limit(8_000, args, tiny_data, root)
    assert re.fullmatch(
        r"error: cannot write \S+/predictions\.csv: File too large; the files written before it are intact", error
    )
    assert only(root.rglob("config.yaml")).is_file() and not list(root.rglob("predictions.csv"))
    # the default model's ONNX file is about 120 kB
    onnx = tmp_path / "e" / "model.onnx"
    args = ["--ckpt_path", last, "--output", str(onnx), "--data_dir", str(tiny_data)]
    error = refused_under_file_size_limit(50_000, args, tiny_data, tmp_path / "e", entry=export_main)
    assert error == f"error: cannot write {onnx}: File too large; the files written before it are intact"
    assert not onnx.exists()


@pytest.mark.parametrize("name", ["config.yaml", "predictions.csv"])
def test_other_files_a_later_command_reads_are_written_atomically(name, tiny_data, tmp_path, monkeypatch):
    """A write that fails half-way leaves no file and no ``.partial`` behind, and names the file."""
    if name == "config.yaml":
        args = ("fit", *QUICK)
    else:
        run_main("fit", *QUICK, root=tmp_path / "trained", data_dir=tiny_data)
        args = ("predict", "--ckpt_path", str(only((tmp_path / "trained").rglob("last.ckpt"))))
    real_replace = os.replace

    def rename_fails(source, target):
        if Path(target).name == name:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", rename_fails)
    refused(*args, root=tmp_path / "run", data_dir=tiny_data, expect=f"{name}: Input/output error")
    assert not list((tmp_path / "run").rglob(name)) and not list((tmp_path / "run").rglob("*.partial"))


def test_a_real_refused_write_of_the_tensorboard_events_is_one_line(tiny_data, tmp_path):
    """TensorBoard writes its events from a thread of its own; the refused write surfaces in the run's
    next log call, wrapped by Lightning. Still one line naming the events file, and everything
    before it readable: the checkpoints of step 10 and the events file's whole records."""
    # With pictures at every validation the events file passes 150 kB at step 20, while a checkpoint
    # of this model is about 19 kB
    args = [*RUN, "--model.hidden_size", "4", "--pictures.every_n_validations", "1"]
    args += ["--trainer.limit_train_batches", "40", "--trainer.default_root_dir", str(tmp_path)]
    args += ["--trainer.enable_progress_bar", "true"]  # the error must not follow the bars it interrupts
    error = refused_under_file_size_limit(150_000, args, tiny_data, tmp_path)
    run = tmp_path / "lightning_logs" / "version_0"
    events = only(run.glob("events.out.tfevents.*"))
    assert error == f"error: cannot write {events}: File too large; the files written before it are intact"
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 10
    assert [step for step, _ in read_scalars(run)["val/acc"]][:1] == [10]


def test_a_real_refused_write_of_a_sweeps_sqlite_study_is_one_line_and_the_trials_before_stay(tiny_data, tmp_path):
    """The study (about 115 kB, made here as the sweep makes it) holds a finished trial; the sweep
    that goes on with it may write no file past 60 kB: SQLite writes the new trial (its table's
    page lies below 60 kB), then the trial's first heartbeat is refused (its page lies above). The
    trial started half-way does not count: the same command, space freed, completes the budget."""
    from test_sweep import SPACE, TRIAL_FLAGS

    from lstm_mnist.apps import sweep

    (tmp_path / "space.yaml").write_text(SPACE)
    args = ["--n_trials", "2", "--space", str(tmp_path / "space.yaml"), *TRIAL_FLAGS]
    args += ["--data.data_dir", str(tiny_data), "--trainer.default_root_dir", str(tmp_path)]
    study_file = tmp_path / "sweeps" / "sweep" / "study.db"
    study_file.parent.mkdir(parents=True)
    study = optuna.create_study(study_name="sweep", storage=f"sqlite:///{study_file}", direction="maximize")
    study.add_trial(optuna.trial.create_trial(value=0.5))
    error = refused_under_file_size_limit(60_000, args, tiny_data, tmp_path, entry=sweep.main)
    assert re.fullmatch(
        rf"error: cannot write the study in sqlite:///{re.escape(str(study_file))}: (disk I/O error|database or disk "
        r"is full); the trials recorded before it are intact",
        error,
    )
    storage = f"sqlite:///{study_file}"
    assert [t.state.name for t in optuna.load_study(study_name="sweep", storage=storage).trials] == [
        "COMPLETE",
        "RUNNING",  # started half-way, by nobody
    ]
    result = call_main(sweep.main, args)
    assert result.code == 0, result.err
    states = [t.state.name for t in optuna.load_study(study_name="sweep", storage=storage).trials]
    assert states == ["COMPLETE", "RUNNING", "COMPLETE"]


def test_a_sweep_whose_trial_cannot_write_stops_and_the_same_command_goes_on(tiny_data, tmp_path):
    """A checkpoint of the default model (about 300 kB) refused: the sweep stops with the trial's
    one line, the trial is recorded as stopped and not counted, and the command run again (space
    freed) completes the budget."""
    from test_sweep import SPACE, TRIAL_FLAGS

    from lstm_mnist.apps import sweep

    (tmp_path / "space.yaml").write_text(SPACE)
    args = ["--n_trials", "2", "--space", str(tmp_path / "space.yaml"), *TRIAL_FLAGS, "--model.hidden_size", "64"]
    args += ["--data.data_dir", str(tiny_data), "--trainer.default_root_dir", str(tmp_path)]
    expect = r"error: cannot write \S+/version_0/checkpoints/\S+\.ckpt: File too large; .*"
    refused_under_file_size_limit(200_000, args, tiny_data, tmp_path, entry=sweep.main, expect=expect)
    result = call_main(sweep.main, args)
    assert result.code == 0, result.err
    assert "0 of 2 trials so far" in result.out and "  trial   0  stopped: cannot write " in result.out
    states = [
        t.state.name
        for t in optuna.load_study(study_name="sweep", storage=f"sqlite:///{tmp_path}/sweeps/sweep/study.db").trials
    ]
    assert states == ["FAIL", "COMPLETE", "COMPLETE"]
