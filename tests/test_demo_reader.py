"""What the demo page says about a picture, without a browser: the model's own answer."""

import pytest
import torch

from lstm_mnist.apps.demo import Reader
from lstm_mnist.nets.recurrent import RecurrentClassifier
from lstm_mnist.training.digit_classifier import DigitClassifier


@pytest.mark.parametrize("bidirectional", [False, True])
def test_the_page_says_the_models_answer(bidirectional):
    torch.manual_seed(0)
    model = DigitClassifier(RecurrentClassifier(hidden_size=8, bidirectional=bidirectional)).eval()
    images = torch.rand(6, 28, 28)
    with torch.inference_mode():
        expected = model(images)
    text, top, _, chart = Reader(model).answer(images[0])
    digit = int(expected[0].argmax())
    assert text == f"It reads a **{digit}**."
    assert top == pytest.approx({str(d): float(p) for d, p in enumerate(expected[0].softmax(-1))})
    # the chart's line for each digit ends at the answer's probability of it, at the 28th row
    (axes,) = chart.axes
    lines = axes.get_lines()
    assert [line.get_label() for line in lines] == [str(d) for d in range(10)]
    assert all(line.get_xdata()[-1] == 28 for line in lines)
    assert [float(line.get_ydata()[-1]) for line in lines] == pytest.approx([top[str(d)] for d in range(10)], abs=1e-5)
    assert axes.get_title() == "probability of each digit had it stopped after t of the 28 rows"
