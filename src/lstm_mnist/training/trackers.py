"""Experiment trackers a user brings (``--trainer.logger``: MLflow, CSV, Weights & Biases, several
at once), each beside the project's TensorBoard logger, which always comes first.

The TensorBoard logger owns the run's folder (``lightning_logs/version_N``, claimed by creating it,
storage/run_folders.py): Lightning puts ``trainer.log_dir`` and the checkpoints where the *first*
logger says, and a tracker such as MLflow has no local folder to say (``trainer.log_dir`` is None,
which stopped every fit with a traceback). So whatever loggers a user lists, config.yaml, the
checkpoints and ``predictions.csv`` land in that one folder, and the TensorBoard events (the
pictures and the HPARAMS tab) are written there too. A CSV logger's ``metrics.csv`` joins them.
config.yaml also goes to each tracker that keeps files (``send_file``). A resumed fit goes on
logging into the MLflow or W&B run it was logging to (``TrackerRuns``).
"""

import socket
from pathlib import Path
from urllib.parse import urlsplit

import lightning as L
from jsonargparse import Namespace

from lstm_mnist.adapters.lightning import csv_logger_settings, mlflow_run_given, mlflow_run_name, mlflow_tracking_uri
from lstm_mnist.adapters.wandb import is_offline
from lstm_mnist.errors import UserInputError

RUN_FOLDER_LOGGER = "lstm_mnist.storage.run_folders.ExclusiveTensorBoardLogger"


def with_run_folder_logger(logger, root: str):
    """``--trainer.logger`` as configured (None or True: the default; False: no logging; one logger
    or a list), with the project's TensorBoard logger first: a TensorBoard logger the user listed
    becomes it (keeping its settings), else it is added."""
    if logger is False:
        return False
    listed = [] if logger in (None, True) else list(logger) if isinstance(logger, list) else [logger]
    tensorboard = [entry for entry in listed if str(entry.class_path).endswith("TensorBoardLogger")]
    others = [entry for entry in listed if entry not in tensorboard]
    first = tensorboard[0] if tensorboard else Namespace(class_path=RUN_FOLDER_LOGGER, init_args=Namespace())
    first.class_path = RUN_FOLDER_LOGGER
    init_args = first.get("init_args") or Namespace()
    if init_args.get("save_dir") is None:
        init_args.save_dir = root
    if "default_hp_metric" not in init_args:
        init_args.default_hp_metric = False  # the HPARAMS tab shows val/acc_best and the test accuracies
    first.init_args = init_args
    return [first, *others] if others else first


def share_the_run_folder(loggers: list) -> list:
    """The loggers, with a CSV logger listed without a version of its own made anew to write
    ``metrics.csv`` into the run's folder, not into a ``version_M`` it would number by itself (a
    folder another run may claim), and a new MLflow run named after the run's folder (``version_N``,
    its path in the tag ``run_folder``): MLflow draws its random names from Python's ``random``,
    which the seed fixes: every run of seed 42 would be called "capable-auk-759"."""
    from lightning.pytorch.loggers import CSVLogger, MLFlowLogger, TensorBoardLogger

    if not loggers or not isinstance(loggers[0], TensorBoardLogger):
        return loggers
    owner = loggers[0]
    shared = [owner]
    for logger in loggers[1:]:
        if isinstance(logger, MLFlowLogger) and not mlflow_run_given(logger):
            folder = Path(owner.log_dir)
            named = {} if mlflow_run_name(logger) else {"mlflow.runName": folder.name}  # a run_name given wins
            logger.tags = {**named, "run_folder": str(folder.resolve()), **(logger.tags or {})}
        if isinstance(logger, CSVLogger) and csv_logger_settings(logger)["version"] is None:
            settings = {**csv_logger_settings(logger), "version": owner.version}
            logger = CSVLogger(save_dir=owner.save_dir, name=owner.name, **settings)
        shared.append(logger)
    return shared


def tracking_server(logger) -> str | None:
    """The URL of the MLflow tracking server ``logger`` logs to; None for a local store or another logger."""
    from lightning.pytorch.loggers import MLFlowLogger

    uri = mlflow_tracking_uri(logger) if isinstance(logger, MLFlowLogger) else None
    return uri if uri and uri.startswith(("http://", "https://")) else None


def servers_answer(loggers, timeout: float = 5.0) -> None:
    """Refuse, in one line and before training, an MLflow tracking server that nothing answers at:
    MLflow's client would retry each request for about four minutes, then stop the fit with a
    traceback. (A connection only: what the server says is for the MLflow client to read.)"""
    for uri in filter(None, map(tracking_server, loggers)):
        address = urlsplit(uri)
        try:
            port = address.port or (443 if address.scheme == "https" else 80)
        except ValueError as error:  # a port that is not a number from 0 to 65535
            raise UserInputError(
                f"--trainer.logger.tracking_uri {uri} has no valid port ({error}): correct it"
            ) from error
        try:
            socket.create_connection((address.hostname, port), timeout=timeout).close()
        except OSError as error:
            reason = error.strerror or str(error) or type(error).__name__
            raise UserInputError(
                f"no MLflow tracking server answers at {uri} ({reason}): start it (mlflow server --host "
                f"{address.hostname} --port {port}) or correct --trainer.logger.tracking_uri"
            ) from error


def how_to_look(loggers) -> list[str]:
    """Where each tracker keeps the run and the command that shows it, for the end of a fit."""
    from lightning.pytorch.loggers import CSVLogger, MLFlowLogger, TensorBoardLogger, WandbLogger

    lines = []
    for logger in loggers:
        if isinstance(logger, TensorBoardLogger):
            lines.append(f"watch with:            tensorboard --logdir {Path(logger.log_dir).parent}")
        elif isinstance(logger, CSVLogger):
            lines.append(f"metrics as CSV:        {Path(logger.log_dir) / 'metrics.csv'}")
        elif isinstance(logger, MLFlowLogger):
            lines.append(f"MLflow run {logger.run_id}: {mlflow_page(logger)}")
        elif isinstance(logger, WandbLogger):
            run = logger.experiment
            where = f"wandb sync {' '.join(offline_folders(run))}" if is_offline(run) else run.url
            lines.append(f"W&B run {run.id}: {where}")
    return lines


def mlflow_page(logger) -> str:
    """The run's page on a tracking server, or the command that serves a local store."""
    server = tracking_server(logger)
    if server:
        return f"{server.rstrip('/')}/#/experiments/{logger.experiment_id}/runs/{logger.run_id}"
    uri = mlflow_tracking_uri(logger)
    return f"mlflow ui --backend-store-uri {uri}" if uri else "mlflow ui"


def offline_folders(run) -> list[str]:
    """The folders of an offline W&B run, oldest first: a resumed run (the same id) adds one per
    fit, and ``wandb sync`` given them all uploads them in order, as one run."""
    folder = Path(run.dir).parent  # .../wandb/offline-run-DATE_TIME-ID/files
    return [str(path) for path in sorted(folder.parent.glob(f"offline-run-*-{run.id}"))] or [str(folder)]


def send_file(loggers, path: Path) -> None:
    """A file of the run's folder (config.yaml) to each tracker that keeps files: the MLflow run's
    artifacts; the W&B run's files, under the run folder's name (``version_0/config.yaml``: W&B
    keeps a config.yaml of its own there)."""
    from lightning.pytorch.loggers import MLFlowLogger, WandbLogger

    for logger in loggers:
        if isinstance(logger, MLFlowLogger):
            logger.experiment.log_artifact(logger.run_id, str(path))
        elif isinstance(logger, WandbLogger):
            logger.experiment.save(str(path), base_path=str(path.parent.parent), policy="now")


# Where a checkpoint keeps the id of each tracker's run, by the logger's class name.
TRACKER_RUNS_KEY = "tracker_runs"


class TrackerRuns(L.Callback):
    """Keeps in every checkpoint the id of the MLflow and W&B runs the fit logs to, so that ``fit
    --ckpt_path`` goes on logging into the same runs (``continue_tracker_runs``) instead of
    starting others."""

    def on_save_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict) -> None:
        from lightning.pytorch.loggers import MLFlowLogger, WandbLogger

        if not trainer.is_global_zero:  # only rank 0 writes the checkpoint, and holds the runs
            return
        runs = {}
        for logger in trainer.loggers:
            if isinstance(logger, MLFlowLogger):
                runs["MLFlowLogger"] = logger.run_id
            elif isinstance(logger, WandbLogger):
                runs["WandbLogger"] = logger.experiment.id
        if runs:
            checkpoint[TRACKER_RUNS_KEY] = runs


def continue_tracker_runs(logger, checkpoint: dict | None):
    """``--trainer.logger`` (after ``with_run_folder_logger``) with an MLflow or W&B logger that
    names no run set to the run the checkpoint was logging to."""
    runs = (checkpoint or {}).get(TRACKER_RUNS_KEY) or {}
    for entry in logger if isinstance(logger, list) else ():
        name = str(entry.class_path).rsplit(".", 1)[-1]
        if name not in runs:
            continue
        init_args = entry.get("init_args") or Namespace()
        if name == "MLFlowLogger" and init_args.get("run_id") is None:
            init_args.run_id = runs[name]
        elif name == "WandbLogger" and init_args.get("id") is None:
            init_args.id = runs[name]
            init_args.resume = "allow"  # wandb.init's: the run goes on (offline: a folder more, the same id)
        entry.init_args = init_args
    return logger
