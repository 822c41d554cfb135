"""Running the programs as a user would: in this process through a program's ``main(args)``
(``call_main``; ``run_main`` and ``refused`` for the training CLI), or as a new process where the
process is the point (``run_cli``)."""

import contextlib
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from helpers.paths import ROOT
from lstm_mnist.apps.cli import main
from lstm_mnist.data.idx_files import DATA_DIR_VARIABLE

# Small enough to train in seconds, large enough for validations at steps 50 and 100. No TensorBoard
# pictures: drawing them took a third of such a run (tests of the pictures ask for them).
TINY_ARGS = [
    *("--data.batch_size", "5", "--data.val_size", "100", "--data.eval_batch_size", "50"),
    *("--pictures.every_n_validations", "0"),
]
# One epoch of 10 steps, validated at step 10, no progress bar.
QUICK = [
    *TINY_ARGS,
    *("--trainer.max_epochs", "1", "--trainer.limit_train_batches", "10", "--trainer.val_check_interval", "10"),
    *("--trainer.enable_progress_bar", "false"),
]


@dataclass
class Result:
    """What a run of the CLI left: its exit status and what it printed."""

    code: int
    out: str
    err: str


def checkpoint_every(steps: int, folder: Path) -> list[str]:
    """Flags that add a checkpoint every ``steps`` training steps, kept in ``folder`` as ``step=S.ckpt``."""
    return [
        "--trainer.callbacks+=lightning.pytorch.callbacks.ModelCheckpoint",
        *("--trainer.callbacks.dirpath", str(folder), "--trainer.callbacks.every_n_train_steps", str(steps)),
        *("--trainer.callbacks.save_top_k", "-1", "--trainer.callbacks.filename", "{step}"),
    ]


def cli_environment(data_dir: Path | None, **extra: str) -> dict[str, str]:
    """This process's environment for a CLI process, with ``$LSTM_MNIST_DATA_DIR`` set to ``data_dir``
    (unset for None) and ``extra`` added."""
    env = {**os.environ, **extra}
    env.pop(DATA_DIR_VARIABLE, None)
    if data_dir is not None:
        env[DATA_DIR_VARIABLE] = str(data_dir)
    return env


def command_line(args, root: Path | None) -> list[str]:
    return [*args, *(["--trainer.default_root_dir", str(root)] if root is not None else [])]


@contextlib.contextmanager
def data_dir_variable(data_dir: Path | None):
    """``$LSTM_MNIST_DATA_DIR`` set to ``data_dir`` (unset for None) within the block."""
    saved = os.environ.pop(DATA_DIR_VARIABLE, None)
    if data_dir is not None:
        os.environ[DATA_DIR_VARIABLE] = str(data_dir)
    try:
        yield
    finally:
        os.environ.pop(DATA_DIR_VARIABLE, None)
        if saved is not None:
            os.environ[DATA_DIR_VARIABLE] = saved


def output_to(output: Path) -> None:
    """In a process forked from a test: its stdout and stderr into the file ``output`` (the file
    descriptors, and Python's objects, which pytest's capture had replaced)."""
    descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(descriptor, 1)
    os.dup2(descriptor, 2)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115


def call_main(entry, args: list[str]) -> Result:
    """``entry(args)``, a program's ``main`` (train, export, sweep, demo), in this process with its
    output captured, and its exit status as a shell would see it. An exception other than the
    program's own exit is what a user would see as a traceback, and fails the test by itself."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            entry(args)
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
    return Result(code, out.getvalue(), err.getvalue())


def run_main(*args: str, data_dir: Path | None = None, root: Path | None = None, check: bool = True) -> Result:
    """``lstm-mnist ARGS`` in this process through ``main(args)`` (``call_main``); ``root`` is the
    ``--trainer.default_root_dir``."""
    with data_dir_variable(data_dir):
        result = call_main(main, command_line(args, root))
    if check and result.code != 0:
        raise AssertionError(f"main({' '.join(args)}) exited {result.code}:\n{result.err[-4000:]}")
    return result


def run_cli(*args: str, data_dir: Path | None = None, root: Path | None = None, check: bool = True) -> Result:
    """``python train.py ARGS`` in a new process, for tests where the process is the point
    (signals, exit statuses, tracebacks, a fresh process reading a checkpoint, DDP)."""
    command = [sys.executable, str(ROOT / "train.py"), *command_line(args, root)]
    process = subprocess.run(command, capture_output=True, text=True, env=cli_environment(data_dir), cwd=ROOT)
    if check and process.returncode != 0:
        raise AssertionError(f"train.py {' '.join(args)} exited {process.returncode}:\n{process.stderr[-4000:]}")
    return Result(process.returncode, process.stdout, process.stderr)


def refused(
    *args: str,
    expect: str,
    data_dir: Path | None = None,
    root: Path | None = None,
    status: int = 1,
    nothing_written: bool = True,
) -> Result:
    """Run the CLI in this process on bad input: exit ``status`` (1 for this project's refusals,
    2 for LightningCLI's own), ``expect`` on stderr and (given ``root``, the run's folder) no
    checkpoint or predictions file left under it."""
    result = run_main(*args, data_dir=data_dir, root=root, check=False)
    assert result.code == status, (result.code, result.err[-3000:])
    assert expect in result.err, result.err[-3000:]
    if root is not None and nothing_written:
        assert not list(root.rglob("*.ckpt")) and not list(root.rglob("predictions.csv"))
        assert not list(root.rglob("*.partial"))
    return result
