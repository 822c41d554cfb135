"""The trained model the package ships: what every command that reads a checkpoint uses when the
user gives none, so that nothing answers with an untrained network and nobody must train first.

The file is a checkpoint of this project, weights and plain values only (``torch.load(...,
weights_only=True)`` reads it), stripped of what only resuming needs (optimizer state, loops,
callbacks), with a ``bundled`` entry saying what it is: the recipe and seed that trained it and
its figure on MNIST's test set. ``apps/bundle.py`` makes it from a fit's ``last.ckpt``; the README's
model card says how it reads digits from elsewhere.
"""

import sys
from importlib import resources
from pathlib import Path

from lstm_mnist.errors import UserInputError

BUNDLED_FOLDER = "bundled"  # in the package, as package data
DIGIT_READER = "digit-reader.ckpt"  # a DigitClassifier: one digit a picture
NUMBER_READER = "number-reader.ckpt"  # a NumberReader: a whole number a picture
CARD_KEY = "bundled"  # the checkpoint's entry that says what the bundled model is


def bundled_path(name: str = DIGIT_READER) -> Path:
    """Where the installed package keeps a bundled model (setuptools installs package data as
    files, in a wheel's install as in an editable one)."""
    return Path(str(resources.files("lstm_mnist").joinpath(BUNDLED_FOLDER, name)))


def onnx_beside(weights: Path) -> Path:
    """Where the ONNX form of a model file goes: beside it (``apps/bundle.py`` writes both; the
    package's is what ``lstm-mnist read`` answers with)."""
    return Path(weights).with_suffix(".onnx")


def the_bundled_model(command: str, untrained_flag: bool = False, name: str = DIGIT_READER) -> Path:
    """The bundled model's file (``name``: the digit or the number reader), for a command given no
    checkpoint; where an install lacks it, one line: nothing answers with an untrained network
    unasked (``untrained_flag``: the command has ``--untrained``, and the line says so)."""
    path = bundled_path(name)
    if not path.is_file():
        raise UserInputError(
            f"{command} needs a trained model: --ckpt_path PATH (a checkpoint that fit wrote, e.g. "
            f"lightning_logs/version_0/checkpoints/last.ckpt); this install has no bundled model ({path})"
            + (f"; --untrained true {command}s an untrained network on purpose" if untrained_flag else "")
        )
    return path


def card(checkpoint_path: str | Path | None = None) -> dict:
    """The ``bundled`` entry of a bundled model's file (the package's, unless a path is given)."""
    import torch  # here, not at import: `lstm-mnist read` finds the ONNX file without torch

    path = Path(checkpoint_path) if checkpoint_path else bundled_path()
    return torch.load(path, map_location="cpu", weights_only=True, mmap=True)[CARD_KEY]


def first_line(checkpoint_path: str | Path | None = None) -> str:
    """What a command says first when it uses the bundled model."""
    about = card(checkpoint_path)
    if "test_lines_acc" in about:
        return (
            f"model: the bundled number reader ({about['recipe']}, seed {about['seed']}: "
            f"{about['test_lines_acc']:.2%} of the 10k MNIST test lines read whole, character error rate "
            f"{about['test_lines_cer']:.2%}); give --ckpt_path to use one of your own"
        )
    return (
        f"model: the bundled model ({about['recipe']}, seed {about['seed']}: {about['mnist_test_acc']:.2%} on "
        "MNIST's 10k test set); give --ckpt_path to use one of your own"
    )


def given_or_bundled(
    ckpt_path: str | None, command: str, untrained_flag: bool = False, name: str = DIGIT_READER
) -> str:
    """``ckpt_path``, or the bundled model's file, said on stderr first, when none is given."""
    if ckpt_path:
        return ckpt_path
    path = the_bundled_model(command, untrained_flag, name)
    print(first_line(path), file=sys.stderr, flush=True)
    return str(path)
