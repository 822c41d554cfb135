"""Ctrl-C or SIGTERM during ``fit``: the step finishes, ``interrupted.ckpt`` is saved, the user is told how
to resume."""

import signal
import sys
import threading
from pathlib import Path

import lightning as L
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.utilities.exceptions import SIGTERMException


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
                f"resume with:  {training_command()} fit --config {config} --ckpt_path {path}",
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


def training_command() -> str:
    """The training command as the user started it, ``lstm-mnist`` or ``python train.py`` (also
    for a run started by ``sweep.py``), for messages that say what to type next."""
    return "lstm-mnist" if Path(sys.argv[0]).name == "lstm-mnist" else "python train.py"
