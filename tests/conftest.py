"""Shared helpers: tiny MNIST-format IDX files, running the CLI as a user would, reading events."""

import os

# The suite runs in one process per core (pytest-xdist, see pyproject.toml). PyTorch's own threads
# in each would fight over the same cores: on 2 cores that took over ten minutes instead of two.
# One thread per process is also the faster setting for these small LSTMs. Set before torch loads.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import contextlib
import io
import subprocess
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from lstm_mnist.cli import main
from lstm_mnist.data import DATA_DIR_VARIABLE, missing_files

ROOT = Path(__file__).resolve().parents[1]
REAL_DATA_DIR = os.environ.get(DATA_DIR_VARIABLE)
# Tests on the real MNIST: marked slow (``pytest -m "not slow"`` leaves them out of a quick run),
# and skipped, with the reason, where the data is not there. CI has the data and runs them.
real_mnist = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not REAL_DATA_DIR or bool(missing_files(REAL_DATA_DIR)),
        reason="real MNIST not available: set LSTM_MNIST_DATA_DIR to a folder holding MNIST/raw/ (.ci/run does)",
    ),
]


def pytest_collection_modifyitems(items) -> None:
    """The long tests (real MNIST) first, those that share the model ``trained_on_mnist`` trains
    at their head: the model is trained at once, and the test processes end together on short
    tests instead of one idling while the other finishes a 20-second run."""
    items.sort(key=lambda item: (item.get_closest_marker("slow") is None, "trained_on_mnist" not in item.fixturenames))


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array in the IDX format MNIST ships in (magic 0x08 = unsigned byte)."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    path.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def digit_like_images(labels: np.ndarray, seed: int) -> np.ndarray:
    """Noise with a bright bar at a row that depends on the label, so a model can learn it."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 60, size=(len(labels), 28, 28), dtype=np.uint8)
    for image, label in zip(images, labels):
        image[4 + 2 * label, 4:24] = 255
    return images


def make_tiny_mnist(data_dir: Path, train: int = 600, test: int = 200) -> Path:
    """``data_dir/MNIST/raw`` with the four files MNIST ships, holding ``train`` and ``test`` images."""
    raw = data_dir / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, count, seed in (("train", train, 0), ("t10k", test, 1)):
        labels = np.arange(count, dtype=np.uint8) % 10
        write_idx(raw / f"{prefix}-images-idx3-ubyte", digit_like_images(labels, seed))
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    return data_dir


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    return make_tiny_mnist(tmp_path_factory.mktemp("tiny_data"))


@pytest.fixture(scope="session")
def trained_on_mnist(tmp_path_factory) -> Path:
    """The run folder of one epoch of the default config on the real MNIST (97% on the test set), made
    once for the whole suite: the first test process to ask trains it, the others wait and share it."""
    from filelock import FileLock

    this_session = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # each pytest-xdist worker's folder sits in this session's
        this_session = this_session.parent
    root = this_session / "one_epoch_of_mnist"
    with FileLock(f"{root}.lock"):
        if not (root / "trained").exists():
            run_main("fit", "--trainer.max_epochs", "1", root=root, data_dir=Path(REAL_DATA_DIR))
            (root / "trained").touch()
    return root


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


def only(paths):
    """The one path in ``paths``."""
    paths = list(paths)
    assert len(paths) == 1, paths
    return paths[0]


def accuracy(model, images, labels) -> float:
    """A model's accuracy on tensors, computed here in plain PyTorch."""
    import torch

    with torch.inference_mode():
        return (model(images).argmax(dim=1) == labels).float().mean().item()


def read_scalars(log_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar in a run's TensorBoard events, as ``tag -> [(step, value), ...]``."""
    events = EventAccumulator(str(log_dir), size_guidance={"scalars": 0})
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def png_header_only(path: Path, side: int, colour_type: int = 0) -> Path:
    """A PNG of a few dozen bytes that declares ``side`` x ``side`` pixels (colour type 0: grey, 2:
    RGB) and holds none: past Pillow's limit, a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = side.to_bytes(4, "big") * 2 + bytes([8, colour_type, 0, 0, 0])
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"") + chunk(b"IEND", b""))
    return path


def write_user_style_digits(images, labels, folder: Path) -> dict[str, int]:
    """Save digits as a user would photograph or draw them: PNG and JPEG, grey and colour, any size,
    dark ink on light paper and light on dark, off-centre, phone photos stored sideways with an EXIF
    orientation, drawings on a transparent background. Returns ``file name -> true digit``."""
    from PIL import ExifTags, Image

    folder.mkdir(parents=True, exist_ok=True)
    truth = {}
    for index, (image, label) in enumerate(zip(images, labels)):
        pixels = (np.asarray(image, dtype=np.float32) * 255).astype(np.uint8)  # light digit on dark
        style = index % 6
        if style == 0:  # black ink on white paper, RGB JPEG, large and off-centre
            digit = Image.fromarray(255 - pixels).convert("RGB").resize((140, 140), Image.BICUBIC)
            page = Image.new("RGB", (320, 240), "white")
            page.paste(digit, (150, 60))
            name = f"{index:02d}_paper.jpg"
            page.save(folder / name, quality=90)
        elif style == 1:  # light on dark, grey PNG, small canvas
            digit = Image.fromarray(pixels).resize((56, 56), Image.BILINEAR)
            page = Image.new("L", (90, 70), 0)
            page.paste(digit, (5, 7))
            name = f"{index:02d}_dark.png"
            page.save(folder / name)
        elif style == 2:  # blue ballpoint on cream paper, RGB PNG
            ink = (
                np.asarray(Image.fromarray(pixels).resize((100, 100), Image.BICUBIC), dtype=np.float32)[..., None] / 255
            )
            paper, pen = np.array([245, 240, 225], np.float32), np.array([20, 40, 150], np.float32)
            page = (paper * (1 - ink) + pen * ink).astype(np.uint8)
            name = f"{index:02d}_blue.png"
            Image.fromarray(page).save(folder / name)
        elif style == 3:  # a tall narrow crop, grey JPEG, dark on light
            digit = Image.fromarray(255 - pixels).resize((60, 90), Image.BICUBIC)
            page = Image.new("L", (120, 160), 230)
            page.paste(digit, (20, 40))
            name = f"{index:02d}_narrow.jpg"
            page.save(folder / name, quality=85)
        elif style == 4:  # a phone photo: the pixels as the sensor saw them, sideways, and the EXIF tag that turns them
            page = Image.new("RGB", (300, 400), (235, 235, 230))
            page.paste(Image.fromarray(255 - pixels).convert("RGB").resize((200, 200), Image.BICUBIC), (50, 100))
            orientation = 6 if index % 12 == 4 else 8  # shown turned 90 degrees one way or the other
            exif = Image.Exif()
            exif[ExifTags.Base.Orientation] = orientation
            stored = page.transpose(Image.Transpose.ROTATE_90 if orientation == 6 else Image.Transpose.ROTATE_270)
            name = f"{index:02d}_phone.jpg"
            stored.save(folder / name, quality=90, exif=exif)
        else:  # black ink on a transparent background, as drawing apps and HTML canvases export
            ink = Image.fromarray(pixels).resize((120, 120), Image.BICUBIC)
            black = Image.new("L", ink.size, 0)
            name = f"{index:02d}_drawing.png"
            Image.merge("RGBA", (black, black, black, ink)).save(folder / name)
        truth[name] = int(label)
    return truth
