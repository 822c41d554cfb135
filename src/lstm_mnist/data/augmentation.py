"""Training images varied the way other people's digits vary from MNIST's: slanted, turned, larger or
smaller, off-centre, written with a thicker pen.

Whole batches at once, on the device the batch is on: one ``affine_grid`` and ``grid_sample`` for
the geometry and one 3x3 max-pool for the thicker strokes, no per-sample PIL. The random draws
(a few numbers an image) come from a CPU generator the DataModule owns and keeps in its checkpoint
state, so a run is the same on any device and a resumed run draws what it would have drawn.
"""

import math
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.nn import functional as F

from lstm_mnist.errors import UserInputError


@dataclass
class Augmentation:
    """How far each training image may be moved from how it was written; each image draws its own.

    Args:
        rotation: largest turn, in degrees, either way.
        scale: the smallest and largest size, as a factor of the written size.
        shear: largest horizontal slant (the shear factor: 0.15 moves the top row 0.15 of the
            height sideways), either way.
        shift: largest move off-centre, as a fraction of the image's side, in each direction.
        thicker: share of the images whose strokes are made one pixel thicker (a 3x3 dilation).
        seed: seeds the draws (one generator for the run, kept in checkpoints).
    """

    rotation: float = 10.0
    scale: tuple[float, float] = (0.9, 1.1)
    shear: float = 0.15
    shift: float = 0.08
    thicker: float = 0.3
    seed: int = 0

    def check(self) -> None:
        """A ``UserInputError`` naming the flag of the first range that cannot be (called by the
        DataModule: a dataclass that raised while the CLI builds it would be a traceback)."""
        low, high = self.scale
        if not 0 < low <= high:
            raise UserInputError(f"--data.augmentation.scale must be 0 < low <= high, got {list(self.scale)}")
        for name in ("rotation", "shear", "shift", "thicker"):
            if getattr(self, name) < 0:
                raise UserInputError(f"--data.augmentation.{name} must be at least 0, got {getattr(self, name)}")
        if self.thicker > 1:
            raise UserInputError(f"--data.augmentation.thicker is a share of the images, at most 1, got {self.thicker}")

    def generator(self) -> torch.Generator:
        """The run's generator, seeded by ``seed``."""
        return torch.Generator().manual_seed(self.seed)

    def __call__(self, images: Tensor, generator: torch.Generator) -> Tensor:
        """``[batch, 28, 28]`` images in [0, 1] (light digits on black), varied; the same shape and range."""
        count = len(images)

        def uniform(low: float, high: float) -> Tensor:
            return torch.rand(count, generator=generator) * (high - low) + low

        angle = uniform(-self.rotation, self.rotation) * (math.pi / 180)
        size = uniform(*self.scale)
        slant = uniform(-self.shear, self.shear)
        # grid_sample's coordinates span [-1, 1]: a shift of s of the side is 2 s there.
        move_x, move_y = uniform(-self.shift, self.shift) * 2, uniform(-self.shift, self.shift) * 2
        thicker = torch.rand(count, generator=generator) < self.thicker
        # Where each output pixel samples the input: the inverse of turn(slant(scale(image))) + move.
        cos, sin = torch.cos(angle), torch.sin(angle)
        forward = torch.stack(
            [
                torch.stack([cos * size, (cos * slant - sin) * size], dim=1),
                torch.stack([sin * size, (sin * slant + cos) * size], dim=1),
            ],
            dim=1,
        )  # [batch, 2, 2]
        inverse = torch.linalg.inv(forward)
        offset = -(inverse @ torch.stack([move_x, move_y], dim=1).unsqueeze(2))
        theta = torch.cat([inverse, offset], dim=2).to(images.device, images.dtype)  # [batch, 2, 3]
        pictures = images.unsqueeze(1)
        grid = F.affine_grid(theta, list(pictures.shape), align_corners=False)
        varied = F.grid_sample(pictures, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        if thicker.any():
            dilated = F.max_pool2d(varied, kernel_size=3, stride=1, padding=1)
            varied = torch.where(thicker.to(images.device).view(-1, 1, 1, 1), dilated, varied)
        return varied.squeeze(1).clamp_(0, 1)
