"""A number reader as an ONNX file: input ``lines`` ``[N, 28, width]`` float32 in [0, 1], any N and
any width, output ``scores`` ``[N, steps, 11]`` (the digits 0-9 and the blank at every step,
logits; the best path of their softmax is the number, nets/ctc_decoding.py).

The graph is written by PyTorch's TorchScript exporter: the ``torch.export``-based one that the
digit classifier's export uses fails on an LSTM whose sequence length is free ("stack expects
each tensor to be equal size, but got [Min(s//4, s//56), ...]", torch 2.14), and a width fixed
at export would be no reader of numbers. ONNX's own LSTM operator takes any length.
"""

import io
import warnings

import torch
from torch import Tensor

from lstm_mnist.data.idx_files import default_data_dir, missing_files
from lstm_mnist.data.mnist_format import MNIST
from lstm_mnist.data.number_lines import NumberLinesDataModule
from lstm_mnist.nets.ctc_decoding import best_path
from lstm_mnist.training.number_reader import NumberReader

INPUT, OUTPUT = "lines", "scores"
CHECKED_LINES = 300  # test lines checked one at a time, each at its own width, then 8 in one batch
RANDOM_WIDTHS = (40, 160)  # where MNIST is missing: random lines of two widths


def number_reader_to_onnx(model: NumberReader) -> bytes:
    """The number reader as an ONNX file's bytes, batch and width left free."""
    import onnx  # noqa: F401  (the exporter needs it; missing, the caller says how to install it)

    from lstm_mnist.apps.export import RawPixelsToLogits  # here: export.py imports this module

    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter's notice
        # It warns that another batch size may fail at run time; the parity check runs batches of
        # 1 and of 8 lines, unlike the example of 3.
        warnings.filterwarnings("ignore", message="Exporting a model to ONNX with a batch_size other than 1")
        # A notice of the exporter's own optimiser (a slice it leaves as it is), not of the graph.
        warnings.filterwarnings("ignore", message="Constant folding - Only steps=1 can be constant folded")
        torch.onnx.export(
            RawPixelsToLogits(model).eval(),
            (torch.rand(3, MNIST.side, 57),),
            buffer,
            dynamo=False,
            input_names=[INPUT],
            output_names=[OUTPUT],
            dynamic_axes={INPUT: {0: "batch", 2: "width"}, OUTPUT: {0: "batch", 1: "steps"}},
        )
    return buffer.getvalue()


def lines_to_check(data_dir: str | None) -> tuple[list[Tensor], str]:
    """MNIST test lines (each ``[1, 28, its width]``) where MNIST is on this machine, else random
    lines of two widths; with the words that say which."""
    data_dir = data_dir or default_data_dir()
    if not missing_files(data_dir):
        data = NumberLinesDataModule(data_dir=data_dir, eval_batch_size=CHECKED_LINES)
        data.setup("test")
        lines, widths, _, _ = next(iter(data.test_dataloader()))
        singles = [line[None, :, :width] for line, width in zip(lines, widths)]
        return [*singles, lines[:8]], f"{len(lines)} MNIST test lines, one at a time and 8 together"
    generator = torch.Generator().manual_seed(0)
    batches = [torch.rand(4, MNIST.side, width, generator=generator) for width in RANDOM_WIDTHS]
    return batches, f"random lines {' and '.join(map(str, RANDOM_WIDTHS))} columns wide"


def number_differences(onnx_bytes: bytes, model: NumberReader, batches: list[Tensor]) -> tuple[int, float]:
    """``(lines read as another number, largest score difference)`` between onnxruntime and PyTorch."""
    import onnxruntime

    session = onnxruntime.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    mismatches, largest = 0, 0.0
    with torch.inference_mode():
        for lines in batches:
            expected = model(lines)
            (got,) = session.run([OUTPUT], {INPUT: lines.numpy()})
            largest = max(largest, float((torch.from_numpy(got) - expected).abs().max()))
            ours, theirs = expected.softmax(dim=-1).numpy(), torch.from_numpy(got).softmax(dim=-1).numpy()
            mismatches += sum(best_path(a)[0] != best_path(b)[0] for a, b in zip(ours, theirs))
    return mismatches, largest
