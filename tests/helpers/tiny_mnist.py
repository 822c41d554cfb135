"""Tiny MNIST-format IDX files that a test writes itself: a model can learn them in seconds."""

from pathlib import Path

import numpy as np
import torch


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


def signal_at_the_end(
    data_dir: Path, order: str, permutation_seed: int = 0, train: int = 4000, test: int = 500
) -> Path:
    """A task any correct recurrent network learns in a hundred-odd steps whatever its reading order,
    but only by reading to the end: two classes (labels 0 and 1), every pixel noisy (+-60 grey
    levels), the pixels of the first three quarters of the sequence at 100 for both, those of the last
    quarter at 60 or 180, so that each of them says the class. A network that stops reading before the
    last quarter, or answers from the wrong step, is at 50%. The quarter is found through the
    project's own ``as_sequence``, so it follows any order."""
    from lstm_mnist.nets.reading_order import as_sequence, fixed_permutation

    positions = torch.arange(28 * 28).reshape(1, 28, 28)
    read = as_sequence(positions, order, fixed_permutation(permutation_seed) if order == "permuted" else None)[0]
    last_quarter = read[-len(read) // 4 :].flatten().numpy()
    raw = data_dir / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, count, seed in (("train", train, 0), ("t10k", test, 1)):
        rng = np.random.default_rng(seed)
        labels = rng.integers(0, 2, count).astype(np.uint8)
        level = np.full((count, 28 * 28), 100)
        level[:, last_quarter] = 60 + 120 * labels[:, None].astype(int)
        images = level + rng.integers(-60, 61, size=level.shape)
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images.reshape(count, 28, 28).astype(np.uint8))
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    return data_dir
