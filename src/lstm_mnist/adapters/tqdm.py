"""tqdm's private name this project relies on: the progress bars drawn at the moment
(``tqdm._instances``), which a failed step leaves on the screen (apps/program.py closes them)."""

import sys


def drawn_bars() -> list:
    """The bars drawn now; none if tqdm was never imported."""
    tqdm = sys.modules.get("tqdm")
    return list(getattr(getattr(tqdm, "tqdm", None), "_instances", ()))
