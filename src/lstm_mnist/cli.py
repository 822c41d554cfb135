"""``python train.py fit|validate|test|predict``: LightningCLI with this project's defaults.

The CLI does the wiring (configs, Trainer, logger, checkpoints); the module and the data
take plain arguments. Problems with the user's input end the run with one line on stderr
and exit code 1.
"""

import sys
import tempfile
from pathlib import Path

import torch
from jsonargparse import Namespace
from lightning.pytorch.callbacks import LearningRateMonitor
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.utilities.exceptions import SIGTERMException

from lstm_mnist.callbacks import TensorBoardPictures
from lstm_mnist.checkpoints import (
    InterruptCheckpoint,
    LatestCheckpoint,
    architecture_differences,
    best_checkpoint,
    read_checkpoint,
)
from lstm_mnist.data import MNISTDataModule
from lstm_mnist.errors import UserInputError
from lstm_mnist.lit_module import LitLSTMClassifier
from lstm_mnist.predictions import PredictionWriter

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "default.yaml"
SUBCOMMANDS = ("fit", "validate", "test", "predict")


def trainer_defaults() -> dict:
    """Settings every config starts from; a config or the command line can override each."""
    return {
        "accelerator": "auto",
        "devices": "auto",
        # Validate every 50 training steps, counted across epoch boundaries.
        "val_check_interval": 50,
        "check_val_every_n_epoch": None,
        "log_every_n_steps": 50,
        "callbacks": [
            best_checkpoint(),
            LatestCheckpoint(),
            LearningRateMonitor(logging_interval="step"),
            PredictionWriter(),
            InterruptCheckpoint(),
        ],
    }


class LSTMMNISTCLI(LightningCLI):
    def add_arguments_to_parser(self, parser) -> None:
        # A configurable callback: --pictures.every_n_validations N
        parser.add_lightning_class_args(TensorBoardPictures, "pictures")

    def parse_arguments(self, parser, args) -> None:
        """Check ``--ckpt_path`` before Lightning opens it (it would then overwrite the model's
        config with the checkpoint's hyperparameters without a word)."""
        super().parse_arguments(parser, args)
        subcommand = self.config.get("subcommand")
        ckpt_path = self.config[subcommand].get("ckpt_path") if subcommand else None
        if not ckpt_path or ckpt_path in ("best", "last", "hpc", "registry"):
            return
        checkpoint = read_checkpoint(ckpt_path)
        differences = architecture_differences(checkpoint, self.config[subcommand].model)
        if subcommand == "fit" and differences:
            listed = "; ".join(f"{name}: checkpoint {stored}, config {asked}" for name, stored, asked in differences)
            raise UserInputError(
                f"{ckpt_path} was trained with another architecture than this config asks for "
                f"({listed}): resume with the config the run used (its config.yaml)"
            )
        for name, stored, asked in differences:
            print(f"using the checkpoint's {name} = {stored} (config: {asked})", file=sys.stderr)

    def before_instantiate_classes(self) -> None:
        """Settings that depend on the parsed config: refuse an unwritable run folder up front,
        load checkpoints with ``weights_only``, a progress bar that redraws every 10 steps (or
        none at all when ``--trainer.enable_progress_bar false``, whatever a config lists), and
        Lightning's own TensorBoard logger without its placeholder ``hp_metric`` scalar (the
        HPARAMS tab gets ``val/acc_best`` and ``test/acc`` instead, see callbacks.py)."""
        config = self.config[self.subcommand] if self.subcommand else self.config
        trainer = config.trainer
        writable_root(trainer.default_root_dir or ".")
        if "weights_only" in config:
            config.weights_only = True  # checkpoints hold only tensors and plain values: never unpickle more
        callbacks = trainer.callbacks or []
        if trainer.enable_progress_bar is False:
            # The switch wins over a bar that a config lists (configs/gpu.yaml does); Lightning
            # would stop with a MisconfigurationException instead.
            trainer.callbacks = [c for c in callbacks if "ProgressBar" not in c.class_path]
        elif not any("ProgressBar" in c.class_path for c in callbacks):
            # Lightning's bar redraws after every step by default, which costs more than a step
            # of this LSTM on the CPU; every tenth step looks the same to a person.
            trainer.callbacks = [
                *callbacks,
                Namespace(
                    class_path="lightning.pytorch.callbacks.TQDMProgressBar", init_args=Namespace(refresh_rate=10)
                ),
            ]
        if trainer.logger in (None, True):
            trainer.logger = Namespace(
                class_path="lightning.pytorch.loggers.TensorBoardLogger",
                init_args=Namespace(save_dir=trainer.default_root_dir or ".", default_hp_metric=False),
            )

    def after_fit(self) -> None:
        """Score the best checkpoint on the test set, then tell people where to look."""
        trainer = self.trainer
        best = trainer.checkpoint_callback
        latest = next((c for c in trainer.callbacks if isinstance(c, LatestCheckpoint)), None)
        # Read before testing: restoring the best checkpoint for the test also restores the
        # callbacks' state as it was at that step.
        best_path, last_path = (best.best_model_path if best else ""), (latest.last_model_path if latest else "")
        score = f"{best.best_model_score:.4f}" if best is not None and best.best_model_score is not None else "n/a"
        test_acc = "n/a"
        if best_path and not trainer.interrupted:
            results = trainer.test(self.model, datamodule=self.datamodule, ckpt_path=best_path, verbose=False)
            test_acc = f"{results[0]['test/acc']:.4f}"
        log_dir = trainer.log_dir  # every rank must ask: Lightning broadcasts it
        if not trainer.is_global_zero:
            return
        lines = [
            "",
            f"best val/acc:     {score}",
            f"its test/acc:     {test_acc}",
            f"best checkpoint:  {best_path or 'none'}",
            f"last checkpoint:  {last_path or 'none'}",
            f"logs:             {log_dir}",
            f"watch with:       tensorboard --logdir {Path(log_dir).parent}",
        ]
        print("\n".join(lines))


def writable_root(root: str) -> None:
    """Fail before training, not after it, when the run's folder cannot be written."""
    try:
        Path(root).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=root):
            pass
    except OSError as error:
        raise UserInputError(f"cannot write to --trainer.default_root_dir {root}: {error.strerror or error}") from error


def main(args: list[str] | None = None) -> None:
    parser_kwargs = {}
    if DEFAULT_CONFIG.is_file():
        # configs/default.yaml is the base of every run; --config files and flags override it.
        parser_kwargs = {name: {"default_config_files": [str(DEFAULT_CONFIG)]} for name in SUBCOMMANDS}
    try:
        LSTMMNISTCLI(
            LitLSTMClassifier,
            MNISTDataModule,
            trainer_defaults=trainer_defaults(),
            seed_everything_default=42,
            parser_kwargs=parser_kwargs,
            auto_configure_optimizers=False,
            args=args,
        )
        close_process_group(wait_for_all=True)
    except UserInputError as error:
        sys.exit(f"error: {error}")
    except SIGTERMException:
        sys.exit(143)  # Lightning stops with status 0 on SIGTERM; a killed run must not look successful
    finally:
        close_process_group(wait_for_all=False)


def close_process_group(wait_for_all: bool) -> None:
    """Lightning leaves the DDP process group open, and a process that exits while another still
    talks to it can be aborted by gloo's threads; after a successful run all ranks meet first."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        if wait_for_all:
            torch.distributed.barrier()
        torch.distributed.destroy_process_group()
