"""Users' own pictures brought to MNIST's form, and predict on them through the CLI."""

import csv

import pytest
import torch
from PIL import Image

from conftest import QUICK, only, refused, run_main
from lstm_mnist.errors import UserInputError
from lstm_mnist.user_images import load_user_images, to_mnist_form


def bar_picture(ink, paper, size=(240, 160), box=(150, 20, 170, 140), mode="RGB") -> Image.Image:
    """A vertical stroke (a "1") drawn off-centre on a page."""
    page = Image.new(mode, size, paper)
    page.paste(ink, box)
    return page


@pytest.mark.parametrize(
    "picture",
    [
        bar_picture("black", "white"),  # dark ink on paper, colour
        bar_picture(255, 0, mode="L"),  # light on dark, grey
        bar_picture((30, 30, 160), (240, 235, 220)),  # blue pen on cream paper
    ],
)
def test_pictures_become_light_centred_20_pixel_digits(picture):
    digit = to_mnist_form(picture)
    assert digit.shape == (28, 28) and digit.dtype == torch.float32
    assert float(digit.max()) == pytest.approx(1.0, abs=0.05) and float(digit.min()) == 0.0
    rows, columns = torch.nonzero(digit > 0.5, as_tuple=True)
    assert int(rows.max() - rows.min()) + 1 in (19, 20, 21)  # the longer side fills the 20-pixel box
    mass = digit.sum()
    centre = ((digit.sum(1) * torch.arange(28)).sum() / mass, (digit.sum(0) * torch.arange(28)).sum() / mass)
    assert abs(float(centre[0]) - 13.5) <= 1 and abs(float(centre[1]) - 13.5) <= 1
    assert float(digit[:, :4].sum()) == 0 and float(digit[:4].sum()) == 0  # the border stays dark


def test_folder_skips_and_names_what_is_not_a_digit(tmp_path, capsys):
    bar_picture("black", "white").save(tmp_path / "a.png")
    bar_picture(255, 0, mode="L").save(tmp_path / "b.jpg")
    (tmp_path / "notes.txt").write_text("not a picture")
    Image.new("L", (30, 30), 255).save(tmp_path / "blank.png")
    names, images = load_user_images(tmp_path)
    assert [name.rsplit("/", 1)[-1] for name in names] == ["a.png", "b.jpg"]
    assert images.shape == (2, 28, 28)
    stderr = capsys.readouterr().err
    assert "skipped" in stderr and "notes.txt: not an image" in stderr and "blank.png: no digit found" in stderr


def test_single_file_that_is_not_an_image_stops(tmp_path):
    (tmp_path / "digit.png").write_bytes(b"not really a png")
    with pytest.raises(UserInputError, match="digit.png: not an image PIL can read"):
        load_user_images(tmp_path / "digit.png")
    with pytest.raises(UserInputError, match="does not exist"):
        load_user_images(tmp_path / "missing")


def test_cli_predict_refuses_a_non_image_cleanly(tiny_data, tmp_path):
    root = tmp_path / "runs"
    run_main("fit", *QUICK, root=root, data_dir=tiny_data)
    checkpoint = root / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
    bad = tmp_path / "photo.jpg"
    bad.write_text("this is text")
    refused(
        *("predict", "--ckpt_path", str(checkpoint), "--data.predict_path", str(bad)),
        root=root,
        data_dir=tiny_data,
        expect=f"error: {bad}: not an image PIL can read",
        nothing_written=False,  # the fit's checkpoints are there
    )
    assert not list(root.rglob("predictions.csv*"))

    # the test set when no pictures are given: every image, with its label
    run_main("predict", "--ckpt_path", str(checkpoint), root=root, data_dir=tiny_data)
    with open(only(root.rglob("predictions.csv"))) as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 200 and rows[0]["path"] == "MNIST test image 0" and rows[0]["label"] == "0"
    assert set(rows[0]) == {
        "path",
        "prediction",
        "probability",
        "second",
        "second_probability",
        "third",
        "third_probability",
        "label",
    }
    assert float(rows[0]["probability"]) >= float(rows[0]["second_probability"]) >= float(rows[0]["third_probability"])
