"""Digits set in fonts and photographed as users photograph paper: extra training images for a model
that must read printed digits, and (in other fonts) a test of how well it does.

Each picture is a digit drawn with Pillow in one font file, on off-white paper with grain, in dark
ink, at a random size and place, turned a little, blurred and saved as a JPEG, then brought to
MNIST's form by the same reading as ``predict`` (picture_reading.py). Which fonts (font_sources.py):
training takes ``TRAINING_FONTS`` (pip's); ``benchmarks/external_digits.py`` scores on
``HELD_OUT_PACKAGES`` (Debian's), which no training sees.
"""

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from torch import Tensor

from lstm_mnist.data.digit_source import DigitSource
from lstm_mnist.data.font_sources import FONTS_EXTRA, TRAINING_FONTS, training_font_files
from lstm_mnist.data.mnist_format import MNIST
from lstm_mnist.data.picture_reading import picture_to_mnist
from lstm_mnist.errors import UserInputError

PAGE = 160  # pixels a side of the photographed paper


def photographed_digit(font_file: Path, digit: int, rng: np.random.Generator) -> Image.Image | None:
    """``digit`` set in the font, as a phone photo of it on paper; None when the font has no glyph for it."""
    return photographed_text(font_file, str(digit), rng)


def photographed_text(font_file: Path, text: str, rng: np.random.Generator, turn: float = 6.0) -> Image.Image | None:
    """``text`` (a digit, or a number) set in the font on one line, as a phone photo of it on paper,
    turned by up to ``turn`` degrees; None when the font has no glyphs for it. The paper is
    ``PAGE`` pixels high and as wide as the text needs (``PAGE`` at least)."""
    size = int(rng.integers(50, 110))
    try:
        font = ImageFont.truetype(str(font_file), size)
    except OSError:
        return None
    paper, ink = int(rng.integers(215, 250)), int(rng.integers(10, 70))
    left, top, right, bottom = ImageDraw.Draw(Image.new("L", (1, 1))).textbbox((0, 0), text, font=font)
    if right - left < 2 or bottom - top < 2:
        return None
    width = max(PAGE, right - left + 60)
    page = Image.new("L", (width, PAGE), paper)
    draw = ImageDraw.Draw(page)
    x = (width - (right - left)) / 2 - left + rng.uniform(-15, 15)
    y = (PAGE - (bottom - top)) / 2 - top + rng.uniform(-15, 15)
    draw.text((x, y), text, fill=ink, font=font)
    page = page.rotate(rng.uniform(-turn, turn), resample=Image.BICUBIC, fillcolor=paper)
    page = page.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.4)))
    grain = rng.normal(0, 4, size=(PAGE, width))
    page = Image.fromarray(np.clip(np.asarray(page, dtype=np.float64) + grain, 0, 255).astype(np.uint8))
    photo = io.BytesIO()
    page.convert("RGB").save(photo, format="JPEG", quality=int(rng.integers(60, 92)))
    photo.seek(0)
    return Image.open(photo)


def photographed_digits(files: list[Path], per_digit: int, seed: int) -> tuple[Tensor, Tensor]:
    """``per_digit`` photographs of every digit in every font of ``files``, in MNIST's form:
    ``(images [n, 28, 28] in [0, 1], labels [n])``; the same for the same seed."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for file in files:
        for digit in range(MNIST.classes):
            for _ in range(per_digit):
                picture = photographed_digit(file, digit, rng)
                if picture is not None:
                    images.append(picture_to_mnist(picture))
                    labels.append(digit)
    return torch.stack(images), torch.tensor(labels)


@dataclass
class FontDigits(DigitSource):
    """Training images added to MNIST's: every digit photographed in every font of the training
    fonts (``TRAINING_FONTS``; the held-out ones stay for the benchmark).

    Args:
        per_digit: photographs of each digit in each font.
        kinds: which of the training fonts' kinds: ``printed``, ``handwriting-style``.
        seed: seeds the photographs (the same images for the same seed).
    """

    per_digit: int = 30
    kinds: list[str] = field(default_factory=lambda: list(TRAINING_FONTS))
    seed: int = 0

    def check(self) -> None:
        """A ``UserInputError`` naming the flag of a setting that cannot be (called by the DataModule)."""
        unknown = sorted(set(self.kinds) - set(TRAINING_FONTS))
        if unknown:
            raise UserInputError(f"FontDigits: kinds: {', '.join(unknown)} is not one of {', '.join(TRAINING_FONTS)}")
        if self.per_digit < 1:
            raise UserInputError(f"FontDigits: per_digit must be at least 1, got {self.per_digit}")

    def images(self) -> tuple[Tensor, Tensor]:
        """``(images, labels)``, or a ``UserInputError`` naming the pip packages to install."""
        self.check()
        files, missing = training_font_files(tuple(family for kind in self.kinds for family in TRAINING_FONTS[kind]))
        if missing:
            raise UserInputError(f"FontDigits needs the fonts of {', '.join(missing)}: {FONTS_EXTRA}")
        return photographed_digits(files, self.per_digit, self.seed)

    def description(self) -> str:
        kinds = "/".join(self.kinds)
        return f"digits set in fonts (each digit photographed {self.per_digit}x in each {kinds} training font)"
