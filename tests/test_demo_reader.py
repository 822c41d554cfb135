"""What the demo page says about a picture, without a browser: the model's own answer."""

import pytest
import torch

from lstm_mnist.apps.demo import Reader
from lstm_mnist.nets.recurrent import RecurrentClassifier
from lstm_mnist.training.recipe import LitLSTMClassifier


@pytest.mark.parametrize("bidirectional", [False, True])
def test_the_page_says_the_models_answer(bidirectional):
    torch.manual_seed(0)
    model = LitLSTMClassifier(RecurrentClassifier(hidden_size=8, bidirectional=bidirectional)).eval()
    images = torch.rand(6, 28, 28)
    with torch.inference_mode():
        expected = model(images)
    text, top, _, _ = Reader(model).answer(images[0])
    assert text == f"It reads a **{int(expected[0].argmax())}**."
    assert top == pytest.approx({str(d): float(p) for d, p in enumerate(expected[0].softmax(-1))})
