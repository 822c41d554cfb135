"""Names a user imported from an earlier version, where they are today: for one release the old
import still works, with a ``DeprecationWarning`` that says the new one; then the entry goes.

It imports nothing, so that ``import lstm_mnist`` stays free and any module of any layer can say
that one of its names moved (a module left behind for that: ``def __getattr__(name): return
moved_name(__name__, name)``).
"""

import importlib
import warnings

# (module, name) as an earlier version exported it -> (module, name) today; kept for one release.
MOVED_NAMES = {
    ("lstm_mnist", "LitLSTMClassifier"): ("lstm_mnist", "DigitClassifier"),
    ("lstm_mnist.training.recipe", "LitLSTMClassifier"): ("lstm_mnist.training.digit_classifier", "DigitClassifier"),
    **{
        ("lstm_mnist.data.user_images", name): ("lstm_mnist.data.picture_reading", name)
        for name in ("read_picture", "picture_to_mnist", "UnreadablePicture")
    },
    ("lstm_mnist.data.user_pictures", "UserPictures"): ("lstm_mnist.data.picture_folders", "PictureFolder"),
    ("lstm_mnist.data.user_pictures", "load_user_images"): ("lstm_mnist.data.picture_folders", "load_user_images"),
}


def moved_name(module: str, name: str):
    """The object an earlier import ``from module import name`` meant, with a ``DeprecationWarning``
    naming today's import; an ``AttributeError`` for a name that never was."""
    if (module, name) not in MOVED_NAMES:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    new_module, new_name = MOVED_NAMES[(module, name)]
    warnings.warn(
        f"{module}.{name} is now {new_module}.{new_name}: the old name goes in the next release",
        DeprecationWarning,
        stacklevel=3,
    )
    return getattr(importlib.import_module(new_module), new_name)
