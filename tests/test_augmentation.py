"""Training images varied on the device (data/augmentation.py): within the ranges asked for, the same
for the same seed, never in validation or test, and a resumed run varies them as the run would have."""

import pytest
import torch
import yaml

from helpers.reading import only, read_scalars
from helpers.running import TINY_ARGS, checkpoint_every, refused, run_main
from lstm_mnist.data.augmentation import Augmentation
from lstm_mnist.data.mnist import MNISTDataModule
from lstm_mnist.errors import UserInputError

QUIET = [*TINY_ARGS, "--trainer.enable_progress_bar", "false"]
STILL = {"rotation": 0.0, "scale": (1.0, 1.0), "shear": 0.0, "shift": 0.0, "thicker": 0.0}


def digits(count: int = 8) -> torch.Tensor:
    """Light bars and blobs on black, as MNIST's digits are."""
    images = torch.zeros(count, 28, 28)
    for index in range(count):
        images[index, 6 + index : 20, 10 + index % 4 : 14 + index % 4] = 1.0
    return images


def centre_of_mass(images: torch.Tensor) -> torch.Tensor:
    rows = (images.sum(dim=2) * torch.arange(28)).sum(dim=1) / images.sum(dim=(1, 2))
    columns = (images.sum(dim=1) * torch.arange(28)).sum(dim=1) / images.sum(dim=(1, 2))
    return torch.stack([rows, columns], dim=1)


def test_nothing_asked_nothing_changed():
    images = digits()
    still = Augmentation(**STILL)
    torch.testing.assert_close(still(images, still.generator()), images, atol=1e-5, rtol=0)


def test_each_change_stays_within_its_range():
    images = digits()
    moved = Augmentation(**{**STILL, "shift": 0.1})
    shifted = moved(images, moved.generator())
    distance = (centre_of_mass(shifted) - centre_of_mass(images)).abs()
    assert distance.max() <= 0.1 * 28 + 0.5 and distance.max() > 0.5  # moved, by at most 10% of the side
    grown = Augmentation(**{**STILL, "scale": (1.2, 1.2)})
    assert grown(images, grown.generator()).sum() > images.sum() * 1.3  # 1.2 x 1.2 the ink, about
    thick = Augmentation(**{**STILL, "thicker": 1.0})
    thickened = thick(images, thick.generator())
    assert (thickened >= images).all() and (thickened > 0).sum() > (images > 0).sum()
    turned = Augmentation(**{**STILL, "rotation": 30.0})(images, torch.Generator().manual_seed(0))
    assert turned.shape == images.shape and 0 <= turned.min() and turned.max() <= 1
    assert not torch.allclose(turned, images, atol=1e-3)


def test_the_same_seed_draws_the_same_changes_and_another_seed_others():
    images = digits()
    first, again, other = Augmentation(seed=3), Augmentation(seed=3), Augmentation(seed=4)
    a, b, c = (augmentation(images, augmentation.generator()) for augmentation in (first, again, other))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_ranges_that_cannot_be_are_refused(tiny_data, tmp_path):
    with pytest.raises(UserInputError, match="scale must be 0 < low <= high"):
        MNISTDataModule(augmentation=Augmentation(scale=(1.2, 0.8)))
    with pytest.raises(UserInputError, match="thicker is a share of the images, at most 1"):
        MNISTDataModule(augmentation=Augmentation(thicker=2.0))
    refused(
        *("fit", *QUIET, "--data.augmentation.rotation", "-5"),
        data_dir=tiny_data,
        root=tmp_path,
        expect="error: --data.augmentation.rotation must be at least 0, got -5.0",
    )


@pytest.fixture(scope="module")
def augmented(tiny_data, tmp_path_factory):
    """2 epochs (200 steps) with augmentation, a checkpoint every 50 steps."""
    root = tmp_path_factory.mktemp("augmented")
    config = root / "augmented.yaml"
    config.write_text(yaml.safe_dump({"data": {"augmentation": {"rotation": 15.0, "shift": 0.1, "thicker": 0.5}}}))
    run_main(
        *("fit", *QUIET, "--config", str(config), "--trainer.max_epochs", "2"),
        *checkpoint_every(50, root / "every50"),
        root=root,
        data_dir=tiny_data,
    )
    return root, config


def last_weights(root):
    return torch.load(only(root.glob("lightning_logs/version_0/checkpoints/last.ckpt")), weights_only=True)


def test_a_resumed_run_varies_the_images_as_the_run_would_have(augmented, tiny_data, tmp_path):
    root, config = augmented
    run_main(
        *("fit", *QUIET, "--config", str(config), "--trainer.max_epochs", "2"),
        *("--ckpt_path", str(root / "every50" / "step=150.ckpt")),  # mid-epoch
        root=tmp_path / "resumed",
        data_dir=tiny_data,
    )
    run_main("fit", *QUIET, "--trainer.max_epochs", "2", root=tmp_path / "plain", data_dir=tiny_data)
    straight, resumed, plain = (last_weights(r) for r in (root, tmp_path / "resumed", tmp_path / "plain"))
    assert resumed["global_step"] == straight["global_step"] == 200
    for name, value in straight["state_dict"].items():
        assert torch.equal(resumed["state_dict"][name], value), name
    # and the augmentation did change what was learned
    name = "net.rnn.weight_ih_l0"
    assert not torch.allclose(plain["state_dict"][name], straight["state_dict"][name], atol=1e-4)


def test_validation_and_test_see_the_images_as_they_are(augmented, tiny_data, tmp_path):
    root, config = augmented
    last = str(root / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt")
    scores = {}
    for name, flags in (("augmented", ["--config", str(config)]), ("as-they-are", [])):
        for stage in ("validate", "test"):
            run_main(stage, *QUIET, *flags, "--ckpt_path", last, root=tmp_path / name / stage, data_dir=tiny_data)
            scalars = read_scalars(only((tmp_path / name / stage).glob("lightning_logs/version_*")))
            scores[name, stage] = {tag: values[-1][1] for tag, values in scalars.items()}
    assert scores["augmented", "test"] == scores["as-they-are", "test"]
    assert scores["augmented", "validate"] == scores["as-they-are", "validate"]
    # the fit's own last validation (step 200) scored the same images the same way
    step, accuracy = read_scalars(root / "lightning_logs" / "version_0")["val/acc"][-1]
    assert step == 200 and accuracy == pytest.approx(scores["as-they-are", "validate"]["val/acc"], abs=1e-6)
