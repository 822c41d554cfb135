"""How well a checkpoint reads digits that no MNIST writer made: a table of source x accuracy.

    python benchmarks/external_digits.py --ckpt_path CKPT [--data-dir ../shared/data] [--seed 0]

Every picture goes through the same reading as ``predict`` and the demo page
(``data/picture_reading.picture_to_mnist``), so the figures are what a user would see:

- **scikit-learn digits**: all 1,797 of ``sklearn.datasets.load_digits`` (UCI optdigits: 43 writers,
  another scanner, 8x8 pixels of 0-16), drawn dark on white at 64 pixels a side.
- **printed fonts** and **handwriting-style fonts**: each digit set in every font file of the Debian
  packages that ``data/font_sources.HELD_OUT_PACKAGES`` names, which no training uses (``apt-get
  install`` them; a missing package is named and skipped), then "photographed" as users photograph
  paper (``data/font_digits.photographed_digit``): off-white paper with grain, dark ink, a random
  size and place, a slight turn, blur, a JPEG. ``--variants`` pictures of each digit in each font.
- **user-style pictures**: MNIST test digits saved as users save pictures (photos, scans, drawings:
  ``tests/helpers/user_style_pictures.py``); these are MNIST's writers, so they test the reading, not the
  writers.
- **MNIST test set**: the 10,000 images as they are, for comparison (with ``--data-dir``).
- **wider fonts** (``--wider``): the same photographs in the fonts of ``WIDER_PACKAGES``, a second
  held-out set picked before any figure on it was seen, scored package by package.

Needs scikit-learn for the first source: ``pip install -e '.[benchmarks]'``.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the user-style pictures of the tests

from lstm_mnist.data.font_digits import photographed_digits  # noqa: E402
from lstm_mnist.data.font_sources import (  # noqa: E402
    HELD_OUT_PACKAGES,
    TRAINING_FONTS,
    WIDER_PACKAGES,
    debian_font_files,
)
from lstm_mnist.data.idx_files import missing_files  # noqa: E402
from lstm_mnist.data.mnist import MNISTDataModule  # noqa: E402
from lstm_mnist.data.picture_reading import picture_to_mnist, read_picture  # noqa: E402
from lstm_mnist.training.confusions import confusion_matrix, most_confused  # noqa: E402
from lstm_mnist.training.digit_classifier import DigitClassifier  # noqa: E402


def sklearn_digits() -> tuple[list[Image.Image], list[int]]:
    """scikit-learn's 1,797 handwritten digits as pictures: dark ink on white, 64 pixels a side."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    pictures = []
    for image in digits.images:
        ink = Image.fromarray((image / 16 * 255).astype(np.uint8)).resize((64, 64), Image.BICUBIC)
        pictures.append(Image.fromarray(255 - np.asarray(ink)))
    return pictures, [int(label) for label in digits.target]


def user_style_digits(data_dir: str, count: int, folder: Path) -> tuple[list[Path], list[int]]:
    from helpers.user_style_pictures import write_user_style_digits

    data = MNISTDataModule(data_dir=data_dir)
    data.setup("test")
    images, labels = data.splits["test"]
    truth = write_user_style_digits(images[:count], labels[:count], folder)
    return [folder / name for name in truth], list(truth.values())


def accuracy(model: DigitClassifier, images: torch.Tensor, labels: list[int]) -> tuple[float, list[str]]:
    """The share read right, and the three most frequent confusions (``true -> read: count``)."""
    with torch.inference_mode():
        predicted = torch.cat([model(batch).argmax(dim=1) for batch in images.split(1000)])
    truth = torch.tensor(labels)
    worst = most_confused(confusion_matrix(truth, predicted), 3)
    return float((predicted == truth).float().mean()), [f"{true}->{read}: {times}" for true, read, times in worst]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ckpt_path", required=True, help="a checkpoint written by this project's fit")
    parser.add_argument("--data-dir", help="folder holding MNIST/raw/: adds the MNIST test set and user-style pictures")
    parser.add_argument("--variants", type=int, default=3, help="photographs of each digit in each font")
    parser.add_argument("--user-style", type=int, default=600, help="MNIST test digits saved as users save them")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--wider", action="store_true", help="also the wider held-out fonts, package by package")
    args = parser.parse_args()
    model = DigitClassifier.load_from_checkpoint(args.ckpt_path).eval()
    rows = []

    def score(source: str, images: torch.Tensor, labels: list[int], note: str = "") -> None:
        correct, confusions = accuracy(model, images, labels)
        rows.append((source, len(labels), correct, ", ".join(confusions), note))
        print(f"{source}: {correct:.4f} of {len(labels)}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    pictures, labels = sklearn_digits()
    score("scikit-learn digits", torch.stack([picture_to_mnist(p) for p in pictures]), labels)
    for kind, packages in HELD_OUT_PACKAGES.items():
        files, missing = debian_font_files(packages)
        if not files:
            print(f"{kind} fonts: none of {', '.join(packages)} is installed", file=sys.stderr)
            continue
        images, labels = photographed_digits(files, args.variants, args.seed)
        note = f"{len(files)} fonts of {', '.join(packages)}"
        score(
            f"{kind} fonts",
            images,
            labels.tolist(),
            note + (f"; not installed: {', '.join(missing)}" if missing else ""),
        )
    for kind, packages in WIDER_PACKAGES.items() if args.wider else ():
        all_images, all_labels = [], []
        for package in packages:
            files, missing = debian_font_files((package,))
            if not files:
                print(f"{package}: not installed", file=sys.stderr)
                continue
            images, labels = photographed_digits(files, args.variants, args.seed)
            score(f"wider {kind}: {package}", images, labels.tolist(), f"{len(files)} fonts")
            all_images.append(images)
            all_labels += labels.tolist()
        if all_images:
            score(f"wider {kind} fonts, all", torch.cat(all_images), all_labels, f"{len(packages)} packages")
    if args.data_dir and not missing_files(args.data_dir):
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            files, labels = user_style_digits(args.data_dir, args.user_style, Path(folder))
            score("user-style pictures", torch.stack([read_picture(file) for file in files]), labels)
        data = MNISTDataModule(data_dir=args.data_dir)
        data.setup("test")
        images, labels = data.splits["test"]
        score("MNIST test set", images, labels.tolist())
    print(f"\n{args.ckpt_path} ({model.description}), seed {args.seed}, {time.perf_counter() - started:.0f} s")
    trained_on = ", ".join(family for families in TRAINING_FONTS.values() for family in families)
    print(f"(the font rows use fonts held out of --data.font_digits, which trains on {trained_on})")
    print("| source | images | accuracy | most confused (true->read: count) | |\n| --- | --- | --- | --- | --- |")
    for source, count, correct, confusions, note in rows:
        print(f"| {source} | {count:,} | {correct:.2%} | {confusions} | {note} |")


if __name__ == "__main__":
    main()
