"""Pictures of digits as users have them: photographed, drawn, scanned, or crafted to be refused."""

import zlib
from pathlib import Path

import numpy as np


def png_header_only(path: Path, side: int, colour_type: int = 0) -> Path:
    """A PNG of a few dozen bytes that declares ``side`` x ``side`` pixels (colour type 0: grey, 2:
    RGB) and holds none: past Pillow's limit, a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = side.to_bytes(4, "big") * 2 + bytes([8, colour_type, 0, 0, 0])
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"") + chunk(b"IEND", b""))
    return path


def write_user_style_digits(images, labels, folder: Path) -> dict[str, int]:
    """Save digits as a user would photograph or draw them: PNG and JPEG, grey and colour, any size,
    dark ink on light paper and light on dark, off-centre, phone photos stored sideways with an EXIF
    orientation, drawings on a transparent background. Returns ``file name -> true digit``."""
    from PIL import ExifTags, Image

    folder.mkdir(parents=True, exist_ok=True)
    truth = {}
    for index, (image, label) in enumerate(zip(images, labels)):
        pixels = (np.asarray(image, dtype=np.float32) * 255).astype(np.uint8)  # light digit on dark
        style = index % 6
        if style == 0:  # black ink on white paper, RGB JPEG, large and off-centre
            digit = Image.fromarray(255 - pixels).convert("RGB").resize((140, 140), Image.BICUBIC)
            page = Image.new("RGB", (320, 240), "white")
            page.paste(digit, (150, 60))
            name = f"{index:02d}_paper.jpg"
            page.save(folder / name, quality=90)
        elif style == 1:  # light on dark, grey PNG, small canvas
            digit = Image.fromarray(pixels).resize((56, 56), Image.BILINEAR)
            page = Image.new("L", (90, 70), 0)
            page.paste(digit, (5, 7))
            name = f"{index:02d}_dark.png"
            page.save(folder / name)
        elif style == 2:  # blue ballpoint on cream paper, RGB PNG
            ink = (
                np.asarray(Image.fromarray(pixels).resize((100, 100), Image.BICUBIC), dtype=np.float32)[..., None] / 255
            )
            paper, pen = np.array([245, 240, 225], np.float32), np.array([20, 40, 150], np.float32)
            page = (paper * (1 - ink) + pen * ink).astype(np.uint8)
            name = f"{index:02d}_blue.png"
            Image.fromarray(page).save(folder / name)
        elif style == 3:  # a tall narrow crop, grey JPEG, dark on light
            digit = Image.fromarray(255 - pixels).resize((60, 90), Image.BICUBIC)
            page = Image.new("L", (120, 160), 230)
            page.paste(digit, (20, 40))
            name = f"{index:02d}_narrow.jpg"
            page.save(folder / name, quality=85)
        elif style == 4:  # a phone photo: the pixels as the sensor saw them, sideways, and the EXIF tag that turns them
            page = Image.new("RGB", (300, 400), (235, 235, 230))
            page.paste(Image.fromarray(255 - pixels).convert("RGB").resize((200, 200), Image.BICUBIC), (50, 100))
            orientation = 6 if index % 12 == 4 else 8  # shown turned 90 degrees one way or the other
            exif = Image.Exif()
            exif[ExifTags.Base.Orientation] = orientation
            stored = page.transpose(Image.Transpose.ROTATE_90 if orientation == 6 else Image.Transpose.ROTATE_270)
            name = f"{index:02d}_phone.jpg"
            stored.save(folder / name, quality=90, exif=exif)
        else:  # black ink on a transparent background, as drawing apps and HTML canvases export
            ink = Image.fromarray(pixels).resize((120, 120), Image.BICUBIC)
            black = Image.new("L", ink.size, 0)
            name = f"{index:02d}_drawing.png"
            Image.merge("RGBA", (black, black, black, ink)).save(folder / name)
        truth[name] = int(label)
    return truth
