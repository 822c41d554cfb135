"""Digits set in fonts and photographed (data/font_digits.py): every digit of every training font, the
same for the same seed, kept apart from the fonts the external benchmark scores on, and added to
the training images of a run that asks for them."""

import pytest
import torch

from helpers.reading import only
from helpers.running import QUICK, refused, run_main
from lstm_mnist.data.font_digits import FontDigits, font_files
from lstm_mnist.data.font_packages import HELD_OUT_PACKAGES, TRAINING_PACKAGES
from lstm_mnist.data.mnist import MNISTDataModule
from lstm_mnist.errors import UserInputError


def test_training_and_held_out_fonts_do_not_meet():
    training = {package for packages in TRAINING_PACKAGES.values() for package in packages}
    held_out = {package for packages in HELD_OUT_PACKAGES.values() for package in packages}
    assert not training & held_out
    files, missing = font_files(tuple(training))
    assert not missing, f"install the training fonts: apt-get install {' '.join(missing)}"
    assert not set(files) & set(font_files(tuple(held_out))[0])


def test_every_digit_of_every_font_in_mnists_form_the_same_for_a_seed():
    printed = FontDigits(per_digit=1, kinds=["printed"])
    images, labels = printed.images()
    fonts = len(font_files(TRAINING_PACKAGES["printed"])[0])
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
    assert added == 10 * len(font_files(tuple(p for ps in TRAINING_PACKAGES.values() for p in ps))[0])
    assert torch.equal(joined.splits["val"][0], plain.splits["val"][0])


def test_a_wrong_kind_is_refused(tiny_data, tmp_path):
    with pytest.raises(UserInputError, match="cursive is not one of printed, handwriting-style"):
        FontDigits(kinds=["cursive"]).images()
    refused(
        *("fit", *QUICK, "--data.font_digits.per_digit", "0"),
        data_dir=tiny_data,
        root=tmp_path,
        expect="error: --data.font_digits.per_digit must be at least 1, got 0",
    )


def test_a_tiny_run_of_the_robust_recipe(tiny_data, tmp_path):
    """configs/robust.yaml, shortened to a few steps: it builds, trains on MNIST and font digits with
    augmentation, and writes its checkpoints."""
    from helpers.paths import ROOT

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
        "model: LSTM of 8 units reading rows, trained on MNIST and digits set in fonts (each digit photographed 1x "
        "in each printed/handwriting-style training font), varied (turned up to 10 degrees, scaled 0.9-1.1, slanted "
        "0.15, moved 0.08 of the side, 30% thicker)"
    ) in result.err
