"""``lstm-mnist read PICTURE... [--numbers] [--ckpt_path P | --onnx F]``: the digit (or the whole
number) in each picture, at once.

A person reading one photo wants the answer, not a Trainer: this imports neither Lightning nor
torchvision, and on its fastest path not even torch. Pictures are read as ``predict`` reads them
(data/picture_reading.py: numpy and Pillow); the model answers through onnxruntime from an ONNX
file (the bundled model's, shipped beside its weights, or ``--onnx F`` from ``export.py``), or,
with ``--ckpt_path`` or without onnxruntime, through plain PyTorch. One line a picture:
``PATH: DIGIT (PROBABILITY)``; a picture it cannot read is one line on stderr, and the exit status
is 1 if there was any. ``--numbers`` reads each picture as a line of digits with the bundled number
reader (a number reader's ``--ckpt_path`` or ``--onnx`` file does so by itself): ``PATH: NUMBER
(PROBABILITY)``, decoded by CTC's best path (nets/ctc_decoding.py).
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from lstm_mnist.data.mnist_format import MNIST
from lstm_mnist.data.picture_reading import read_line_array, read_picture_array
from lstm_mnist.errors import UserInputError
from lstm_mnist.nets.ctc_decoding import best_path
from lstm_mnist.storage.bundled_model import DIGIT_READER, NUMBER_READER, onnx_beside, the_bundled_model

BATCH = 256  # pictures a model call reads


class Refused(Exception):
    """A problem with what the user asked for: said in one line, exit status 1."""


class Model:
    """A function from raw pixels (``[N, 28, 28]`` images, or ``[1, 28, width]`` lines) to logits,
    and whether it reads numbers (a number reader's scores at every step) or digits."""

    def __init__(self, logits, reads_numbers: bool) -> None:
        self.logits, self.reads_numbers = logits, reads_numbers

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        return self.logits(pixels)


def onnx_model(path: Path):
    """A function from raw pixels ``[N, 28, 28]`` in [0, 1] to logits, through onnxruntime."""
    import onnxruntime

    if not path.is_file():
        raise Refused(f"--onnx {path} does not exist: give a file that export.py wrote")
    try:
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime's own error types differ by version
        raise Refused(f"{path} is not an ONNX model onnxruntime can run ({str(error).splitlines()[0]})") from error
    name = session.get_inputs()[0].name
    # a number reader's file takes `lines` of any width (apps/number_export.py), a digit model's `pixels`
    return Model(lambda pixels: session.run(None, {name: pixels})[0], reads_numbers=name == "lines")


def torch_model(path: Path):
    """The same through plain PyTorch, from a checkpoint read safely (no Lightning)."""
    import torch

    from lstm_mnist.storage.checkpoint_reader import build_network, read_checkpoint

    try:
        checkpoint = read_checkpoint(path)
        settings = checkpoint["hyper_parameters"]
        net = build_network(settings["net"])
        weights = {k.removeprefix("net."): v for k, v in checkpoint["state_dict"].items() if k.startswith("net.")}
        net.load_state_dict(weights)
    except UserInputError as error:
        raise Refused(str(error)) from error
    except (RuntimeError, TypeError, ValueError) as error:
        raise Refused(f"{path}: its weights do not fit the hyperparameters stored with them") from error
    net.eval()
    normalize = settings.get("normalize_input", True)

    def logits(pixels: np.ndarray) -> np.ndarray:
        images = torch.from_numpy(pixels)
        with torch.inference_mode():
            return net(MNIST.standardized(images) if normalize else images).numpy()

    return Model(logits, reads_numbers=hasattr(net, "steps"))  # a number reader's network says its steps


def chosen_model(ckpt_path: str | None, onnx: str | None, numbers: bool = False) -> Model:
    if onnx:
        try:
            return onnx_model(Path(onnx))
        except ImportError as error:
            raise Refused(f"--onnx needs onnxruntime ({error}): pip install -e '.[export]'") from error
    if ckpt_path:
        return torch_model(Path(ckpt_path))
    try:
        weights = the_bundled_model("read", name=NUMBER_READER if numbers else DIGIT_READER)
    except UserInputError as error:
        raise Refused(str(error)) from error
    try:
        return onnx_model(onnx_beside(weights))
    except ImportError:  # no onnxruntime: the bundled weights through PyTorch
        return torch_model(weights)


def probabilities(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def read_numbers(pictures: list[str], model: Model) -> int:
    """Print each picture's number, in the order given, a picture at a time (each its own width);
    returns how many could not be read."""
    unreadable = 0
    for name in pictures:
        found = picture_or_why(name, read_line_array)
        if isinstance(found, str):
            print(f"{name}: {found}", file=sys.stderr, flush=True)
            unreadable += 1
            continue
        number, probability = best_path(probabilities(model(found[None])[0]))
        print(f"{name}: {number or '(no digit)'} ({probability:.4f})", flush=True)
    return unreadable


def read(pictures: list[str], model: Model) -> int:
    """Print each picture's digit, in the order given; returns how many could not be read."""
    if model.reads_numbers:
        return read_numbers(pictures, model)
    unreadable = 0
    for start in range(0, len(pictures), BATCH):
        read_here = [(name, picture_or_why(name)) for name in pictures[start : start + BATCH]]
        arrays = [found for _, found in read_here if isinstance(found, np.ndarray)]
        chances = iter(probabilities(model(np.stack(arrays))) if arrays else ())
        for name, found in read_here:
            if isinstance(found, str):
                print(f"{name}: {found}", file=sys.stderr, flush=True)
                unreadable += 1
                continue
            row = next(chances)
            digit = int(row.argmax())
            print(f"{name}: {digit} ({row[digit]:.4f})", flush=True)
    return unreadable


def picture_or_why(name: str, reading=read_picture_array) -> np.ndarray | str:
    """The picture at ``name`` in MNIST's form (or ``reading``'s), or why it cannot be read, in a
    user's words."""
    path = Path(name)
    if not path.exists():
        return "no such file"
    if path.is_dir():
        return "a folder, not a picture (predict reads folders: --data.predict_path)"
    try:
        return reading(path)
    except ValueError as error:  # UnreadablePicture, or Pillow failing on an odd file
        return str(error)


def main(args: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="lstm-mnist read",
        description="The digit in each picture: PATH: DIGIT (PROBABILITY). Without a model named, the bundled one.",
    )
    parser.add_argument("pictures", nargs="+", help="picture files (PNG, JPEG and the other formats Pillow reads)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--ckpt_path", help="a checkpoint written by this project's fit (read through PyTorch)")
    which.add_argument("--onnx", help="an ONNX file written by export.py (read through onnxruntime)")
    parser.add_argument(
        "--numbers", action="store_true", help="read whole numbers, with the bundled number reader: PATH: NUMBER"
    )
    options = parser.parse_args(sys.argv[1:] if args is None else args)
    try:
        model = chosen_model(options.ckpt_path, options.onnx, options.numbers)
        if options.numbers and not model.reads_numbers:
            raise Refused(f"--numbers needs a number reader: {options.ckpt_path or options.onnx} reads single digits")
    except Refused as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    if read(options.pictures, model):
        sys.exit(1)
