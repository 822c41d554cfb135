"""Where the fonts that digits are set in (font_digits.py) come from, by what they draw and what they
are for. Training takes ``TRAINING_FONTS``: families that ``pip install`` brings on any OS (DejaVu
inside matplotlib's wheel, the rest as fontpkg's wheels of Google Fonts families, the ``fonts``
extra), so ``configs/robust.yaml`` trains the same images on Debian, macOS, Windows or a conda env.
``benchmarks/external_digits.py`` scores on ``HELD_OUT_PACKAGES``: Debian packages, which no training
sees and no pip form offers. Pure Python at import, so that a shell script reads the list before
anything is installed."""

import subprocess
from pathlib import Path

TRAINING_FONTS = {
    "printed": ("DejaVu Sans", "DejaVu Sans Mono", "DejaVu Serif", "Arimo", "PT Serif", "Roboto Mono"),
    "handwriting-style": ("Indie Flower", "Caveat", "Kalam", "Shadows Into Light"),
}
# DejaVu's regular and bold files from matplotlib's wheel: the same six that Debian's
# fonts-dejavu-core holds. Every other family is a fontpkg wheel (``FONT_WHEEL_PREFIX`` + its slug).
MATPLOTLIB_FILES = {
    "DejaVu Sans": ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    "DejaVu Sans Mono": ("DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf"),
    "DejaVu Serif": ("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf"),
}
FONT_WHEEL_PREFIX = "fontpkg-"
FONTS_EXTRA = "pip install -e '.[fonts]'"  # what a run missing a training font is told

HELD_OUT_PACKAGES = {
    "printed": ("fonts-urw-base35", "fonts-freefont-ttf"),
    "handwriting-style": ("fonts-klee", "fonts-bwht", "fonts-rufscript", "fonts-sjfonts", "fonts-yusei-magic"),
}
# A wider held-out set, picked on 2026-12-02 before any figure on it was seen: Debian packages of
# Latin fonts whose designs no training font shares (not Liberation: it is Arimo's design), printed
# (serif, old-style, humanist and geometric sans, mono) and handwriting-style (casual, school
# cursive, script, personal hands). benchmarks/external_digits.py scores the bundled model on each
# package. Never train on these either.
WIDER_PACKAGES = {
    "printed": (
        "fonts-linuxlibertine",
        "fonts-ebgaramond",
        "fonts-cantarell",
        "fonts-inconsolata",
        "fonts-lato",
        "fonts-open-sans",
    ),
    "handwriting-style": (
        "fonts-comic-neue",
        "fonts-dkg-handwriting",
        "fonts-breip",
        "fonts-dancingscript",
        "fonts-femkeklaver",
        "fonts-humor-sans",
        "fonts-ecolier-court",
    ),
}
# Font files in those packages whose digit codes draw no plain digits: URW's Dingbats (ornaments);
# Linux Biolinum Keyboard (each digit inside a drawn key cap: read 7% the first time the wider set
# was scored, while the package's other twelve files read 97-100%).
NOT_DIGITS = ("D050000L.otf", "LinBiolinum_K.otf")
FONT_ENDINGS = (".ttf", ".otf")


def font_wheel(family: str) -> str:
    """The pip package that holds ``family`` (``Indie Flower`` -> ``fontpkg-indie-flower``)."""
    return FONT_WHEEL_PREFIX + "-".join(family.lower().split())


def training_font_files(families: tuple[str, ...]) -> tuple[list[Path], list[str]]:
    """The font files of the training ``families``, in a fixed order, and the pip packages missing."""
    files, missing = [], []
    for family in families:
        if family in MATPLOTLIB_FILES:
            import matplotlib

            folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
            files += [folder / name for name in MATPLOTLIB_FILES[family]]
            continue
        try:
            import fontpkg
        except ImportError:
            missing.append(font_wheel(family))
            continue
        try:
            files += sorted(Path(font.path) for font in fontpkg.family(family).files)
        except fontpkg.FamilyNotInstalled:
            missing.append(font_wheel(family))
    return files, missing


def debian_font_files(packages: tuple[str, ...]) -> tuple[list[Path], list[str]]:
    """The font files the installed Debian ``packages`` hold (``dpkg -L``) that draw digits, and the
    packages not installed (all of them where there is no ``dpkg``)."""
    files, missing = [], []
    for package in packages:
        try:
            listing = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True)
        except FileNotFoundError:  # not a Debian system
            missing.append(package)
            continue
        if listing.returncode != 0:
            missing.append(package)
            continue
        files += sorted(Path(line) for line in listing.stdout.splitlines() if line.endswith(FONT_ENDINGS))
    return [file for file in files if file.is_file() and file.name not in NOT_DIGITS], missing


if __name__ == "__main__":  # the held-out packages, one a line (tests/install_system_packages.sh installs them)
    print(
        "\n".join(package for held in (HELD_OUT_PACKAGES, WIDER_PACKAGES) for kind in held.values() for package in kind)
    )
