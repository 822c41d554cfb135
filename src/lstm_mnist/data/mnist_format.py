"""What an MNIST image is, defined once: every module that needs the side, the class count or the
pixel statistics reads them from ``MNIST``.

Pure Python, so that the networks can use it without importing the data code.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ImageFormat:
    """The shape and statistics of a set of square grey digit images.

    Args:
        side: pixels a side (the images are ``side x side``).
        classes: how many digits the labels name.
        mean: mean of the training pixels in [0, 1], for standardising.
        std: their standard deviation.
        digit_box: the box the digits are scaled to fit in, centred in the image.
    """

    side: int
    classes: int
    mean: float
    std: float
    digit_box: int

    @property
    def pixels(self) -> int:
        return self.side * self.side

    def standardized(self, images):
        """Raw pixels in [0, 1] with the training pixels' mean 0 and standard deviation 1: what a
        model trained with ``normalize_input`` reads (a tensor or a numpy array alike)."""
        return (images - self.mean) / self.std


# MNIST: 28x28 images of the digits 0-9, each fitted to a 20x20 box and centred by its centre of
# mass; mean and standard deviation of the 60k training images' pixels in [0, 1].
MNIST = ImageFormat(side=28, classes=10, mean=0.1307, std=0.3081, digit_box=20)
