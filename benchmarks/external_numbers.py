"""How well a number reader reads whole numbers, MNIST's and others': a table of source x (whole
numbers right, character error rate), for CTC and for the simple way beside it.

    python benchmarks/external_numbers.py --ckpt_path CKPT [--data-dir ../shared/data] [--seed 0]

Every picture but MNIST's test lines goes through the same reading as ``predict`` (a picture in line
form: ``data/picture_reading.to_line_form``), so the figures are what a user would see:

- **MNIST test lines**: the 10,000 fixed lines of 1 to 8 test-set digits that ``test`` scores
  (data/number_lines.py), as tensors.
- **single MNIST test digits**: the 10,000 test images, each a picture of a one-digit number.
- **photographed font numbers**: numbers of 1 to 8 random digits set in every font file of
  ``HELD_OUT_PACKAGES`` (Debian's, which no training sees), photographed as users photograph paper
  (``data/font_digits.photographed_text``: paper grain, a random size and place, a turn of up to 2
  degrees, blur, a JPEG); ``--per-font`` numbers a font file. ``--wider`` adds ``WIDER_PACKAGES``.
- **scikit-learn numbers**: 1 to 8 of scikit-learn's 1,797 digits (43 writers, another scanner, 8x8
  pixels) side by side, drawn dark on white at 64 pixels a digit with random gaps of -4 to 12 pixels.

Beside each, **cut and classify**: the line's ink cut into its connected pieces (pieces over one
another merged, specks dropped), each piece brought to MNIST's form and read by the digit model
(``--digit-ckpt``, default the bundled one). It wins where digits stand apart and the reader never
saw such digits; CTC wins where digits touch, overlap or break into pieces.

Needs scikit-learn (and its scipy): ``pip install -e '.[benchmarks]'``.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from lstm_mnist.data.font_digits import photographed_text
from lstm_mnist.data.font_sources import HELD_OUT_PACKAGES, WIDER_PACKAGES, debian_font_files
from lstm_mnist.data.idx_files import missing_files
from lstm_mnist.data.line_composition import pad_lines
from lstm_mnist.data.number_lines import NumberLinesDataModule
from lstm_mnist.data.picture_reading import INK_LEVEL, as_shown, to_line_form, to_mnist_form
from lstm_mnist.nets.ctc_decoding import beam_search
from lstm_mnist.storage.bundled_model import bundled_path
from lstm_mnist.training.digit_classifier import DigitClassifier
from lstm_mnist.training.number_reader import NumberReader, best_paths, spelled
from lstm_mnist.training.number_scores import NumberTally

LENGTHS = (1, 8)  # digits in a number of the pictures made here, each count as likely
SPECK = 0.04  # a piece with less ink than this share of the line's largest piece is dropped
TURN = 2.0  # degrees a photographed number may be turned (a line turns more visibly than a digit)


def random_numbers(count: int, rng: np.random.Generator) -> list[str]:
    return ["".join(map(str, rng.integers(0, 10, rng.integers(LENGTHS[0], LENGTHS[1] + 1)))) for _ in range(count)]


def font_numbers(files: list[Path], per_font: int, rng: np.random.Generator) -> tuple[list[np.ndarray], list[str]]:
    """``per_font`` photographed numbers in every font file, in line form, and their numbers."""
    lines, truths = [], []
    for file in files:
        for number in random_numbers(per_font, rng):
            picture = photographed_text(file, number, rng, turn=TURN)
            if picture is not None:
                lines.append(to_line_form(as_shown(picture)))
                truths.append(number)
    return lines, truths


def sklearn_numbers(count: int, rng: np.random.Generator) -> tuple[list[np.ndarray], list[str]]:
    """``count`` numbers of scikit-learn's digits side by side, dark on white, in line form."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    lines, truths = [], []
    for _ in range(count):
        chosen = rng.integers(0, len(digits.target), rng.integers(LENGTHS[0], LENGTHS[1] + 1))
        gaps = rng.integers(-4, 13, len(chosen))
        width = 16 + sum(64 + int(gap) for gap in gaps)
        page = np.zeros((96, width + 64), dtype=np.float64)
        left = 16
        for index, gap in zip(chosen, gaps):
            ink = np.asarray(Image.fromarray((digits.images[index] / 16 * 255).astype(np.uint8)).resize((64, 64), 3))
            page[16:80, left : left + 64] = np.maximum(page[16:80, left : left + 64], ink)
            left += 64 + int(gap)
        lines.append(to_line_form(Image.fromarray((255 - page).astype(np.uint8))))
        truths.append("".join(str(int(digits.target[index])) for index in chosen))
    return lines, truths


def single_digits(data: NumberLinesDataModule) -> tuple[list[np.ndarray], list[str]]:
    """Each MNIST test image as a picture of a one-digit number, in line form."""
    images, labels = data.splits["test"]
    pictures = [Image.fromarray((image.numpy() * 255).round().astype(np.uint8)) for image in images]
    return [to_line_form(picture) for picture in pictures], [str(int(label)) for label in labels]


def read_by_ctc(model: NumberReader, lines: list[torch.Tensor], batch_size: int = 200) -> list[str]:
    """The numbers the reader reads in lines of any widths (each read to its own end)."""
    numbers = []
    with torch.inference_mode():
        for start in range(0, len(lines), batch_size):
            batch, widths = pad_lines(lines[start : start + batch_size])
            logits = model(batch, widths)
            numbers += spelled(*best_paths(logits, model.steps(widths).clamp(max=logits.shape[1])))
    return numbers


def read_by_beam(model: NumberReader, lines: list[torch.Tensor], width: int) -> list[str]:
    """The numbers CTC's prefix beam search reads (``nets.ctc_decoding.beam_search``), a line at a time."""
    numbers = []
    with torch.inference_mode():
        for line in lines:
            probabilities = model(line[None])[0].softmax(dim=-1).numpy()
            numbers.append(beam_search(probabilities, width)[0])
    return numbers


def pieces(line: np.ndarray) -> list[np.ndarray]:
    """The line's ink cut into connected pieces, left to right: each piece alone on black, cropped.
    Pieces that stand over one another (a 5's bar above its bowl) are one digit."""
    from scipy import ndimage

    labelled, count = ndimage.label(line > INK_LEVEL, structure=np.ones((3, 3)))
    if count == 0:
        return []
    found = []
    for number, (_, columns) in enumerate(ndimage.find_objects(labelled), start=1):
        found.append([columns.start, columns.stop, [number], int((labelled == number).sum())])
    largest = max(piece[3] for piece in found)
    found = sorted((piece for piece in found if piece[3] >= SPECK * largest), key=lambda piece: piece[0])
    merged: list[list] = []
    for piece in found:
        if merged:
            last = merged[-1]
            overlap = min(last[1], piece[1]) - max(last[0], piece[0])
            if overlap > 0.5 * min(last[1] - last[0], piece[1] - piece[0]):
                last[1], last[2] = max(last[1], piece[1]), last[2] + piece[2]
                continue
        merged.append(list(piece))
    cut = []
    grown = ndimage.binary_dilation(labelled > 0, iterations=1)  # the antialiased rim of each piece
    for left, right, numbers, _ in merged:
        mine = ndimage.binary_dilation(np.isin(labelled, numbers), iterations=1) & grown
        cut.append(np.where(mine, line, 0)[:, left:right])
    return cut


def read_by_cutting(digit_model: DigitClassifier, lines: list[np.ndarray]) -> list[str]:
    """The numbers read by cutting each line into pieces and classifying each as a digit."""
    numbers = []
    with torch.inference_mode():
        for line in lines:
            found = [to_mnist_form(Image.fromarray((piece * 255).astype(np.uint8))) for piece in pieces(line)]
            found = [digit for digit in found if digit.any()]
            if not found:
                numbers.append("")
                continue
            digits = digit_model(torch.from_numpy(np.stack(found))).argmax(dim=1)
            numbers.append("".join(map(str, digits.tolist())))
    return numbers


def tally(truths: list[str], reads: list[str]) -> NumberTally:
    counted = NumberTally()
    for truth, read in zip(truths, reads, strict=True):
        counted.add(truth, read)
    return counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ckpt_path", required=True, help="a number reader's checkpoint written by this project's fit")
    parser.add_argument("--digit-ckpt", help="the digit model of cut-and-classify (default: the bundled one)")
    parser.add_argument("--data-dir", help="folder holding MNIST/raw/: adds MNIST's test lines and digits")
    parser.add_argument("--per-font", type=int, default=20, help="photographed numbers in each font file")
    parser.add_argument("--sklearn", type=int, default=1000, help="numbers of scikit-learn's digits")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--wider", action="store_true", help="also the wider held-out fonts")
    parser.add_argument(
        "--beam", type=int, default=8, help="beam width tried against the best path on 2,000 MNIST test lines (0: none)"
    )
    args = parser.parse_args()
    reader = NumberReader.load_from_checkpoint(args.ckpt_path).eval()
    digit_model = DigitClassifier.load_from_checkpoint(args.digit_ckpt or bundled_path()).eval()
    rng = np.random.default_rng(args.seed)
    rows = []

    def score(source: str, lines: list, truths: list[str], note: str = "") -> None:
        tensors = [torch.as_tensor(line) for line in lines]
        by_ctc = tally(truths, read_by_ctc(reader, tensors))
        by_cutting = tally(truths, read_by_cutting(digit_model, [np.asarray(line) for line in lines]))
        rows.append((source, len(truths), by_ctc, by_cutting, note))
        print(f"{source}: CTC {by_ctc.accuracy:.4f}, cut {by_cutting.accuracy:.4f}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    beam_note = ""
    if args.data_dir and not missing_files(args.data_dir):
        data = NumberLinesDataModule(data_dir=args.data_dir)
        data.setup("test")
        lines, truths = [], []
        for batch, widths, digits, lengths in data.test_dataloader():
            lines += [line[:, :width].numpy() for line, width in zip(batch, widths)]
            truths += spelled(digits, lengths)
        score("MNIST test lines", lines, truths, "1-8 digits, the fixed test set")
        if args.beam:
            tried = [torch.as_tensor(line) for line in lines[:2000]]
            by_path, by_beam = (
                tally(truths[:2000], read_by_ctc(reader, tried)),
                tally(truths[:2000], read_by_beam(reader, tried, args.beam)),
            )
            beam_note = (
                f"beam search (width {args.beam}) on the first 2,000 MNIST test lines: {by_beam.accuracy:.2%} whole, "
                f"CER {by_beam.character_error_rate:.2%}; the best path: {by_path.accuracy:.2%}, "
                f"CER {by_path.character_error_rate:.2%}"
            )
            print(beam_note, file=sys.stderr, flush=True)
        score("single MNIST test digits", *single_digits(data), "each test image as a number")
    for kind, packages in [*HELD_OUT_PACKAGES.items(), *(WIDER_PACKAGES.items() if args.wider else ())]:
        files, missing = debian_font_files(packages)
        if not files:
            print(f"{kind} fonts: none of {', '.join(packages)} is installed", file=sys.stderr)
            continue
        wider = "wider " if packages in WIDER_PACKAGES.values() else ""
        note = f"{len(files)} fonts of {len(packages)} packages" + (
            f"; missing {', '.join(missing)}" if missing else ""
        )
        score(f"photographed {wider}{kind} fonts", *font_numbers(files, args.per_font, rng), note)
    score("scikit-learn numbers", *sklearn_numbers(args.sklearn, rng), "1-8 of its digits side by side")
    print(f"\n{args.ckpt_path} ({reader.description}), seed {args.seed}, {time.perf_counter() - started:.0f} s")
    if beam_note:
        print(beam_note)
    print("| source | numbers | CTC: whole | CTC: CER | cut and classify: whole | cut: CER | most misread (CTC) | |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for source, count, by_ctc, by_cutting, note in rows:
        misread = ", ".join(f"{t}->{r}: {n}" for (t, r), n in by_ctc.misread.most_common(3))
        print(
            f"| {source} | {count:,} | {by_ctc.accuracy:.2%} | {by_ctc.character_error_rate:.2%} | "
            f"{by_cutting.accuracy:.2%} | {by_cutting.character_error_rate:.2%} | {misread} | {note} |"
        )


if __name__ == "__main__":
    main()
