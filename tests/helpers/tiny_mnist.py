"""Tiny MNIST-format IDX files that a test writes itself: a model can learn them in seconds."""

from pathlib import Path

import numpy as np


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array in the IDX format MNIST ships in (magic 0x08 = unsigned byte)."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    path.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def digit_like_images(labels: np.ndarray, seed: int) -> np.ndarray:
    """Noise with a bright bar at a row that depends on the label, so a model can learn it."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 60, size=(len(labels), 28, 28), dtype=np.uint8)
    for image, label in zip(images, labels):
        image[4 + 2 * label, 4:24] = 255
    return images


def make_tiny_mnist(data_dir: Path, train: int = 600, test: int = 200) -> Path:
    """``data_dir/MNIST/raw`` with the four files MNIST ships, holding ``train`` and ``test`` images."""
    raw = data_dir / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, count, seed in (("train", train, 0), ("t10k", test, 1)):
        labels = np.arange(count, dtype=np.uint8) % 10
        write_idx(raw / f"{prefix}-images-idx3-ubyte", digit_like_images(labels, seed))
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    return data_dir
