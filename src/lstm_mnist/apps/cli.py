"""``lstm-mnist fit|validate|test|predict`` (or ``python train.py ...``): LightningCLI with this
project's default config.

The CLI does the wiring (configs, Trainer, logger, checkpoints): it builds the network from
``model.net`` and hands it to the recipe, which, like the data, otherwise takes plain arguments;
the recipe and the callbacks are in ``default.yaml``. Problems with the
user's input end the run with one line on stderr and exit code 1.
"""

import functools
import importlib
import inspect
import sys
import tempfile
from importlib import resources
from pathlib import Path

import lightning as L
import torch
import yaml
from jsonargparse import Namespace
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.utilities.exceptions import SIGTERMException

from lstm_mnist.adapters.lightning import CheckpointOverConfig, ParsersBuiltOnce
from lstm_mnist.apps.config_spellings import spelled_out
from lstm_mnist.apps.own_defaults import with_own_defaults
from lstm_mnist.apps.program import program
from lstm_mnist.apps.quiet import no_restoring_messages, quiet_predicting
from lstm_mnist.data.mnist import trained_on
from lstm_mnist.errors import UserInputError
from lstm_mnist.nets.network import class_path
from lstm_mnist.storage.bundled_model import given_or_bundled
from lstm_mnist.storage.checkpoint_reader import architecture_differences, network_class, read_checkpoint
from lstm_mnist.training.digit_classifier import DigitClassifier
from lstm_mnist.training.hparams_tab import HparamsEntry, run_hyperparameters
from lstm_mnist.training.kept_checkpoints import BestCheckpoint, LatestCheckpoint
from lstm_mnist.training.metric_names import TEST_ACC, TEST_ACC_LAST
from lstm_mnist.training.number_reader import NumberReader
from lstm_mnist.training.pictures import Pictures
from lstm_mnist.training.saved_config import AtomicSaveConfig
from lstm_mnist.training.trackers import (
    TrackerRuns,
    continue_tracker_runs,
    how_to_look,
    servers_answer,
    share_the_run_folder,
    with_run_folder_logger,
)

SUBCOMMANDS = ("fit", "validate", "test", "predict")
SCORING = ("validate", "test", "predict")  # what answers with a model: never an untrained one unasked
SETTINGS = (
    "The settings of the task, the data and the network: fit --model.help DigitClassifier, "
    "fit --data.help MNISTDataModule, fit --model.net.help RecurrentClassifier."
)
DESCRIPTION = (
    "An LSTM that reads MNIST digits as sequences: train it (fit), score it (validate, test), use it (predict). "
    + SETTINGS
)


class LSTMMNISTCLI(ParsersBuiltOnce, CheckpointOverConfig, LightningCLI):
    best_score = None  # after fit: the best checkpoint's val/acc (a sweep's objective)

    def add_arguments_to_parser(self, parser) -> None:
        # A configurable callback: --pictures.every_n_validations N
        parser.add_lightning_class_args(Pictures, "pictures")
        parser.add_argument(
            "--untrained",
            type=bool,
            default=False,
            help="validate, test or predict without --ckpt_path with a network that has learned nothing, on "
            "purpose (its answers are chance); without this flag such a run uses the bundled model",
        )

    def parse_arguments(self, parser, args) -> None:
        """Parse the command line with the short spellings spelled out (config_spellings.py), then
        check ``--ckpt_path`` before Lightning opens it: it must be a checkpoint of this project,
        and ``fit`` must resume it under the architecture it was trained with."""
        args = spelled_out(sys.argv[1:] if args is None else list(args), network_shorthand())
        self.config = parser.parse_args(with_own_defaults(parser, args, default_classes(), SUBCOMMANDS))
        self.checkpoint = None
        subcommand = self.config.get("subcommand")
        ckpt_path = self.config[subcommand].get("ckpt_path") if subcommand else None
        if subcommand in SCORING and not ckpt_path and not self.config[subcommand].get("untrained"):
            ckpt_path = self.config[subcommand].ckpt_path = self.bundled_model(subcommand)
        if not ckpt_path or ckpt_path in ("best", "last", "hpc", "registry"):
            return
        self.checkpoint = read_checkpoint(ckpt_path)
        net_config = self.config[subcommand].model.init_args.get("net")
        stored_task = self.checkpoint["hyper_parameters"].get("_class_path")
        if stored_task and subcommand != "fit" and stored_task != self.config[subcommand].model.class_path:
            return  # another task's network: the checkpoint's task comes with it (checkpoint_over_config)
        if net_config is None or "net" not in self.checkpoint["hyper_parameters"]:
            return  # a task without a network part: nothing to compare
        net_config = net_config.as_dict() if isinstance(net_config, Namespace) else net_config
        differences = architecture_differences(self.checkpoint, net_config)
        if subcommand == "fit" and differences:
            listed = "; ".join(f"{name}: checkpoint {stored}, config {asked}" for name, stored, asked in differences)
            raise UserInputError(
                f"{ckpt_path} was trained with another architecture than this config asks for "
                f"({listed}): resume with the config the run used (its config.yaml)"
            )
        for name, stored, asked in differences:
            print(f"using the checkpoint's {name} = {stored} (config: {asked})", file=sys.stderr)

    def bundled_model(self, subcommand: str) -> str:
        """The bundled model of the config's task (its ``bundled_file``: the digit or the number
        reader), said on stderr; a task of a user's own has none, and must be given a checkpoint."""
        task = self.config[subcommand].model.class_path
        bundled = getattr(imported_class(task), "bundled_file", None)
        if bundled is None:
            raise UserInputError(
                f"{subcommand} needs a trained model: --ckpt_path PATH (a checkpoint that fit wrote); the task "
                f"{task} has no bundled model; --untrained true {subcommand}s an untrained network on purpose"
            )
        return given_or_bundled(None, subcommand, untrained_flag=True, name=bundled)

    def checkpoint_over_config(self) -> None:
        """The checkpoint's hyperparameters over the model's config (so that test, predict and a
        resumed fit rebuild the model the checkpoint holds), from the checkpoint as
        ``read_checkpoint`` gave it: checked, and in today's form when an earlier version wrote it.
        A checkpoint of another task than the config's (a number reader's, predicted with the
        default config) brings the data that task reads, unless the config names data of its own."""
        if self.checkpoint is None:
            return
        stored = self.checkpoint["hyper_parameters"]
        hparams = {k: v for k, v in stored.items() if not k.startswith("_")}
        # Lightning records the task's class as `_class_path` (since the CLI took any task); a
        # checkpoint from before names none, and was written by the default task.
        task = {"class_path": task_class_path(stored.get("_class_path"), self.config.subcommand), "init_args": hparams}
        override = {"model": task}
        data = self.config[self.config.subcommand].data
        wanted = getattr(imported_class(task["class_path"]), "data_class", None)
        if wanted is not None and data.class_path in project_data_classes() and data.class_path != class_path(wanted):
            # The project's other data (the digits' for a number reader, or the lines' for a digit
            # classifier) cannot feed this task: its own, with the settings that apply to it.
            settings = {k: v for k, v in data.init_args.as_dict().items() if k in settings_of(wanted)}
            override["data"] = {"class_path": class_path(wanted), "init_args": settings}
            if data.class_path != default_classes()["data"]:
                print(
                    f"data: {wanted.__name__}, which the checkpoint's task reads (config: {data.class_path})",
                    file=sys.stderr,
                )
        self.config = self.parser.parse_object({self.config.subcommand: override}, self.config)

    @property
    def run_config(self):
        """The parsed settings of this run: the subcommand's part of the config, or all of it
        without a subcommand (``make_cli(run=False)``)."""
        return self.config[self.subcommand] if self.subcommand else self.config

    def before_instantiate_classes(self) -> None:
        """Settings that depend on the parsed config: refuse an unwritable run folder up front,
        load checkpoints with ``weights_only``, drop every progress bar a config lists when
        ``--trainer.enable_progress_bar false`` says so (Lightning would stop with a
        MisconfigurationException instead), and the project's TensorBoard logger first among the
        loggers, claiming the run's folder (training/trackers.py)."""
        config = self.run_config
        trainer = config.trainer
        writable_root(trainer.default_root_dir or ".")
        if "weights_only" in config:
            config.weights_only = True  # checkpoints hold only tensors and plain values: never unpickle more
        if trainer.callbacks is None:
            # What a run's config.yaml held before the callbacks moved into default.yaml: resuming
            # such a run with its config must not run without checkpoints (`callbacks: []` means none).
            trainer.callbacks = default_callbacks()
        if trainer.enable_progress_bar is False and trainer.callbacks:
            trainer.callbacks = [c for c in trainer.callbacks if "ProgressBar" not in c.class_path]
        trainer.logger = with_run_folder_logger(trainer.logger, trainer.default_root_dir or ".")
        if self.subcommand == "fit":
            trainer.logger = continue_tracker_runs(trainer.logger, self.checkpoint)

    def instantiate_classes(self) -> None:
        super().instantiate_classes()
        if len(self.trainer.loggers) > 1:
            servers_answer(self.trainer.loggers)  # before the run's folder is claimed: nothing written
            self.trainer.loggers = share_the_run_folder(self.trainer.loggers)
        config = self.run_config
        for callback in self.trainer.callbacks:
            if isinstance(callback, HparamsEntry):
                callback.hyperparameters = run_hyperparameters(config)

    def after_fit(self) -> None:
        """Score the best and the last checkpoint on the test set, then tell people where to look.

        The best ``val/acc`` of many validations is partly luck, and a one-cycle run often ends
        better than its best validation says; both scores side by side let the user choose.
        ``test/acc`` in the logs is the best checkpoint's, ``test/acc_last`` the last one's.
        """
        trainer = self.trainer
        best = next((c for c in trainer.callbacks if isinstance(c, BestCheckpoint)), None)
        latest = next((c for c in trainer.callbacks if isinstance(c, LatestCheckpoint)), None)
        # Read before testing: restoring a checkpoint for the test also restores the callbacks'
        # state as it was when that checkpoint was written.
        best_path, last_path = (best.best_model_path if best else ""), (latest.last_model_path if latest else "")
        score = self.best_score = best.best_model_score if best else None
        test_best = test_last = None
        if not trainer.interrupted:
            with no_restoring_messages():
                if best_path:
                    test_best = self._test(best_path)
                if last_path and best_path and saved_step(last_path) == saved_step(best_path):
                    test_last = test_best  # the best is the end of the run: the same weights
                elif last_path:
                    loggers, trainer.loggers = trainer.loggers, []  # one test/acc in the logs: the best's
                    try:
                        test_last = self._test(last_path)
                    finally:
                        trainer.loggers = loggers
                if test_last is not None:
                    for logger in trainer.loggers:
                        logger.log_metrics({TEST_ACC_LAST: test_last}, step=trainer.global_step)
                        logger.save()
        log_dir = trainer.log_dir  # every rank must ask: Lightning broadcasts it
        if not trainer.is_global_zero:
            return
        processes = f", {trainer.world_size} processes" if trainer.world_size > 1 else ""
        lines = [
            "",
            f"best val/acc:          {four_places(score)}",
            f"test/acc of the best:  {four_places(test_best)}",
            f"test/acc of the last:  {four_places(test_last)}",
            f"best checkpoint:       {best_path or 'none'}",
            f"last checkpoint:       {last_path or 'none'}",
            f"trained on:            {trainer.strategy.root_device.type}{processes}",
            f"logs:                  {log_dir}",
            *how_to_look(trainer.loggers),
        ]
        print("\n".join(lines))

    def predict(self, **kwargs) -> None:
        """``predict``, run by LightningCLI in place of ``Trainer.predict``: as quiet as ``fit``
        (quiet.py), and keeping no predictions in memory, since the writer has them on disk
        (a million pictures would otherwise hold gigabytes)."""
        if kwargs.get("return_predictions") is None:
            kwargs["return_predictions"] = False
        if self.checkpoint is not None:
            description = getattr(self.model, "description", type(self.model).__name__)
            print(f"model: {description}, trained on {trained_on(self.checkpoint)}", file=sys.stderr)
        with quiet_predicting():
            self.trainer.predict(**kwargs)

    def _test(self, checkpoint_path: str) -> float:
        """The test accuracy of one checkpoint of this run."""
        results = self.trainer.test(self.model, datamodule=self.datamodule, ckpt_path=checkpoint_path, verbose=False)
        return results[0][TEST_ACC]


def saved_step(checkpoint_path: str) -> int:
    """The training step a checkpoint of this run was written at (its tensors are not read)."""
    return torch.load(checkpoint_path, map_location="cpu", weights_only=True, mmap=True)["global_step"]


def four_places(value) -> str:
    return "n/a" if value is None else f"{float(value):.4f}"


def writable_root(root: str) -> None:
    """Fail before training, not after it, when the run's folder cannot be written."""
    try:
        Path(root).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=root):
            pass
    except OSError as error:
        raise UserInputError(f"cannot write to --trainer.default_root_dir {root}: {error.strerror or error}") from error


def default_config():
    """The recipe every run starts from: ``default.yaml``, shipped inside the package."""
    return resources.files("lstm_mnist") / "default.yaml"


def default_callbacks() -> list[Namespace]:
    """``trainer.callbacks`` of ``default.yaml``, as the parser would give them."""
    listed = default_settings()["trainer"]["callbacks"]
    return [Namespace(class_path=c["class_path"], init_args=Namespace(**c.get("init_args", {}))) for c in listed]


@functools.cache  # package data: the same for the whole process (every run asks: 5 ms each time)
def default_settings() -> dict:
    """``default.yaml`` as YAML reads it (read, never changed)."""
    return yaml.safe_load(default_config().read_text())


def default_classes() -> dict[str, str]:
    """The classes the default config names for the task, the data and the network."""
    config = default_settings()
    return {
        "model": config["model"]["class_path"],
        "data": config["data"]["class_path"],
        "model.init_args.net": config["model"]["init_args"]["net"]["class_path"],
    }


@functools.cache
def network_shorthand() -> frozenset[str]:
    """The network settings that may be given directly under ``model`` (``--model.hidden_size``):
    those of the network the default config names, which are not the recipe's own."""
    default_net = network_class(default_classes()["model.init_args.net"])
    return frozenset(inspect.signature(default_net).parameters) - set(inspect.signature(DigitClassifier).parameters)


def project_data_classes() -> set[str]:
    """The data the project's tasks read: each task names its own (``data_class``)."""
    return {class_path(task.data_class) for task in (DigitClassifier, NumberReader)}


def settings_of(data_class: type) -> set[str]:
    """The settings a DataModule takes: its own and, where it passes the rest on, its base's."""
    parameters = inspect.signature(data_class).parameters
    own = set(parameters)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        own |= set(inspect.signature(data_class.__mro__[1]).parameters)
    return own


def imported_class(path: str) -> type:
    """The class a ``module.Class`` path names (one the parser or ``task_class_path`` allowed)."""
    module_name, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module_name), name)


def task_class_path(stored: str | None, subcommand: str) -> str:
    """The task a checkpoint names (``_class_path``), when it is one of this package's or already
    imported, else the default config's: a checkpoint cannot make us import a module of its choosing."""
    if not stored:
        return default_classes()["model"]
    module_name = stored.rpartition(".")[0]
    if module_name.startswith("lstm_mnist.") or module_name in sys.modules:
        return stored
    raise UserInputError(
        f"--ckpt_path names the task {stored}, which is neither in lstm_mnist nor imported: {subcommand} it with "
        "the module imported (a program of your own that calls lstm_mnist.apps.cli.main)"
    )


def make_cli(args: list[str] | None = None, run: bool = True, callbacks: list | None = None) -> LSTMMNISTCLI:
    """The CLI over ``args`` with the packaged default config under every config and flag.
    With ``run=False`` it only parses and builds the model, data and Trainer (no subcommand).
    ``callbacks`` are added to the config's (the sweep's pruning callback: an object, not a setting,
    so it stays out of the run's config.yaml), after the HPARAMS entry every run writes."""
    with resources.as_file(default_config()) as path:
        defaults = {"default_config_files": [str(path)]}
        return LSTMMNISTCLI(
            L.LightningModule,
            L.LightningDataModule,
            parser_kwargs={
                "description": DESCRIPTION,
                **{name: {**defaults, "description": SETTINGS} for name in SUBCOMMANDS},
            }
            if run
            else defaults,
            auto_configure_optimizers=False,
            # Any task and any data (--model CLASS, --data CLASS); default.yaml names today's.
            subclass_mode_model=True,
            subclass_mode_data=True,
            save_config_callback=AtomicSaveConfig,
            trainer_defaults={"callbacks": [HparamsEntry(), TrackerRuns(), *(callbacks or [])]},
            run=run,
            args=args,
        )


def main(args: list[str] | None = None) -> None:
    """``lstm-mnist`` and ``python train.py``. A problem with the user's input ends the run with one
    line on stderr and exit status 1 (program.py)."""
    with program():
        try:
            make_cli(args)
            close_process_group(wait_for_all=True)
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
