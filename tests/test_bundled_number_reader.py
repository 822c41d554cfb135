"""The number reader the package ships: weights only, used when given no checkpoint under a number
config (and by ``demo.py --numbers``, ``read --numbers``), saying so first; it scores on the 10k MNIST
test lines what its card says, and its ONNX file reads as the weights do."""

import csv

import numpy as np
import pytest
import torch
from PIL import Image

from helpers.paths import REAL_DATA_DIR, ROOT
from helpers.reading import only, read_scalars
from helpers.running import call_main, run_main
from lstm_mnist.storage.bundled_model import NUMBER_READER, bundled_path, card, onnx_beside

pytestmark = pytest.mark.slow  # two bidirectional LSTM layers of 128 read every line
NUMBERS = str(ROOT / "configs" / "numbers.yaml")


def test_the_shipped_file_is_weights_only_and_small():
    path = bundled_path(NUMBER_READER)
    assert path.stat().st_size <= 4 * 2**20 and onnx_beside(path).stat().st_size <= 5 * 10**6
    checkpoint = torch.load(path, weights_only=True)
    assert set(checkpoint) >= {"state_dict", "hyper_parameters", "bundled"} and "optimizer_states" not in checkpoint
    assert checkpoint["bundled"]["recipe"] == "configs/numbers.yaml" and checkpoint["bundled"]["seed"] == 1
    from lstm_mnist import pretrained_number_reader

    reader = pretrained_number_reader(map_location="cpu").eval()
    assert reader.trained_on.startswith("MNIST and digits set in fonts")


@pytest.mark.real_mnist
def test_test_without_a_checkpoint_scores_what_the_card_says(tmp_path):
    result = run_main("test", "--config", NUMBERS, root=tmp_path, data_dir=REAL_DATA_DIR)
    assert result.err.splitlines()[0].startswith("model: the bundled number reader (configs/numbers.yaml, seed 1: ")
    scalars = read_scalars(only(tmp_path.glob("lightning_logs/version_*")))
    about = card(bundled_path(NUMBER_READER))
    assert scalars["test/acc"][-1][1] == pytest.approx(about["test_lines_acc"], abs=1e-4)
    assert scalars["test/cer"][-1][1] == pytest.approx(about["test_lines_cer"], abs=1e-4)


def test_predict_read_and_onnx_agree_on_pictures_of_numbers(tmp_path):
    """Numbers written as a user saves them (dark on white, larger): predict with the bundled reader
    under the number config, ``read --numbers`` through its ONNX file, the same numbers."""
    from lstm_mnist.read_command import main as read_main

    folder = tmp_path / "numbers"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for index in range(6):  # strokes of ones and sevens, drawn crudely: the answer matters less than agreeing
        picture = np.full((90, 60 * (index + 1)), 255, np.uint8)
        for digit in range(index + 1):
            left = 60 * digit + int(rng.integers(10, 20))
            picture[15:75, left : left + 8] = 0
        Image.fromarray(picture).save(folder / f"n{index}.png")
    run_main("predict", "--config", NUMBERS, "--data.predict_path", str(folder), root=tmp_path / "run")
    with open(only((tmp_path / "run").rglob("predictions.csv"))) as file:
        predicted = {row["path"]: row for row in csv.DictReader(file)}
    pictures = sorted(str(path) for path in folder.iterdir())
    result = call_main(read_main, ["--numbers", *pictures])
    assert result.code == 0, result.err
    for line, picture in zip(result.out.splitlines(), pictures, strict=True):
        row = predicted[picture]
        assert line == f"{picture}: {row['number'] or '(no digit)'} ({float(row['probability']):.4f})"
