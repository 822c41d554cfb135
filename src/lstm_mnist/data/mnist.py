"""MNIST as in-memory tensors: IDX files -> uint8 tensors -> float tensors -> batches.

The four IDX files are read once (idx_files.py) and kept as tensors; no image goes through PIL
per sample. ``setup`` is idempotent, so Lightning may call it for every stage of a run without
reading the files again.
"""

from dataclasses import asdict

import lightning as L
import torch
from torch import Tensor
from torchvision.datasets import MNIST as TorchvisionMNIST

from lstm_mnist.data.augmentation import Augmentation
from lstm_mnist.data.batches import TensorBatches
from lstm_mnist.data.digit_source import DigitSource
from lstm_mnist.data.font_digits import FontDigits
from lstm_mnist.data.idx_files import (
    DATA_DIR_VARIABLE,
    TEST_FILES,
    TRAIN_FILES,
    default_data_dir,
    missing_files,
    raw_folder,
    read_idx_pair,
    to_float,
)
from lstm_mnist.data.picture_folders import PictureFolder
from lstm_mnist.errors import UserInputError


class MNISTDataModule(L.LightningDataModule):
    """MNIST's 60k training images split into train and validation, and the official 10k test set.

    Args:
        data_dir: folder holding ``MNIST/raw/`` (defaults to ``$LSTM_MNIST_DATA_DIR`` or ``data``).
        download: fetch the files into ``data_dir`` when they are missing.
        batch_size: training batch size.
        eval_batch_size: batch size for validation, test and predict (no gradients, so large is cheap).
        val_size: images held out of the 60k training images for validation.
        split_seed: seeds the train/validation split, independent of the training seed.
        shuffle_seed: seeds the order of training batches (each epoch ``shuffle_seed + epoch``).
        num_workers: 0 cuts batches from the in-memory tensors in the main process (fastest:
            there is no per-sample work to spread); a positive number uses a torch DataLoader
            with that many worker processes instead.
        data_on_device: keep the whole dataset on the accelerator and cut batches there.
        predict_path: an image file or a folder of them for ``predict``; without it ``predict``
            classifies the 10k test set.
        labels: a CSV file (``file,label``) of the digits in ``predict_path``'s pictures, so that
            ``predict`` reports how many it reads right; unset, the folder's ``labels.csv`` if it
            has one.
        augmentation: vary each training batch (turned, slanted, scaled, moved, thicker strokes;
            data/augmentation.py) so that the model reads digits written unlike MNIST's; unset,
            none. Validation, test and predict always see the images as they are.
        sources: more labelled digits for training, each a source listed by ``class_path`` and
            ``init_args`` (data/digit_source.py): ``lstm_mnist.data.font_digits.FontDigits`` (digits
            set in fonts and photographed), ``lstm_mnist.data.labelled_folder.LabelledFolder`` (a
            folder of your own pictures and their labels), or a class of your own. Validation and
            test stay MNIST's. Made when training starts.
        font_digits: the short spelling of a ``FontDigits`` source (``--data.font_digits.per_digit
            30``): digits set in the training fonts (pip's; the external benchmark scores on
            Debian's) and photographed; unset, none.
    """

    def __init__(
        self,
        data_dir: str | None = None,
        download: bool = True,
        batch_size: int = 50,
        eval_batch_size: int = 1000,
        val_size: int = 5000,
        split_seed: int = 42,
        shuffle_seed: int = 0,
        num_workers: int = 0,
        data_on_device: bool = True,
        predict_path: str | None = None,
        labels: str | None = None,
        augmentation: Augmentation | None = None,
        sources: list[DigitSource] | None = None,
        font_digits: FontDigits | None = None,
    ) -> None:
        super().__init__()
        for name, size in (("batch_size", batch_size), ("eval_batch_size", eval_batch_size)):
            if size < 1:
                raise UserInputError(f"--data.{name} must be at least 1, got {size}")
        self.data_dir = data_dir or default_data_dir()
        self.download = download
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.val_size = val_size
        self.split_seed = split_seed
        self.shuffle_seed = shuffle_seed
        self.num_workers = num_workers
        self.data_on_device = data_on_device
        if labels and not predict_path:
            raise UserInputError("--data.labels names the digits of --data.predict_path's pictures: give both")
        self.predict_path = predict_path
        self.labels = labels
        if augmentation is not None:
            augmentation.check()
        self.augmentation = augmentation
        self.font_digits = font_digits
        self.sources = [*(sources or []), *([font_digits] if font_digits is not None else [])]
        for source in self.sources:
            source.check()
        self._augmentation_draws = augmentation.generator() if augmentation else None
        self.splits: dict[str, tuple[Tensor, ...]] = {}
        # What predict classifies: a name for each image (its batches carry positions in this list,
        # and the label where one is known), and whether any label is.
        self.predict_names: list[str] = []
        self.predict_has_labels = False
        self._predict_pictures: PictureFolder | None = None
        self._train_batches: TensorBatches | None = None
        self._train_batches_state: dict | None = None  # from a checkpoint, for the next train loader

    def prepare_data(self) -> None:
        """Download only (Lightning calls this on one process per node)."""
        if self.predict_path and self.trainer is not None and self.trainer.state.fn == "predict":
            return  # the user's own pictures need no MNIST
        missing = missing_files(self.data_dir)
        if not missing:
            return
        if self.download:
            try:
                TorchvisionMNIST(self.data_dir, train=True, download=True)
                TorchvisionMNIST(self.data_dir, train=False, download=True)
            except (RuntimeError, OSError):
                pass  # offline: the message below says what to do
            missing = missing_files(self.data_dir)
        if missing:
            raise UserInputError(
                f"MNIST not found in {raw_folder(self.data_dir).resolve()}: it needs the four files "
                f"{', '.join(TRAIN_FILES + TEST_FILES)} (missing: {', '.join(missing)}); "
                f"point --data.data_dir or ${DATA_DIR_VARIABLE} at a folder holding MNIST/raw/"
                + ("" if self.download else ", or allow --data.download true")
            )

    def setup(self, stage: str | None = None) -> None:
        """Read the files a stage needs, once; later calls return at once.

        ``test`` and ``predict`` read only the 10k test files, so they do not depend on how a
        training run split its 60k images.
        """
        if stage == "predict" and self.predict_path:
            if self._predict_pictures is None:
                self._predict_pictures = PictureFolder(self.predict_path, self.eval_batch_size, self.labels)
                self.predict_names = self._predict_pictures.names
                self.predict_has_labels = self._predict_pictures.has_labels
            return
        if missing_files(self.data_dir):  # called without a Trainer (a notebook, a test)
            self.prepare_data()
        folder = raw_folder(self.data_dir)
        if stage in (None, "fit", "validate") and "train" not in self.splits:
            images, labels = read_idx_pair(folder / TRAIN_FILES[0], folder / TRAIN_FILES[1])
            if not 1 <= self.val_size < len(images):
                raise UserInputError(
                    f"--data.val_size must be between 1 and {len(images) - 1} (the training images "
                    f"in {folder}), got {self.val_size}"
                )
            order = torch.randperm(len(images), generator=torch.Generator().manual_seed(self.split_seed))
            val_index, train_index = order[: self.val_size], order[self.val_size :]
            images = to_float(images)
            parts = [(images[train_index], labels[train_index]), *(source.images() for source in self.sources)]
            self.splits["train"] = (torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts]))
            self.splits["val"] = (images[val_index], labels[val_index])
        if stage in (None, "test", "predict") and "test" not in self.splits:
            images, labels = read_idx_pair(folder / TEST_FILES[0], folder / TEST_FILES[1])
            self.splits["test"] = (to_float(images), labels)
        if stage == "predict":
            images, labels = self.splits["test"]
            self.predict_names = [f"MNIST test image {index}" for index in range(len(labels))]
            self.predict_has_labels = True
            self.splits["predict"] = (images, labels, torch.arange(len(labels)))

    def _device(self) -> torch.device:
        if self.data_on_device and self.trainer is not None:
            return self.trainer.strategy.root_device
        return torch.device("cpu")

    def _loader(self, split: str, batch_size: int, shuffle: bool):
        tensors = self.splits[split]
        rank, world_size = (self.trainer.global_rank, self.trainer.world_size) if self.trainer else (0, 1)
        if self.num_workers > 0:
            # Lightning adds a DistributedSampler to this loader itself under DDP.
            dataset = torch.utils.data.TensorDataset(*tensors)
            return torch.utils.data.DataLoader(
                dataset,
                batch_size=batch_size,
                shuffle=shuffle,
                num_workers=self.num_workers,
                persistent_workers=True,
            )
        device = self._device()
        if tensors[0].device != device:
            tensors = tuple(tensor.to(device) for tensor in tensors)
            self.splits[split] = tensors
        return TensorBatches(
            tensors, batch_size, shuffle=shuffle, seed=self.shuffle_seed, rank=rank, world_size=world_size
        )

    def train_dataloader(self):
        loader = self._loader("train", self.batch_size, shuffle=True)
        if isinstance(loader, TensorBatches):
            self._train_batches = loader
            if self._train_batches_state is not None:
                loader.load_state_dict(self._train_batches_state)
                self._train_batches_state = None
        return loader

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        """Training batches varied by ``augmentation``, on the device they are on; others as they are."""
        if self.augmentation is None or self.trainer is None or not self.trainer.training:
            return batch
        images, labels = batch
        return self.augmentation(images, self._augmentation_draws), labels

    def state_dict(self) -> dict:
        """Where the training batches stand, so that a run resumed mid-epoch skips exactly the
        batches it trained on, and where the augmentation's draws stand, so that it varies them as
        the run would have. (Lightning restores a stateful loader itself only when nothing built
        the loader before the checkpoint was read; a one-cycle schedule does, by asking for the
        number of steps in ``configure_optimizers``.)"""
        state = {"train_batches": self._train_batches.state_dict()} if self._train_batches else {}
        if self._augmentation_draws is not None:
            state["augmentation_draws"] = self._augmentation_draws.get_state()
        # What the model learned from, for predict and the demo page to say (``trained_on``).
        state["trained_on"] = {
            "augmentation": asdict(self.augmentation) if self.augmentation else None,
            "sources": [source.description() for source in self.sources],
        }
        return state

    def load_state_dict(self, state: dict) -> None:
        self._train_batches_state = state.get("train_batches")
        if self._augmentation_draws is not None and "augmentation_draws" in state:
            self._augmentation_draws.set_state(state["augmentation_draws"])

    def val_dataloader(self):
        return self._loader("val", self.eval_batch_size, shuffle=False)

    def test_dataloader(self):
        return self._loader("test", self.eval_batch_size, shuffle=False)

    def predict_dataloader(self):
        """``(images, labels, positions in predict_names)`` batches; a label of -1 is unknown."""
        if self._predict_pictures is not None:
            return self._predict_pictures  # read a batch at a time, on the CPU (Lightning moves each batch)
        return self._loader("predict", self.eval_batch_size, shuffle=False)


def data_state_key(checkpoint: dict) -> str:
    """The checkpoint's entry that holds the DataModule's ``state_dict``: Lightning files it under the
    class's name (``MNISTDataModule``, ``NumberLinesDataModule``); the one with a ``trained_on``."""
    found = (key for key, value in checkpoint.items() if isinstance(value, dict) and "trained_on" in value)
    return next(found, MNISTDataModule.__qualname__)


def trained_on(checkpoint: dict) -> str:
    """What a checkpoint's model learned from, in words, from the part of the checkpoint that holds
    this DataModule's ``state_dict`` (``data_state_key``), as
    ``storage/checkpoint_reader.read_checkpoint`` gives it (earlier forms brought to today's)."""
    recorded = (checkpoint.get(data_state_key(checkpoint)) or {}).get("trained_on") or {}
    words = " and ".join(["MNIST", *recorded.get("sources", [])])
    if recorded.get("augmentation"):
        varied = recorded["augmentation"]
        low, high = varied["scale"]
        words += (
            f", varied (turned up to {varied['rotation']:g} degrees, scaled {low:g}-{high:g}, "
            f"slanted {varied['shear']:g}, moved {varied['shift']:g} of the side, {varied['thicker']:.0%} thicker)"
        )
    return words
