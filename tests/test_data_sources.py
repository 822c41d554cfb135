"""Data sources are parts: a folder of a user's labelled pictures joins the training images with one
class and a config entry, read as predict reads pictures and checked as predict's labels are."""

import pytest
import torch
import yaml

from helpers.reading import only
from helpers.running import QUICK, refused, run_main
from helpers.user_style_pictures import write_user_style_digits
from lstm_mnist.data.labelled_folder import LabelledFolder
from lstm_mnist.data.mnist import MNISTDataModule
from lstm_mnist.data.picture_reading import read_picture

SOURCE = "lstm_mnist.data.labelled_folder.LabelledFolder"


def labelled_folder(tiny_data, folder, count: int = 12) -> dict[str, int]:
    data = MNISTDataModule(data_dir=str(tiny_data))
    data.setup("test")
    images, labels = data.splits["test"]
    truth = write_user_style_digits(images[:count], labels[:count], folder)
    (folder / "labels.csv").write_text("file,label\n" + "".join(f"{name},{label}\n" for name, label in truth.items()))
    return truth


def test_a_labelled_folder_joins_the_training_images(tiny_data, tmp_path):
    truth = labelled_folder(tiny_data, tmp_path / "mine")
    plain = MNISTDataModule(data_dir=str(tiny_data), val_size=100)
    plain.setup("fit")
    joined = MNISTDataModule(
        data_dir=str(tiny_data), val_size=100, sources=[LabelledFolder(str(tmp_path / "mine"), copies=2)]
    )
    joined.setup("fit")
    images, labels = joined.splits["train"]
    added = len(labels) - len(plain.splits["train"][1])
    assert added == 2 * len(truth)
    names = sorted(truth)
    expected = torch.stack([read_picture(tmp_path / "mine" / name) for name in names])  # as predict reads them
    assert torch.equal(images[-added:][: len(names)], expected) and torch.equal(images[-len(names) :], expected)
    assert labels[-added:].tolist() == [truth[name] for name in names] * 2
    assert torch.equal(joined.splits["val"][0], plain.splits["val"][0])  # validation stays MNIST's


@pytest.mark.slow  # a fit and a predict
def test_a_config_lists_it_and_the_checkpoint_says_so(tiny_data, tmp_path):
    labelled_folder(tiny_data, tmp_path / "mine")
    config = tmp_path / "mine.yaml"
    entry = {"class_path": SOURCE, "init_args": {"path": str(tmp_path / "mine"), "copies": 3}}
    config.write_text(yaml.safe_dump({"data": {"sources": [entry]}}))
    run_main("fit", *QUICK, "--config", str(config), root=tmp_path / "run", data_dir=tiny_data)
    last = only((tmp_path / "run").rglob("last.ckpt"))
    recorded = torch.load(last, weights_only=True)["MNISTDataModule"]["trained_on"]
    assert recorded["sources"] == [f"the labelled pictures of {tmp_path / 'mine'}, 3x"]
    result = run_main("predict", "--ckpt_path", str(last), root=tmp_path / "predict", data_dir=tiny_data)
    assert f"trained on MNIST and the labelled pictures of {tmp_path / 'mine'}, 3x" in result.err


@pytest.mark.slow  # three runs refused as training starts
def test_a_folder_it_cannot_train_on_is_one_line(tiny_data, tmp_path):
    truth = labelled_folder(tiny_data, tmp_path / "mine")
    flags = ("fit", *QUICK, f"--data.sources+={SOURCE}")
    refused(
        *flags,
        *("--data.sources.path", str(tmp_path / "nowhere")),
        root=tmp_path / "a",
        data_dir=tiny_data,
        expect=f"error: LabelledFolder: path {tmp_path / 'nowhere'} is not a folder",
    )
    first, mine = sorted(truth)[0], tmp_path / "mine"
    lines = (tmp_path / "mine" / "labels.csv").read_text().splitlines()
    (tmp_path / "mine" / "labels.csv").write_text("\n".join(line for line in lines if not line.startswith(first)))
    refused(
        *flags,
        *("--data.sources.path", str(tmp_path / "mine")),
        root=tmp_path / "b",
        data_dir=tiny_data,
        expect=f"error: LabelledFolder: 1 pictures in {mine} have no label (first: {mine / first})",
    )
    (tmp_path / "mine" / "labels.csv").write_text("file,label\n" + f"{first},12\n")
    refused(
        *flags,
        *("--data.sources.path", str(tmp_path / "mine")),
        root=tmp_path / "c",
        data_dir=tiny_data,
        expect="the label of",
    )
    assert not list(tmp_path.rglob("*.ckpt"))  # nothing trained
