"""What a source of training digits is: a class whose settings are its constructor's arguments (so a
config lists it by ``class_path`` and ``init_args``) and that gives labelled images in MNIST's form.

``MNISTDataModule(sources=[...])`` adds each source's images to the training split; validation and
test stay MNIST's, so figures stay comparable whatever a run trained on. Adding a source is one
class deriving from this one and a config entry (docs/architecture.md, "Adding a data source").
"""

from torch import Tensor


class DigitSource:
    """Base of the training sources: ``images()`` gives ``(images [n, 28, 28] floats in [0, 1],
    labels [n] long 0-9)``; ``description()`` says in words what they are, for what predict and
    the demo page say a model was trained on; ``check()`` refuses settings that cannot be, with one
    ``UserInputError`` naming the setting, before anything is made."""

    def check(self) -> None:
        """Nothing to refuse, unless a source says otherwise."""

    def images(self) -> tuple[Tensor, Tensor]:
        raise NotImplementedError(f"{type(self).__name__} gives no images: define images()")

    def description(self) -> str:
        return type(self).__name__
