"""Debian's font packages that digits are set in (font_digits.py), by what they draw and what they are
for: training takes ``TRAINING_PACKAGES``; ``benchmarks/external_digits.py`` scores on
``HELD_OUT_PACKAGES``, which no training sees. Pure Python, so that ``.ci/run`` reads the list
before anything is installed."""

TRAINING_PACKAGES = {
    "printed": ("fonts-dejavu-core", "fonts-liberation"),
    "handwriting-style": ("fonts-humor-sans", "fonts-dkg-handwriting", "fonts-breip"),
}
HELD_OUT_PACKAGES = {
    "printed": ("fonts-urw-base35", "fonts-freefont-ttf"),
    "handwriting-style": ("fonts-klee", "fonts-bwht", "fonts-rufscript", "fonts-sjfonts", "fonts-yusei-magic"),
}
# Font files in those packages whose digit codes draw no digits: URW's Dingbats (ornaments).
NOT_DIGITS = ("D050000L.otf",)

if __name__ == "__main__":  # the training packages, one a line (.ci/run installs them)
    print("\n".join(package for packages in TRAINING_PACKAGES.values() for package in packages))
