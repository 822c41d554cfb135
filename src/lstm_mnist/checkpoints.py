"""Checkpoints: which a run keeps (the best, the latest, an interrupted one) and how one is read safely."""

import inspect
import pickle
import signal
import sys
import threading
import zipfile
from pathlib import Path
from typing import Literal

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.utilities.exceptions import SIGTERMException

from lstm_mnist.errors import UserInputError
from lstm_mnist.lit_module import LitLSTMClassifier
from lstm_mnist.metric_names import VAL_ACC

# Hyperparameters that decide the shapes of the weights or what they mean: a checkpoint trained
# with other values cannot go on training under this config.
ARCHITECTURE = ("cell", "order", "permutation_seed", "hidden_size", "num_layers", "bidirectional")
# What a checkpoint written before a hyperparameter existed was trained with.
EARLIER_DEFAULTS = {"cell": "lstm", "order": "rows", "permutation_seed": 0}


class BestCheckpoint(ModelCheckpoint):
    """``best-step=S-val_acc=A.ckpt``: the weights with the highest ``val/acc`` so far.

    Args:
        monitor: the logged scalar that decides which weights are the best.
        mode: ``max`` keeps the highest value of ``monitor``, ``min`` the lowest.
        save_top_k: how many of the best to keep.
    """

    def __init__(self, monitor: str = VAL_ACC, mode: Literal["max", "min"] = "max", save_top_k: int = 1) -> None:
        super().__init__(
            monitor=monitor,
            mode=mode,
            save_top_k=save_top_k,
            filename=f"best-step={{step}}-{monitor.replace('/', '_')}={{{monitor}:.4f}}",
            auto_insert_metric_name=False,
        )

    @property
    def state_key(self) -> str:
        """Where checkpoints keep this callback's state (the best score and path so far): under a plain
        ``ModelCheckpoint``'s key, which this callback was before it had a class, so that runs saved
        then still resume knowing their best."""
        return super().state_key.replace(type(self).__qualname__, ModelCheckpoint.__qualname__, 1)


class LatestCheckpoint(ModelCheckpoint):
    """``last.ckpt``: the latest training state, rewritten after every validation and every epoch.

    ``ModelCheckpoint(monitor=..., save_last=True)`` in Lightning 2.6 rewrites ``last.ckpt`` only
    when the monitored metric improves, so it can lag far behind the run. This callback saves
    regardless of any metric, which is what ``fit --ckpt_path last.ckpt`` needs to resume.
    """

    def __init__(self) -> None:
        super().__init__(save_top_k=0, save_last=True)

    def _save_latest(self, trainer: L.Trainer) -> None:
        if not self._should_skip_saving_checkpoint(trainer):
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._save_latest(trainer)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._save_latest(trainer)


def read_checkpoint(path: str | Path) -> dict:
    """Load a checkpoint the safe way and check that it is one of this project's.

    ``torch.load(weights_only=True)`` unpickles only tensors and plain values, so a crafted file
    cannot run code; the weights must then fit the hyperparameters stored beside them.
    """
    return checked_model(path)[0]


def load_model(path: str | Path) -> LitLSTMClassifier:
    """The trained model in a checkpoint, with :func:`read_checkpoint`'s checks, in eval mode on the
    CPU: what the demo page and the ONNX export start from."""
    return checked_model(path)[1].eval()


def checked_model(path: str | Path) -> tuple[dict, LitLSTMClassifier]:
    """The checkpoint and the model built from its hyperparameters and weights, or a one-line
    ``UserInputError`` saying why the file is not a checkpoint of this project."""
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"--ckpt_path {path} does not exist")
    if not zipfile.is_zipfile(path):  # torch.save has written zip archives since PyTorch 1.6
        raise UserInputError(f"{path} is not a PyTorch checkpoint (not the zip archive torch.save writes)")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if "Weights only load failed" in str(error):
            raise UserInputError(
                f"{path} was refused: it holds Python objects, not only tensors and plain values, and "
                "loading them could run code (nothing in it was run); use checkpoints written by this project"
            ) from error
        raise UserInputError(f"{path} is not a PyTorch checkpoint (it cannot be unpickled)") from error
    except Exception as error:  # torch.load fails in many ways on a file that is not a checkpoint
        raise UserInputError(
            f"{path} is not a PyTorch checkpoint, or it is truncated ({type(error).__name__}: {error})"
        ) from error
    if not isinstance(checkpoint, dict) or not {"state_dict", "hyper_parameters"} <= checkpoint.keys():
        raise UserInputError(f"{path} is not a checkpoint of this project: it has no state_dict and hyper_parameters")
    hyper_parameters = {k: v for k, v in checkpoint["hyper_parameters"].items() if not k.startswith("_")}
    unknown = sorted(set(hyper_parameters) - set(inspect.signature(LitLSTMClassifier).parameters))
    if unknown:
        raise UserInputError(
            f"{path} was not written by LitLSTMClassifier: unknown hyperparameters {', '.join(unknown)}"
        )
    try:
        model = LitLSTMClassifier(**hyper_parameters)
        model.load_state_dict(checkpoint["state_dict"])
    except (RuntimeError, TypeError, ValueError) as error:
        first_line = str(error).strip().splitlines()[-1].strip()
        raise UserInputError(
            f"{path}: its weights do not fit the hyperparameters stored with them ({first_line})"
        ) from error
    return checkpoint, model


def architecture_differences(checkpoint: dict, model_config) -> list[tuple[str, object, object]]:
    """``(name, in the checkpoint, in the config)`` for each hyperparameter of ``ARCHITECTURE`` that
    differs (the permutation seed only where both read permuted pixels)."""
    stored = {**EARLIER_DEFAULTS, **checkpoint["hyper_parameters"]}
    both_permuted = stored["order"] == model_config["order"] == "permuted"
    return [
        (name, stored[name], model_config[name])
        for name in ARCHITECTURE
        if name in stored and stored[name] != model_config[name] and (name != "permutation_seed" or both_permuted)
    ]


class InterruptCheckpoint(Callback):
    """Ctrl-C or SIGTERM during ``fit``: finish the step, save ``interrupted.ckpt``, say how to resume.

    Lightning stops on SIGTERM after the running step by itself; Ctrl-C is made to do the same
    (a second Ctrl-C stops at once), so the checkpoint always holds a whole step.
    """

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._ctrl_c = self._saved = False
        if threading.current_thread() is threading.main_thread():
            self._previous_handler = signal.signal(signal.SIGINT, self._on_ctrl_c)

    def _on_ctrl_c(self, signum, frame) -> None:
        print("\nstopping after this step (Ctrl-C again to stop at once)", file=sys.stderr, flush=True)
        self._ctrl_c = True
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def on_train_batch_end(self, trainer: L.Trainer, pl_module, outputs, batch, batch_idx) -> None:
        if not (self._ctrl_c or trainer.received_sigterm):
            return
        self._save(trainer)
        if self._ctrl_c:
            raise KeyboardInterrupt  # Lightning tears down and exits with status 1

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        # SIGTERM during a validation: Lightning stops there, between two training steps.
        if isinstance(exception, SIGTERMException) and not self._saved and trainer.state.fn == "fit":
            self._save(trainer)
        self._restore_ctrl_c()

    def _save(self, trainer: L.Trainer) -> None:
        path = Path(trainer.log_dir) / "checkpoints" / "interrupted.ckpt"
        trainer.save_checkpoint(path)
        self._saved = True
        if trainer.is_global_zero:
            config = path.parent.parent / "config.yaml"
            print(
                f"\ninterrupted at step {trainer.global_step}; the run is saved in {path}\n"
                f"resume with:  {program()} fit --config {config} --ckpt_path {path}",
                file=sys.stderr,
                flush=True,
            )

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._restore_ctrl_c()

    def _restore_ctrl_c(self) -> None:
        """Give Ctrl-C back to whoever had it (a notebook, a test runner) when the fit ends either way."""
        if getattr(self, "_previous_handler", None) is not None:
            signal.signal(signal.SIGINT, self._previous_handler)
            self._previous_handler = None


def program() -> str:
    """The training command as the user started it, ``lstm-mnist`` or ``python train.py`` (also
    for a run started by ``sweep.py``), for messages that say what to type next."""
    return "lstm-mnist" if Path(sys.argv[0]).name == "lstm-mnist" else "python train.py"
