"""Bring a picture of a digit (any size, grey or colour, dark ink on paper or light on dark) to MNIST's form.

MNIST's digits are light on a black background, scaled to fit a 20x20 box with their aspect
ratio kept, and placed in the 28x28 image so that their centre of mass is at the centre.
A model trained on MNIST only reads other pictures well once they look like that.
"""

import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import Tensor
from torch.nn import functional as F

from lstm_mnist.errors import UserInputError

SIZE, BOX = 28, 20
INK_LEVEL = 0.3  # after contrast stretching, brighter than this counts as part of the digit
NOISE_LEVEL = 0.1  # and darker than this is cleared, so paper texture and JPEG noise vanish


def to_mnist_form(image: Image.Image) -> Tensor:
    """A ``[28, 28]`` float tensor in [0, 1], light digit on dark, centred as MNIST's are."""
    grey = torch.from_numpy(np.asarray(image.convert("L"), dtype=np.float32) / 255.0)
    border = torch.cat([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if border.median() > 0.5:  # dark ink on light paper
        grey, border = 1.0 - grey, 1.0 - border
    background = border.median()
    grey = ((grey - background) / (grey.max() - background).clamp(min=1e-6)).clamp(0, 1)
    grey[grey < NOISE_LEVEL] = 0
    rows, columns = torch.nonzero(grey > INK_LEVEL, as_tuple=True)
    if len(rows) == 0:
        raise ValueError("no digit found (the picture is blank)")
    crop = grey[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]
    scale = BOX / max(crop.shape)
    height, width = (max(1, round(side * scale)) for side in crop.shape)
    digit = F.interpolate(crop[None, None], size=(height, width), mode="bilinear", antialias=True)[0, 0].clamp(0, 1)
    # Place the centre of mass at the centre, keeping the whole digit inside the 28x28 field.
    mass = digit.sum().clamp(min=1e-6)
    centre_row = (digit.sum(dim=1) * torch.arange(height)).sum() / mass
    centre_column = (digit.sum(dim=0) * torch.arange(width)).sum() / mass
    top = int(min(max(round(SIZE / 2 - 0.5 - float(centre_row)), 0), SIZE - height))
    left = int(min(max(round(SIZE / 2 - 0.5 - float(centre_column)), 0), SIZE - width))
    canvas = torch.zeros(SIZE, SIZE)
    canvas[top : top + height, left : left + width] = digit
    return canvas


def load_user_images(path: str | Path) -> tuple[list[str], Tensor]:
    """Every readable picture at ``path`` (a file, or a folder's files in name order) in MNIST's form.

    In a folder, a file that is not a picture, or a blank one, is named on stderr and skipped;
    a single file that is not, or a folder with none, stops the run with a message.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(file for file in path.iterdir() if file.is_file() and not file.name.startswith("."))
    elif path.is_file():
        files = [path]
    else:
        raise UserInputError(f"--data.predict_path {path} does not exist: give an image file or a folder of them")
    names, images = [], []
    for file in files:
        try:
            with Image.open(file) as image:
                images.append(to_mnist_form(image))
            names.append(str(file))
        except (UnidentifiedImageError, OSError, ValueError) as error:
            reason = "not an image PIL can read" if isinstance(error, (UnidentifiedImageError, OSError)) else str(error)
            if not path.is_dir():
                raise UserInputError(f"{file}: {reason}") from error
            print(f"skipped {file}: {reason}", file=sys.stderr)
    if not images:
        raise UserInputError(f"no readable digit images in {path} (PNG, JPEG and the other formats PIL reads)")
    return names, torch.stack(images)
