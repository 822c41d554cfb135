"""Digits set in fonts and photographed (data/font_digits.py): every digit of every training font, the
same for the same seed, kept apart from the fonts the external benchmark scores on, and added to
the training images of a run that asks for them."""

from importlib.metadata import requires

import pytest
import torch
from PIL import ImageFont

from helpers.paths import ROOT
from helpers.reading import only
from helpers.running import QUICK, refused, run_main
from helpers.system_packages import needs_debian_packages
from lstm_mnist.data.font_digits import FontDigits
from lstm_mnist.data.font_sources import (
    HELD_OUT_PACKAGES,
    MATPLOTLIB_FILES,
    TRAINING_FONTS,
    WIDER_PACKAGES,
    debian_font_files,
    font_wheel,
    training_font_files,
)
from lstm_mnist.data.mnist import MNISTDataModule
from lstm_mnist.errors import UserInputError

ALL_TRAINING_FONTS = tuple(family for families in TRAINING_FONTS.values() for family in families)


def family_names(files) -> set[str]:
    """The family each font file names itself (its own name table, read by FreeType)."""
    return {ImageFont.truetype(str(file), 20).getname()[0] for file in files}


def test_the_training_fonts_are_what_pip_installs():
    """Every training family is a wheel of the ``fonts`` extra (or matplotlib's), and found there."""
    extra = {line.split(";")[0].strip() for line in requires("lstm-mnist") if 'extra == "fonts"' in line}
    wheels = {font_wheel(family) for family in ALL_TRAINING_FONTS if family not in MATPLOTLIB_FILES}
    assert wheels == {requirement for requirement in extra if requirement.startswith("fontpkg-")}
    files, missing = training_font_files(ALL_TRAINING_FONTS)
    assert not missing and len(files) == len(set(files)) >= len(ALL_TRAINING_FONTS)
    assert family_names(files) == set(ALL_TRAINING_FONTS)
    assert training_font_files(("No Such Family",)) == ([], ["fontpkg-no-such-family"])


def test_training_and_held_out_fonts_do_not_meet():
    """No family the benchmark scores on (Debian's held-out packages and the wider set, installed by
    tests/install_system_packages.sh) is one that training reads."""
    held_out = tuple(
        package for held in (HELD_OUT_PACKAGES, WIDER_PACKAGES) for kind in held.values() for package in kind
    )
    needs_debian_packages(held_out, "the held-out fonts of benchmarks/external_digits.py")
    files, missing = debian_font_files(held_out)
    assert not missing and len(files) >= 50
    training = family_names(training_font_files(ALL_TRAINING_FONTS)[0])
    assert not training & family_names(files)


def test_every_digit_of_every_font_in_mnists_form_the_same_for_a_seed():
    printed = FontDigits(per_digit=1, kinds=["printed"])
    images, labels = printed.images()
    fonts = len(training_font_files(TRAINING_FONTS["printed"])[0])
    assert images.shape == (fonts * 10, 28, 28) and 0 <= images.min() and images.max() <= 1
    assert torch.equal(labels.bincount(), torch.full((10,), fonts))
    assert (images.flatten(1).amax(dim=1) > 0.5).all()  # a digit in every picture
    again, _ = FontDigits(per_digit=1, kinds=["printed"]).images()
    other, _ = FontDigits(per_digit=1, kinds=["printed"], seed=1).images()
    assert torch.equal(images, again) and not torch.equal(images, other)


def test_they_join_the_training_images_only(tiny_data):
    plain = MNISTDataModule(data_dir=str(tiny_data), val_size=100)
    plain.setup("fit")
    joined = MNISTDataModule(data_dir=str(tiny_data), val_size=100, font_digits=FontDigits(per_digit=1))
    joined.setup("fit")
    added = len(joined.splits["train"][1]) - len(plain.splits["train"][1])
    assert added == 10 * len(training_font_files(ALL_TRAINING_FONTS)[0])
    assert torch.equal(joined.splits["val"][0], plain.splits["val"][0])


def test_a_wrong_kind_is_refused(tiny_data, tmp_path):
    with pytest.raises(UserInputError, match="cursive is not one of printed, handwriting-style"):
        FontDigits(kinds=["cursive"]).images()
    refused(
        *("fit", *QUICK, "--data.font_digits.per_digit", "0"),
        data_dir=tiny_data,
        root=tmp_path,
        expect="error: FontDigits: per_digit must be at least 1, got 0",
    )


def test_a_tiny_run_of_the_robust_recipe(tiny_data, tmp_path, monkeypatch):
    """configs/robust.yaml, shortened to a few steps: it builds, trains on MNIST and font digits with
    augmentation, and writes its checkpoints; on a machine without Debian's tools (a PATH with no
    ``dpkg``) as on any other."""
    monkeypatch.setenv("PATH", str(tmp_path / "no-dpkg-here"))
    run_main(
        *("fit", "--config", str(ROOT / "configs" / "robust.yaml"), *QUICK),
        *("--data.font_digits.per_digit", "1", "--model.hidden_size", "8", "--model.num_layers", "1"),
        root=tmp_path,
        data_dir=tiny_data,
    )
    last = only(tmp_path.rglob("last.ckpt"))
    checkpoint = torch.load(last, weights_only=True)
    assert checkpoint["global_step"] == 10 and "augmentation_draws" in checkpoint["MNISTDataModule"]
    # predict says what the model learned from
    result = run_main("predict", "--ckpt_path", str(last), root=tmp_path / "predict", data_dir=tiny_data)
    assert (
        "model: bidirectional LSTM of 8 units reading rows, trained on MNIST and digits set in fonts (each digit "
        "photographed 1x "
        "in each printed/handwriting-style training font), varied (turned up to 10 degrees, scaled 0.9-1.1, slanted "
        "0.15, moved 0.08 of the side, 30% thicker)"
    ) in result.err
