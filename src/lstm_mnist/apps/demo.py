"""``python demo.py --ckpt_path CKPT``: a local web page where you draw a digit (or upload a picture
of one) and watch the trained network read it, step by step (``--numbers``, or a number reader's
checkpoint: a whole number, apps/number_demo.py).

Built with Gradio (the ``demo`` extra). The page shows the digit the model reads, its three most
likely answers, the 28x28 image it actually saw after the same preprocessing as ``predict``
(data/picture_reading.py), and how the probability of each digit changes after every row, column or pixel
it reads. It listens on 127.0.0.1 unless ``--host`` says otherwise, makes no share link and no
analytics calls.
"""

import argparse
import os
import re
import socket
import warnings

import numpy as np
import torch
from matplotlib.figure import Figure  # not pyplot: no display backend, one figure per answer
from PIL import Image
from torch import Tensor

from lstm_mnist.apps.export import trained_model
from lstm_mnist.apps.program import program
from lstm_mnist.data.picture_reading import UnreadablePicture, picture_to_mnist, read_picture
from lstm_mnist.errors import UserInputError
from lstm_mnist.storage.bundled_model import DIGIT_READER, NUMBER_READER, given_or_bundled
from lstm_mnist.training.digit_classifier import DigitClassifier
from lstm_mnist.training.number_reader import NumberReader

WELCOME = "Draw a digit, then press **Read it**."
DRAW_FIRST = "Draw a digit first (or upload a picture of one)."
CANVAS_SIDE = 400
SEEN_SCALE = 10  # the 28x28 image the model saw, shown at 280x280 with square pixels
# A digit's picture is a few kB to a few MB (a phone photo); anything far larger is refused before it is read.
MAX_FILE_SIZE = "20mb"
# Gradio keeps every picture a visitor sends and every picture the page answers with as a file; a
# page open for weeks would hold them all. Its browser fetches the pictures within a second.
KEEP_FILES_FOR = 3600


class Reader:
    """What the page does with a picture: read it with the model, and describe what happened. A
    page of another kind (the number page, apps/number_demo.py) changes how a picture is read, what
    it asks for first and how many answers it shows."""

    read_drawing = staticmethod(picture_to_mnist)  # a PIL image -> what ``answer`` takes
    read_file = staticmethod(read_picture)  # a path -> the same
    first = DRAW_FIRST  # what a page given nothing says
    shown = 4  # the page's outputs: the answer and what goes with it

    def __init__(self, model: DigitClassifier) -> None:
        self.model = model

    def drawing(self, sketch: dict | None):
        """The Sketchpad's value: ``composite`` is the drawing, RGBA, ink on opaque white."""
        composite = None if sketch is None else sketch.get("composite")
        if composite is None:
            return self.message(self.first)
        try:
            return self.answer(self.read_drawing(Image.fromarray(composite)))
        except UnreadablePicture:  # nothing drawn: the reading finds no ink
            return self.message(self.first)

    def upload(self, path: str | None):
        if path is None:
            return self.message(self.first)
        try:
            return self.answer(self.read_file(path))
        except ValueError as error:  # UnreadablePicture, or Pillow failing on an odd file
            return self.message(f"That file could not be read: {error}.")

    def message(self, text: str):
        return (text,) + (None,) * (self.shown - 1)

    def answer(self, image: Tensor):
        with torch.inference_mode():
            logits, steps, step_logits = self.model.answer_and_steps(image[None])
        final = logits[0].softmax(dim=-1)  # [10]
        digit = int(final.argmax())
        seen = (image.numpy() * 255).round().astype(np.uint8)
        seen = np.kron(seen, np.ones((SEEN_SCALE, SEEN_SCALE), dtype=np.uint8))
        top = {str(d): float(final[d]) for d in range(len(final))}
        chart = None if step_logits is None else self.chart(steps, step_logits[0].softmax(dim=-1), digit)
        return f"It reads a **{digit}**.", top, seen, chart

    def chart(self, steps: list[int], probabilities: Tensor, digit: int):
        """What the network would answer had it stopped after t steps (``probabilities``: ``[len(steps),
        10]``), each digit a line; the final answer's digit drawn bold. The last point is the answer."""
        figure = Figure(figsize=(6, 3.2), layout="constrained")
        axes = figure.add_subplot()
        for d in range(probabilities.shape[1]):
            width, alpha = (2.5, 1.0) if d == digit else (1.0, 0.55)
            axes.plot(steps, probabilities[:, d].numpy(), label=str(d), linewidth=width, alpha=alpha)
        # pad: room above the axes for the page's label, which Gradio draws over the figure's top-left corner
        name = self.model.step_name
        axes.set_title(f"probability of each digit had it stopped after t of the {steps[-1]} {name}", pad=18)
        axes.set_xlabel(f"{name} read (t)")
        axes.set_ylim(0, 1)
        axes.set_xlim(1, steps[-1])
        axes.legend(ncols=5, fontsize="small", loc="upper left")
        return figure


def build_page(model: DigitClassifier, keep_files_for: int):
    """The page. The files Gradio makes for it (the pictures visitors send, those it answers with)
    are deleted once ``keep_files_for`` seconds old, checked as often, and all when it stops."""
    import gradio as gr

    reader = Reader(model)
    steps = model.step_name.removesuffix("s")  # rows -> row
    forget = (keep_files_for, keep_files_for)
    with gr.Blocks(title="lstm-mnist: watch an LSTM read your digit", delete_cache=forget) as page:
        gr.Markdown(
            f"## Draw a digit\nThe network reads your drawing one {steps} at a time "
            f"({model.description}, trained on {model.trained_on}); the chart shows its answer "
            f"forming after each {steps}."
        )
        with gr.Row():
            with gr.Column():
                sketch = gr.Sketchpad(
                    type="numpy",
                    canvas_size=(CANVAS_SIDE, CANVAS_SIDE),
                    brush=gr.Brush(default_size=24, colors=["#000000"], color_mode="fixed"),
                    label="Draw here (pick the brush)",
                    elem_id="sketch",
                )
                read = gr.Button("Read it", variant="primary")
                upload = gr.File(
                    label="...or upload a picture", file_types=["image"], type="filepath", elem_id="upload"
                )
            with gr.Column():
                answer = gr.Markdown(WELCOME, elem_id="answer")
                top = gr.Label(num_top_classes=3, label="Top 3", elem_id="top3")
                seen = gr.Image(label="What the model saw (28x28)", elem_id="seen", interactive=False)
        chart = gr.Plot(label=f"How the answer forms, {steps} by {steps}", elem_id="chart")
        outputs = [answer, top, seen, chart]
        read.click(reader.drawing, inputs=sketch, outputs=outputs)
        upload.upload(reader.upload, inputs=upload, outputs=outputs)
    return page


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def byte_count(size: str) -> int:
    """``20mb``, ``500 KB``, ``1gb`` or a number of bytes, as a number of bytes."""
    found = re.fullmatch(r"\s*(\d+)\s*(b|kb|mb|gb)?\s*", size, flags=re.IGNORECASE)
    if not found or int(found[1]) < 1:
        raise UserInputError(f"--max_file_size must be a size such as 20mb or 500kb, got {size!r}")
    return int(found[1]) * 1024 ** ["b", "kb", "mb", "gb"].index((found[2] or "b").lower())


def main(args: list[str] | None = None, block: bool = True):
    """``python demo.py``. With ``block=False`` (tests) the page is served from a thread and
    returned, to be stopped with its ``close()``."""
    parser = argparse.ArgumentParser(prog="demo.py", description="Draw a digit and watch a trained model read it.")
    parser.add_argument("--ckpt_path", help="a checkpoint written by this project's fit (default: the bundled model)")
    parser.add_argument(
        "--numbers",
        action="store_true",
        help="a page for whole numbers, read by the bundled number reader (a number reader's --ckpt_path gets it too)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 shares it on your network)")
    parser.add_argument("--port", type=int, default=7860, help="port to listen on (default: 7860)")
    parser.add_argument(
        "--max_file_size",
        default=MAX_FILE_SIZE,
        help=f"the largest upload accepted, e.g. 5mb or 500kb (default: {MAX_FILE_SIZE}); a larger one gets a message",
    )
    parser.add_argument(
        "--keep_files_for",
        type=int,
        default=KEEP_FILES_FOR,
        help=f"seconds the page keeps the pictures it is sent and answers with (default: {KEEP_FILES_FOR}); "
        "all are deleted when it stops",
    )
    options = parser.parse_args(args)
    with program():
        if options.keep_files_for < 1:
            raise UserInputError(f"--keep_files_for must be at least 1 second, got {options.keep_files_for}")
        max_file_size = byte_count(options.max_file_size)
        bundled = NUMBER_READER if options.numbers else DIGIT_READER
        model = trained_model(given_or_bundled(options.ckpt_path, "demo.py", name=bundled))
        if not port_free(options.host, options.port):
            raise UserInputError(f"port {options.port} on {options.host} is in use: choose another with --port")
        os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported: no calls out
        try:
            from lstm_mnist.apps.number_demo import build_number_page  # here: it builds on this module's Reader

            build = build_number_page if isinstance(model, NumberReader) else build_page
            page = build(model, options.keep_files_for)
        except ImportError as error:
            raise UserInputError(f"the demo needs the demo extra ({error}): pip install -e '.[demo]'") from error
    # Gradio's queue calls pandas in a way pandas 3 warns about at the first visitor; not the user's concern.
    for message in ("'future.no_silent_downcasting' is deprecated", "The copy keyword is deprecated"):
        warnings.filterwarnings("ignore", message=message, module="gradio.queueing")
    print(f"demo page: http://{options.host}:{options.port}  (Ctrl-C to stop)", flush=True)
    page.launch(
        server_name=options.host,
        server_port=options.port,
        share=False,
        quiet=True,
        prevent_thread_lock=not block,
        max_file_size=max_file_size,
    )
    return page
