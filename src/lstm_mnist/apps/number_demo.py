"""The demo page of a number reader (``python demo.py --numbers``, or ``--ckpt_path`` of one): a wide
canvas to write a number on, or a picture of one to upload; the page shows the number read, the line
the reader saw (the same reading as ``predict``: data/picture_reading.to_line_form) and how the number
forms along it, the probability of every digit and of the blank at each step."""

import numpy as np
import torch

from lstm_mnist.apps.demo import Reader
from lstm_mnist.data.picture_reading import picture_to_line_array, read_line_array
from lstm_mnist.nets.ctc_decoding import best_path
from lstm_mnist.training.figures import number_forms_figure
from lstm_mnist.training.number_reader import NumberReader

WELCOME = "Write a number, then press **Read it**."
WRITE_FIRST = "Write a number first (or upload a picture of one)."
CANVAS = (1000, 300)  # pixels: room for eight or so digits written as large as a digit on the digit page
SEEN_SCALE = 4  # the line the reader saw, shown with square pixels this many screen pixels a side


class NumberPageReader(Reader):
    """What the page does with a picture of a number: read it in line form, and show how."""

    read_drawing = staticmethod(picture_to_line_array)
    read_file = staticmethod(read_line_array)
    first = WRITE_FIRST
    shown = 3  # the answer, the line seen, the chart

    def answer(self, line: np.ndarray):
        with torch.inference_mode():
            probabilities = self.model(torch.from_numpy(line)[None])[0].softmax(dim=-1)
        number, probability = best_path(probabilities.numpy())
        said = f"It reads **{number}** (probability {probability:.2f})." if number else "It reads no digit."
        seen = np.kron((line * 255).round().astype(np.uint8), np.ones((SEEN_SCALE, SEEN_SCALE), dtype=np.uint8))
        stride = getattr(self.model.net, "column_stride", 1)  # columns a step reads
        chart = number_forms_figure([(torch.from_numpy(line), probabilities, stride, "?", number)])
        return said, seen, chart


def build_number_page(model: NumberReader, keep_files_for: int):
    """The page, its files kept ``keep_files_for`` seconds as the digit page's."""
    import gradio as gr

    reader = NumberPageReader(model)
    forget = (keep_files_for, keep_files_for)
    with gr.Blocks(title="lstm-mnist: watch an LSTM read your number", delete_cache=forget) as page:
        gr.Markdown(
            "## Write a number\nThe network reads your writing column by column "
            f"({model.description}, trained on {model.trained_on}) and scores every step as a digit or "
            "none; the chart shows where each digit forms."
        )
        sketch = gr.Sketchpad(
            type="numpy",
            canvas_size=CANVAS,
            brush=gr.Brush(default_size=16, colors=["#000000"], color_mode="fixed"),
            label="Write here (pick the brush)",
            elem_id="sketch",
        )
        with gr.Row():
            read = gr.Button("Read it", variant="primary")
            upload = gr.File(label="...or upload a picture", file_types=["image"], type="filepath", elem_id="upload")
        answer = gr.Markdown(WELCOME, elem_id="answer")
        seen = gr.Image(label="What the reader saw (28 pixels high)", elem_id="seen", interactive=False)
        chart = gr.Plot(label="How the number forms, column by column", elem_id="chart")
        outputs = [answer, seen, chart]
        read.click(reader.drawing, inputs=sketch, outputs=outputs)
        upload.upload(reader.upload, inputs=upload, outputs=outputs)
    return page
