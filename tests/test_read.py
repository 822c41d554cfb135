"""``lstm-mnist read``: the digit of each picture at once, in a fresh process that imports neither
Lightning nor torchvision (nor torch, on the ONNX path), with the answers ``predict`` gives."""

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers.reading import only
from helpers.running import run_main
from helpers.user_style_pictures import write_user_style_digits
from lstm_mnist.data.mnist import MNISTDataModule
from lstm_mnist.data.picture_folders import PictureFolder
from lstm_mnist.data.picture_reading import read_picture_array

pytestmark = pytest.mark.slow  # fresh processes
COMMAND = str(Path(sys.executable).parent / "lstm-mnist")  # the installed command, as a user runs it


@pytest.fixture(scope="module")
def pictures(tiny_data, tmp_path_factory) -> Path:
    data = MNISTDataModule(data_dir=str(tiny_data))
    data.setup("test")
    folder = tmp_path_factory.mktemp("pictures")
    write_user_style_digits(*(part[:24] for part in data.splits["test"]), folder)
    return folder


def read(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([COMMAND, "read", *args], capture_output=True, text=True, cwd=cwd)


def answers(stdout: str) -> dict[str, tuple[int, float]]:
    found = {}
    for line in stdout.splitlines():
        name, _, answer = line.rpartition(": ")
        digit, probability = answer.split(" ")
        found[name] = (int(digit), float(probability.strip("()")))
    return found


def test_read_answers_as_predict_does(pictures, tiny_data, tmp_path):
    files = sorted(str(path) for path in pictures.iterdir())
    run_main("predict", "--data.predict_path", str(pictures), root=tmp_path, data_dir=tiny_data)
    with open(only(tmp_path.rglob("predictions.csv"))) as table:
        predicted = {row["path"]: (int(row["prediction"]), float(row["probability"])) for row in csv.DictReader(table)}
    for flags in ([], ["--ckpt_path", str(Path(__file__).parents[1] / "src/lstm_mnist/bundled/digit-reader.ckpt")]):
        result = read(*files, *flags)
        assert result.returncode == 0 and result.stderr == "", result.stderr
        found = answers(result.stdout)
        assert list(found) == files  # in the order given
        for name in files:
            assert found[name][0] == predicted[name][0], name
            assert found[name][1] == pytest.approx(predicted[name][1], abs=1e-4 + 1e-9), (
                name
            )  # both printed to 4 places


def test_the_picture_is_read_as_predict_reads_it(pictures):
    batches = list(PictureFolder(pictures, batch_size=100))
    [(images, _, positions)] = batches
    names = sorted(pictures.iterdir())
    assert torch.equal(images, torch.from_numpy(np.stack([read_picture_array(names[int(p)]) for p in positions])))


def test_a_fresh_read_imports_neither_lightning_nor_torchvision(pictures):
    probe = (
        "import sys; from lstm_mnist.command import main; main(['read', sys.argv[1]]); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'lightning', 'torchvision', 'torch', 'torchmetrics'}))"
    )
    picture = str(sorted(pictures.iterdir())[0])
    result = subprocess.run([sys.executable, "-c", probe, picture], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"  # the ONNX path: not even torch


def test_what_is_not_a_picture_is_one_line_and_exit_1(pictures, tmp_path):
    (tmp_path / "notes.txt").write_text("not a picture")
    good = [str(path) for path in sorted(pictures.iterdir())[:2]]
    result = read(good[0], str(tmp_path / "notes.txt"), str(tmp_path / "missing.png"), good[1])
    assert result.returncode == 1
    assert list(answers(result.stdout)) == good  # the others are read all the same
    assert result.stderr.splitlines() == [
        f"{tmp_path / 'notes.txt'}: not an image PIL can read",
        f"{tmp_path / 'missing.png'}: no such file",
    ]
    alone = read(str(tmp_path / "notes.txt"))
    assert alone.returncode == 1 and alone.stdout == "" and len(alone.stderr.splitlines()) == 1
    wrong = read(good[0], "--onnx", str(tmp_path / "notes.txt"))
    assert wrong.returncode == 1 and wrong.stderr.startswith(f"error: {tmp_path / 'notes.txt'} is not an ONNX model")
