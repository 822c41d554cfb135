"""Users' own pictures brought to MNIST's form, and predict on them through the CLI."""

import csv
import multiprocessing
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import ExifTags, Image, ImageDraw

from helpers.reading import only
from helpers.running import QUICK, refused, run_main
from helpers.user_style_pictures import png_header_only
from lstm_mnist.data.picture_folders import load_user_images
from lstm_mnist.data.picture_reading import read_picture, to_mnist_form
from lstm_mnist.errors import UserInputError


def mnist_form(image):
    """``to_mnist_form`` (numpy and Pillow alone) as the tensor predict gets."""
    return torch.from_numpy(to_mnist_form(image))


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
    digit = mnist_form(picture)
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
        "correct",
    }
    assert all(row["correct"] == str(int(row["prediction"] == row["label"])) for row in rows)
    assert float(rows[0]["probability"]) >= float(rows[0]["second_probability"]) >= float(rows[0]["third_probability"])


def seven(size=(300, 400)) -> Image.Image:
    """A black "7" on white paper: no rotation or mirror of it looks like it."""
    page = Image.new("L", size, 255)
    ImageDraw.Draw(page).line([(60, 80), (240, 80), (120, 340)], fill=0, width=28)
    return page


# What a viewer does for each EXIF orientation (ImageOps.exif_transpose), and its inverse: what a
# camera that stores the pixels as its sensor saw them writes.
SHOWN_BY = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
STORED_BY = {**SHOWN_BY, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}


def photo_with_orientation(upright: Image.Image, orientation: int, path: Path) -> Path:
    """``upright`` saved as a phone would: pixels as the sensor saw them, and the EXIF tag that turns them."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    upright.transpose(STORED_BY[orientation]).convert("RGB").save(path, quality=92, exif=exif)
    return path


@pytest.mark.parametrize("orientation", sorted(SHOWN_BY))
def test_a_phone_photo_is_read_upright_by_its_exif_orientation(orientation, tmp_path):
    upright = mnist_form(seven())
    path = photo_with_orientation(seven(), orientation, tmp_path / "photo.jpg")
    with Image.open(path) as stored:  # the pixels on disk are not upright...
        assert (mnist_form(stored) - upright).abs().mean() > 0.05
    assert (read_picture(path) - upright).abs().mean() < 0.02  # ...what is read is


def ink_on_transparent(mode: str, ink: int = 0) -> Image.Image:
    """A "7" drawn in ``ink`` (black by default) on a fully transparent background, as drawing apps
    and HTML canvases export it: the colour under the transparency is black too."""
    alpha = seven().point(lambda v: 255 - v)  # opaque where the ink is
    colour = Image.new("L", alpha.size, ink)
    if mode == "LA":
        return Image.merge("LA", (colour, alpha))
    return Image.merge("RGBA", (colour, colour, colour, alpha))


@pytest.mark.parametrize("mode, ink", [("RGBA", 0), ("LA", 0), ("RGBA", 255)])
def test_a_drawing_on_a_transparent_background_is_ink_on_paper(mode, ink, tmp_path):
    ink_on_transparent(mode, ink).save(tmp_path / "drawing.png")
    assert (read_picture(tmp_path / "drawing.png") - mnist_form(seven())).abs().mean() < 0.02


def test_a_palette_picture_with_a_transparent_index(tmp_path):
    palette = seven().point(lambda v: v // 255).convert("P")  # index 0 for the ink, 1 for the paper...
    palette.putpalette([0, 0, 0, 0, 0, 0])  # ...both black, the paper's index transparent, as in a GIF
    palette.save(tmp_path / "drawing.png", transparency=1)
    with Image.open(tmp_path / "drawing.png") as saved:
        assert saved.mode == "P" and saved.info["transparency"] == 1
    assert (read_picture(tmp_path / "drawing.png") - mnist_form(seven())).abs().mean() < 0.02


def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path):
    pixels = np.asarray(seven(), dtype=np.uint16) * 180 + 10_000  # paper at 55,900, ink at 10,000
    Image.fromarray(pixels).save(tmp_path / "scan16.png")
    with Image.open(tmp_path / "scan16.png") as saved:
        assert saved.mode == "I;16"
    assert (read_picture(tmp_path / "scan16.png") - mnist_form(seven())).abs().mean() < 0.02


def test_bombs_huge_truncated_and_blank_files_are_skipped_in_a_folder_and_refused_alone(tmp_path, capsys):
    seven().save(tmp_path / "a_seven.png")
    png_header_only(tmp_path / "bomb.png", 20_000, colour_type=0)  # 400 million pixels
    png_header_only(tmp_path / "huge_rgb.png", 8_000, colour_type=2)  # under Pillow's limit, 244 MB to decode
    seven().save(tmp_path / "whole.png")
    (tmp_path / "truncated.png").write_bytes((tmp_path / "whole.png").read_bytes()[:300])
    (tmp_path / "whole.png").unlink()
    Image.new("L", (40, 40), 255).save(tmp_path / "blank.png")

    names, images = load_user_images(tmp_path)
    assert [Path(name).name for name in names] == ["a_seven.png"] and images.shape == (1, 28, 28)
    skipped = dict(line.split(": ", 1) for line in capsys.readouterr().err.splitlines())
    assert set(skipped) == {
        f"skipped {tmp_path / name}" for name in ("bomb.png", "huge_rgb.png", "truncated.png", "blank.png")
    }
    assert skipped[f"skipped {tmp_path / 'bomb.png'}"].startswith("refused as a possible decompression bomb")
    assert skipped[f"skipped {tmp_path / 'huge_rgb.png'}"].startswith("too large: 8,000 x 8,000 pixels in mode RGB")
    assert skipped[f"skipped {tmp_path / 'truncated.png'}"].startswith("truncated or damaged")
    assert skipped[f"skipped {tmp_path / 'blank.png'}"] == "no digit found (the picture is blank)"

    for name, expect in (("bomb.png", "decompression bomb"), ("truncated.png", "truncated or damaged")):
        with pytest.raises(UserInputError, match=f"{name}: .*{expect}"):
            load_user_images(tmp_path / name)


def peak_memory_of_reading(path: Path, report: Path) -> None:
    """In a forked process: read the picture at ``path``; write to ``report`` how far above the
    resident memory before it the process's peak rose (MB), the ink found and any warnings."""
    with open("/proc/self/clear_refs", "w") as file:  # Linux: the peak is reset to the memory in use now
        file.write("5")
    before = memory_kb("VmRSS")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        digit = read_picture(path)
    report.write_text(f"{(memory_kb('VmHWM') - before) / 1024} {float(digit.sum())} {len(caught)}")


def memory_kb(field: str) -> int:
    return int(re.search(rf"{field}:\s+(\d+) kB", Path("/proc/self/status").read_text())[1])


def test_a_63_megapixel_photo_is_decoded_at_an_eighth_of_its_size(tmp_path):
    """Whole, in RGB, it would take 240 MB; a JPEG can be decoded reduced, so it is read."""
    seven(size=(300, 400)).resize((7000, 9000)).convert("RGB").save(tmp_path / "photo.jpg", quality=80)
    assert (read_picture(tmp_path / "photo.jpg") - mnist_form(seven())).abs().mean() < 0.02


def test_a_12000_pixel_scan_is_read_in_bounded_memory(tmp_path):
    """144 million pixels, a 7 on white: read at full size into floats this took 1.8 GB more."""
    scan = Image.new("L", (12_000, 12_000), 255)
    ImageDraw.Draw(scan).line([(4000, 2000), (8000, 2000), (5500, 10_000)], fill=0, width=700)
    scan.save(tmp_path / "scan.png")
    del scan
    reading = multiprocessing.get_context("fork").Process(
        target=peak_memory_of_reading, args=(tmp_path / "scan.png", tmp_path / "report")
    )
    reading.start()
    reading.join(timeout=60)
    assert reading.exitcode == 0
    megabytes, ink, warned = map(float, (tmp_path / "report").read_text().split())
    assert megabytes <= 200, f"reading the scan took {megabytes:.0f} MB more"
    assert ink > 20  # a digit was found and drawn
    assert warned == 0  # no DecompressionBombWarning either
