"""``python export.py --ckpt_path CKPT --output model.onnx``: a trained model as an ONNX file that
reads raw pixels, checked against PyTorch with onnxruntime before it is written (a number reader's:
apps/number_export.py, any width of line).

The graph holds everything between raw pixels and logits (the standardisation, the reading
order, the permutation of permuted MNIST), so a user needs onnxruntime and nothing else: input
``pixels`` ``[N, 28, 28]`` float32 in [0, 1] for any N, output ``logits`` ``[N, 10]``.
The file is written only when onnxruntime gives the same predictions as PyTorch on every checked
image and logits within ``TOLERANCE``; it is written whole or not at all (storage/atomic.py).
"""

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from lstm_mnist.apps.number_export import INPUT as LINES
from lstm_mnist.apps.number_export import OUTPUT as SCORES
from lstm_mnist.apps.number_export import lines_to_check, number_differences, number_reader_to_onnx
from lstm_mnist.apps.program import program
from lstm_mnist.data.idx_files import DATA_DIR_VARIABLE, default_data_dir, missing_files
from lstm_mnist.data.mnist import MNISTDataModule
from lstm_mnist.data.mnist_format import MNIST
from lstm_mnist.errors import UserInputError
from lstm_mnist.nets.network import class_path
from lstm_mnist.storage.atomic import write_atomically
from lstm_mnist.storage.bundled_model import given_or_bundled
from lstm_mnist.storage.checkpoint_reader import read_checkpoint
from lstm_mnist.training.digit_classifier import DigitClassifier
from lstm_mnist.training.number_reader import NumberReader

INPUT, OUTPUT = "pixels", "logits"
TOLERANCE = 1e-4  # largest difference allowed between onnxruntime's logits and PyTorch's
RANDOM_IMAGES = 256  # checked instead of the MNIST test set when it is not on this machine


class RawPixelsToLogits(nn.Module):
    """The exported computation: raw pixels in [0, 1] -> standardised -> the network -> its logits
    (a digit's, or a number reader's at every step). A module of its own so the graph holds the
    network and nothing of Lightning or the metrics."""

    def __init__(self, model: DigitClassifier | NumberReader) -> None:
        super().__init__()
        self.net = model.net
        self.standardize = model.standardize

    def forward(self, pixels: Tensor) -> Tensor:
        return self.net(self.standardize(pixels))


def to_onnx(model: DigitClassifier) -> bytes:
    """The model as an ONNX file's bytes, exported the way current PyTorch recommends (the
    ``torch.export``-based exporter), with the batch dimension left free."""
    import onnx  # noqa: F401  (the exporter needs it; missing, the error below says how to install it)

    # An example batch of 3, not 1: torch.export specialises a dimension of size 1 to a constant.
    example = torch.rand(3, MNIST.side, MNIST.side)
    with warnings.catch_warnings():
        # Raised by torch's own decompositions of the recurrent layers while tracing; they do not
        # concern the exported graph.
        warnings.filterwarnings("ignore", message=".*_check_is_size will be removed", category=FutureWarning)
        warnings.filterwarnings("ignore", message=r"The tensor attributes .*_flat_weights", category=UserWarning)
        program = torch.onnx.export(
            RawPixelsToLogits(model).eval(),
            (example,),
            dynamo=True,
            input_names=[INPUT],
            output_names=[OUTPUT],
            dynamic_shapes={INPUT: {0: torch.export.Dim("batch")}},
            verbose=False,
        )
    return program.model_proto.SerializeToString()


def largest_differences(onnx_bytes: bytes, model: DigitClassifier, images: Tensor) -> tuple[int, float]:
    """``(images predicted differently, largest logit difference)`` between onnxruntime running
    ``onnx_bytes`` and PyTorch running ``model`` on ``images``, in batches of 1,000."""
    import onnxruntime

    session = onnxruntime.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    mismatches, largest = 0, 0.0
    with torch.inference_mode():
        for batch in images.split(1000):
            expected = model(batch)
            (got,) = session.run([OUTPUT], {INPUT: batch.numpy()})
            got = torch.from_numpy(got)
            mismatches += int((got.argmax(1) != expected.argmax(1)).sum())
            largest = max(largest, float((got - expected).abs().max()))
    return mismatches, largest


def images_to_check(data_dir: str | None) -> tuple[Tensor, str]:
    """MNIST's 10k test images (raw pixels in [0, 1]) where they are on this machine, else random
    pixels; with the words that say which."""
    data_dir = data_dir or default_data_dir()
    if not missing_files(data_dir):
        data = MNISTDataModule(data_dir=data_dir)
        data.setup("test")
        images = data.splits["test"][0]
        return images, f"the {len(images):,} MNIST test images"
    images = torch.rand(RANDOM_IMAGES, MNIST.side, MNIST.side, generator=torch.Generator().manual_seed(0))
    return images, f"{RANDOM_IMAGES} random images (MNIST is not in {data_dir})"


def trained_model(ckpt_path: str) -> DigitClassifier | NumberReader:
    """The model a checkpoint holds, as the task that wrote it (a digit classifier or a number reader)."""
    checkpoint = read_checkpoint(ckpt_path)
    task = NumberReader if checkpoint["hyper_parameters"].get("_class_path") == class_path(NumberReader) else None
    return (task or DigitClassifier).from_checkpoint(checkpoint, ckpt_path).eval()


@dataclass(frozen=True)
class ExportForm:
    """What differs between exporting a digit classifier and a number reader: the exporter, what
    parity is checked on and how, and the words the user is told."""

    to_onnx: Callable
    to_check: Callable  # data_dir -> (what to check, its description)
    differences: Callable  # (onnx bytes, model, what to check) -> (answers that differ, largest difference)
    answers: str  # "predictions", "numbers"
    scores: str  # "logit", "score"
    signature: str  # the file's input and output, in words


DIGITS = ExportForm(
    to_onnx,
    images_to_check,
    largest_differences,
    "predictions",
    "logit",
    f"input '{INPUT}' [N, 28, 28] in [0, 1], output '{OUTPUT}' [N, 10]",
)
NUMBERS = ExportForm(
    number_reader_to_onnx,
    lines_to_check,
    number_differences,
    "numbers",
    "score",
    f"input '{LINES}' [N, 28, width] in [0, 1], output '{SCORES}' [N, steps, 11] (digits 0-9, then the blank)",
)


def export(ckpt_path: str, output: str, data_dir: str | None = None) -> str:
    """Export, check parity, write ``output``; returns what to tell the user. A number reader is
    exported with a free width and checked line by line (apps/number_export.py)."""
    model = trained_model(ckpt_path)
    form = NUMBERS if isinstance(model, NumberReader) else DIGITS
    described_model = model.description
    slow = " (784 steps a sequence: from 20 s to a few minutes)" if getattr(model, "step_name", "") == "pixels" else ""
    print(f"exporting the {described_model}...{slow}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        onnx_bytes = form.to_onnx(model)
    except ImportError as error:
        raise UserInputError(f"export needs the export extra ({error}): pip install -e '.[export]'") from error
    exported_in = time.perf_counter() - started
    checked, described = form.to_check(data_dir)
    mismatches, largest = form.differences(onnx_bytes, model, checked)
    if mismatches or largest > TOLERANCE:
        raise UserInputError(
            f"the ONNX graph does not match PyTorch on {described} ({mismatches} {form.answers} differ, largest "
            f"{form.scores} difference {largest:.1e}, allowed {TOLERANCE:.0e}); nothing was written"
        )
    write_atomically(output, lambda file: file.write(onnx_bytes))
    return (
        f"wrote {output} ({len(onnx_bytes) / 1e6:.2f} MB, exported in {exported_in:.1f} s): {described_model}; "
        f"{form.signature}\n"
        f"parity with PyTorch on {described}: {form.answers} identical, largest {form.scores} difference {largest:.1e}"
    )


def main(args: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="export.py",
        description="Export a trained checkpoint to ONNX (raw pixels in, logits out) and check it with onnxruntime.",
    )
    parser.add_argument("--ckpt_path", help="a checkpoint written by this project's fit (default: the bundled model)")
    parser.add_argument("--output", default="model.onnx", help="the ONNX file to write (default: model.onnx)")
    parser.add_argument(
        "--data_dir",
        help=f"folder holding MNIST/raw/, whose 10k test images check the export (default: ${DATA_DIR_VARIABLE} "
        "or data); without them, random images are checked",
    )
    options = parser.parse_args(args)
    with program():
        print(export(given_or_bundled(options.ckpt_path, "export.py"), options.output, options.data_dir))
