"""Bring a picture of a digit (any size, grey or colour, dark ink on paper or light on dark) to MNIST's form.

MNIST's digits are light on a black background, scaled to fit a 20x20 box with their aspect
ratio kept, and placed in the 28x28 image so that their centre of mass is at the centre.
A model trained on MNIST only reads other pictures well once they look like that.

Numpy and Pillow alone do the work (``*_array``), so that ``lstm-mnist read`` answers without
importing torch; ``read_picture`` and ``picture_to_mnist`` give the same pixels as a tensor, for
predict, the demo page and training sources. One implementation for every way in.
"""

import warnings
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from lstm_mnist.data.mnist_format import MNIST

INK_LEVEL = 0.3  # after contrast stretching, brighter than this counts as part of the digit
NOISE_LEVEL = 0.1  # and darker than this is cleared, so paper texture and JPEG noise vanish
# Pictures are brought down to this side before any other work: ample for a 20-pixel digit, and
# it bounds the time that one picture can take.
WORKING_SIDE = 512
# A line of digits may be long: it keeps up to this many pixels across (a 20-digit number still
# has digits well above MNIST's 20 pixels high).
LINE_WORKING_WIDTH = 2048
LINE_MARGIN = 4  # pixels of background before a line's first ink and after its last
# What decoding one picture may take. Pillow decodes a PNG, TIFF, ... whole, at its own bytes per
# pixel, before it can be reduced (a JPEG is reduced while decoding, so only its reduced size
# counts): a 12,000 x 12,000 grey scan is 144 MB; an RGB picture above 50 million pixels is refused.
DECODE_BUDGET = 200 * 2**20
BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}  # Pillow: 4 for others


class UnreadablePicture(ValueError):
    """A picture that cannot be read as a digit; the message says why, in a user's words."""


def read_picture(source: str | Path | IO[bytes]):
    """``read_picture_array`` as a ``[28, 28]`` float tensor."""
    import torch

    return torch.from_numpy(read_picture_array(source))


def picture_to_mnist(image: Image.Image):
    """``picture_to_mnist_array`` as a ``[28, 28]`` float tensor."""
    import torch

    return torch.from_numpy(picture_to_mnist_array(image))


def read_line(source: str | Path | IO[bytes]):
    """``read_line_array`` as a ``[28, width]`` float tensor."""
    import torch

    return torch.from_numpy(read_line_array(source))


def read_line_array(source: str | Path | IO[bytes]) -> np.ndarray:
    """A user's picture of a number in the line form a number reader reads (``to_line_form``)."""
    return read_picture_array(source, to_line_form, (LINE_WORKING_WIDTH, WORKING_SIDE))


def picture_to_line_array(image: Image.Image) -> np.ndarray:
    """``image`` as a viewer shows it, then in line form (``to_line_form``)."""
    return to_line_form(as_shown(image, (LINE_WORKING_WIDTH, WORKING_SIDE)))


def read_picture_array(
    source: str | Path | IO[bytes], form=None, working: tuple[int, int] = (WORKING_SIDE, WORKING_SIDE)
) -> np.ndarray:
    """A user's picture file in MNIST's form (or ``form``, a function of the picture as shown, at
    most ``working`` pixels), read the way an image viewer shows it. Every picture a user gives
    (``predict``, ``read``, the demo page) enters here."""
    try:
        with warnings.catch_warnings():
            # Above Pillow's limit (89 million pixels) it warns; DECODE_BUDGET bounds the cost instead.
            # Twice the limit, Image.open raises DecompressionBombError, answered below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(source) as image:
                image.draft("L", working)  # a JPEG decodes at 1/2 to 1/8 scale, in grey
                decoded = image.width * image.height * BYTES_PER_PIXEL.get(image.mode, 4)
                if decoded > DECODE_BUDGET:
                    raise UnreadablePicture(
                        f"too large: {image.width:,} x {image.height:,} pixels in mode {image.mode} take "
                        f"{decoded / 2**20:,.0f} MB to decode, more than the {DECODE_BUDGET // 2**20} MB allowed; "
                        "save a smaller copy"
                    )
                return (form or to_mnist_form)(as_shown(image, working))
    except UnidentifiedImageError as error:
        raise UnreadablePicture("not an image PIL can read") from error
    except Image.DecompressionBombError as error:
        raise UnreadablePicture(f"refused as a possible decompression bomb ({error})") from error
    except OSError as error:
        raise UnreadablePicture(f"truncated or damaged ({error})") from error


def picture_to_mnist_array(image: Image.Image) -> np.ndarray:
    """``image`` as a viewer shows it (upright, transparency over paper), then in MNIST's form."""
    return to_mnist_form(as_shown(image))


def as_shown(image: Image.Image, working: tuple[int, int] = (WORKING_SIDE, WORKING_SIDE)) -> Image.Image:
    """What a viewer shows, at most ``working`` pixels across and down: turned upright by its EXIF
    orientation (what phones write instead of rotating the pixels), 16-bit grey scaled to 8 bits,
    and transparent parts shown as paper."""
    if image.mode in ("1", "P", "PA") and image.width * image.height <= 4 * working[0] * working[1]:
        # Reduced as they are, these would be sampled (nearest pixel) and lose thin strokes.
        image = image.convert("RGBA" if image.mode != "1" else "L")
    image.thumbnail(working)  # Image.reduce, then a resize: before any copy or float
    image = ImageOps.exif_transpose(image)
    if image.mode.startswith("I"):
        image = sixteen_bit_to_grey(image)
    elif image.mode in ("P", "PA") or "transparency" in image.info:
        image = image.convert("RGBA")  # a palette or a transparent colour: colours with an alpha channel
    if image.mode not in ("RGBA", "LA", "La", "RGBa"):
        return image
    alpha = np.asarray(image.getchannel("A"), dtype=np.float32) / 255.0
    grey = np.asarray(image.convert("RGB").convert("L"), dtype=np.float32)
    # Transparent = paper: white under dark ink, black under light ink, as the drawn pixels say.
    drawn = alpha > 0.5
    paper = 255.0 if not drawn.any() or grey[drawn].mean() < 128 else 0.0
    return Image.fromarray((grey * alpha + paper * (1 - alpha)).round().astype(np.uint8))


def sixteen_bit_to_grey(image: Image.Image) -> Image.Image:
    """16- and 32-bit grey (``I;16``, ``I``) as 8-bit grey over the same range: Pillow's own
    conversion clips at 255, which turns every mid-grey white."""
    values = np.asarray(image, dtype=np.float64)
    top = 65535.0 if values.max() > 255 else 255.0
    return Image.fromarray((values.clip(0, top) / top * 255).round().astype(np.uint8))


def light_ink(image: Image.Image) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(grey, rows, columns)``: the picture as float32 in [0, 1], light ink on dark with the paper
    at 0, and the rows and columns of its ink pixels."""
    grey = np.asarray(image.convert("L"), dtype=np.float32) / np.float32(255.0)
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if lower_median(border) > 0.5:  # dark ink on light paper
        grey, border = 1.0 - grey, 1.0 - border
    background = lower_median(border)
    grey = ((grey - background) / max(grey.max() - background, np.float32(1e-6))).clip(0, 1)
    grey[grey < NOISE_LEVEL] = 0
    rows, columns = np.nonzero(grey > INK_LEVEL)
    if len(rows) == 0:
        raise UnreadablePicture("no digit found (the picture is blank)")
    return grey, rows, columns


def resized(crop: np.ndarray, height: int, width: int) -> np.ndarray:
    """``crop`` at ``height x width``. Pillow's bilinear resampling widens its filter when it shrinks
    (antialiasing), as torch's interpolate(antialias=True) does, which this replaced."""
    return np.asarray(Image.fromarray(crop, mode="F").resize((width, height), Image.BILINEAR)).clip(0, 1)


def to_mnist_form(image: Image.Image) -> np.ndarray:
    """A ``[28, 28]`` float32 array in [0, 1], light digit on dark, centred as MNIST's are."""
    grey, rows, columns = light_ink(image)
    crop = grey[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]
    scale = MNIST.digit_box / max(crop.shape)
    height, width = (max(1, round(side * scale)) for side in crop.shape)
    digit = resized(crop, height, width)
    # Place the centre of mass at the centre, keeping the whole digit inside the 28x28 field.
    mass = max(digit.sum(), np.float32(1e-6))
    centre_row = (digit.sum(axis=1) * np.arange(height, dtype=np.float32)).sum() / mass
    centre_column = (digit.sum(axis=0) * np.arange(width, dtype=np.float32)).sum() / mass
    top = int(min(max(round(MNIST.side / 2 - 0.5 - float(centre_row)), 0), MNIST.side - height))
    left = int(min(max(round(MNIST.side / 2 - 0.5 - float(centre_column)), 0), MNIST.side - width))
    canvas = np.zeros((MNIST.side, MNIST.side), dtype=np.float32)
    canvas[top : top + height, left : left + width] = digit
    return canvas


def to_line_form(image: Image.Image) -> np.ndarray:
    """A ``[28, width]`` float32 array in [0, 1]: the line's ink light on dark, scaled (width and
    height alike) so that it stands as high as MNIST's digits (20 of 28 pixels), centred in height,
    with ``LINE_MARGIN`` pixels of background either side."""
    grey, rows, columns = light_ink(image)
    crop = grey[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]
    scale = MNIST.digit_box / crop.shape[0]
    width = max(1, round(crop.shape[1] * scale))
    line = np.zeros((MNIST.side, width + 2 * LINE_MARGIN), dtype=np.float32)
    top = (MNIST.side - MNIST.digit_box) // 2
    line[top : top + MNIST.digit_box, LINE_MARGIN : LINE_MARGIN + width] = resized(crop, MNIST.digit_box, width)
    return line


def lower_median(values: np.ndarray) -> np.float32:
    """The lower of the two middle values of an even count (as torch's median), the middle one of an odd."""
    return np.sort(values)[(len(values) - 1) // 2]
