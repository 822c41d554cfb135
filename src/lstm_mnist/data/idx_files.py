"""MNIST's four IDX files: where they are, whether they are all there, and reading them with the checks
torchvision's reader does not make."""

import os
from pathlib import Path

import torch
from torch import Tensor
from torchvision.datasets.mnist import read_image_file, read_label_file

from lstm_mnist.data.mnist_format import MNIST
from lstm_mnist.errors import UserInputError

DATA_DIR_VARIABLE = "LSTM_MNIST_DATA_DIR"
TRAIN_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
TEST_FILES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def default_data_dir() -> str:
    """``$LSTM_MNIST_DATA_DIR`` when set (offline machines, CI), else ``data``."""
    return os.environ.get(DATA_DIR_VARIABLE) or "data"


def raw_folder(data_dir: str | Path) -> Path:
    """Where torchvision keeps the uncompressed IDX files under ``data_dir``."""
    return Path(data_dir) / "MNIST" / "raw"


def missing_files(data_dir: str | Path) -> list[str]:
    folder = raw_folder(data_dir)
    return [name for name in TRAIN_FILES + TEST_FILES if not (folder / name).is_file()]


def read_idx_pair(images_path: Path, labels_path: Path) -> tuple[Tensor, Tensor]:
    """Read one images/labels pair of IDX files, checking what torchvision's reader does not."""
    tensors = []
    for path, reader in ((images_path, read_image_file), (labels_path, read_label_file)):
        try:
            tensors.append(reader(str(path)))
        except (AssertionError, KeyError, RuntimeError, ValueError, IndexError) as error:
            detail = f" ({error})" if str(error) else ""
            raise UserInputError(
                f"{path} is not a valid MNIST IDX file{detail}: replace it with the original file"
            ) from error
    images, labels = tensors
    if tuple(images.shape[1:]) != (MNIST.side, MNIST.side):
        raise UserInputError(
            f"{images_path} holds images of {'x'.join(map(str, images.shape[1:]))} pixels, "
            f"not {MNIST.side}x{MNIST.side}: replace it with the original MNIST file"
        )
    if len(images) != len(labels):
        raise UserInputError(
            f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels: "
            "replace them with the original MNIST files"
        )
    if len(labels) and int(labels.max()) >= MNIST.classes:
        raise UserInputError(f"{labels_path} holds labels outside 0-9: replace it with the original MNIST file")
    return images, labels


def to_float(images: Tensor) -> Tensor:
    """uint8 pixels 0-255 -> float32 in [0, 1], the range ``ToTensor`` gives."""
    return images.to(torch.float32).div_(255.0)
