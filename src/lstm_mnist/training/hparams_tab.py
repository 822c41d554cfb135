"""A run's hyperparameters, given to every logger: TensorBoard's HPARAMS tab shows them beside the
run's ``val/acc_best`` and test accuracies; MLflow, W&B and CSV record them as the run's parameters.

What defines a run is more than the LightningModule's arguments (all Lightning logs by itself): the
batch size and the split, the epochs and the gradient clipping, the seed. Two sweep trials that
differ only there must not look the same.
"""

import lightning as L
from torch.utils.tensorboard.summary import hparams

from lstm_mnist.adapters.tensorboard import file_writer
from lstm_mnist.training.metric_names import TEST_ACC, TEST_ACC_LAST, VAL_ACC_BEST
from lstm_mnist.training.tensorboard_writer import tensorboard_writer

# Scalars that the HPARAMS tab shows beside each run's hyperparameters.
HPARAM_METRICS = (VAL_ACC_BEST, TEST_ACC, TEST_ACC_LAST)
# The data's settings that change no number of the run (where files are) are left out.
DATA_PLACES = {"data_dir", "download", "predict_path", "labels", "num_workers", "data_on_device"}
# The Trainer's settings that decide what a run computes.
TRAINER_SETTINGS = (
    "max_epochs",
    "max_steps",
    "gradient_clip_val",
    "gradient_clip_algorithm",
    "accumulate_grad_batches",
    "precision",
    "val_check_interval",
    "limit_train_batches",
    "deterministic",
)


def run_hyperparameters(config) -> dict[str, int | float | str | bool]:
    """The run's hyperparameters from its parsed config (what config.yaml records): the model's
    and the network's under their own names (as earlier runs' tabs list them), the data's and the
    Trainer's as ``data.NAME`` and ``trainer.NAME``, nested settings as ``data.augmentation.NAME``,
    and ``seed``."""
    as_dict = config.as_dict() if hasattr(config, "as_dict") else dict(config)
    entries = tab_entries(settings_of(as_dict.get("model")))
    entries.update(flattened("data", settings_of(as_dict.get("data")), skip=DATA_PLACES))
    trainer = as_dict.get("trainer") or {}
    entries.update({f"trainer.{name}": trainer[name] for name in TRAINER_SETTINGS if trainer.get(name) is not None})
    if as_dict.get("seed_everything") is not None:
        entries["seed"] = as_dict["seed_everything"]
    return {key: value for key, value in entries.items() if isinstance(value, (int, float, str, bool))}


def settings_of(part) -> dict:
    """The settings of the task or the data as a config holds them (``init_args`` beside its
    ``class_path``, or directly)."""
    part = part or {}
    return part.get("init_args", {}) if "class_path" in part else part


def flattened(prefix: str, settings: dict, skip=frozenset()) -> dict:
    entries = {}
    for name, value in settings.items():
        if name in skip or value is None:
            continue
        if isinstance(value, dict):
            inner = value.get("init_args", value) if "class_path" in value else value
            entries.update(flattened(f"{prefix}.{name}", inner))
        else:
            entries[f"{prefix}.{name}"] = value
    return entries


def tab_entries(module_hparams) -> dict[str, int | float | str | bool]:
    """The hyperparameters as the tab lists them: the recipe's, the network's class name and each of
    the network's settings under its own name (the tab takes single values only)."""
    entries = {}
    for key, value in module_hparams.items():
        if key == "net" and isinstance(value, dict):
            entries["net"] = str(value.get("class_path", "")).rpartition(".")[2]
            entries.update(value.get("init_args", {}))
        elif not key.startswith("_"):
            entries[key] = value
    return {key: value for key, value in entries.items() if isinstance(value, (int, float, str, bool))}


class HparamsEntry(L.Callback):
    """Gives every logger the run's hyperparameters once per process (a fit also tests at its end):
    TensorBoard's HPARAMS entry, with the metric tags the tab shows for them (TensorBoard reads each
    metric's value from the run's scalar of the same tag, so nothing is logged twice), and the other
    loggers' ``log_hyperparams``. The CLI sets ``hyperparameters`` from the run's config; without it
    (a Trainer built in Python) the module's own are given."""

    def __init__(self) -> None:
        self._declared = False
        self.hyperparameters: dict | None = None

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._declare(trainer, pl_module)

    def on_test_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self._declared:
            self._declare(trainer, pl_module)

    def _declare(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        entries = self.hyperparameters if self.hyperparameters is not None else tab_entries(pl_module.hparams)
        writer = tensorboard_writer(trainer)
        if writer is not None:
            experiment, start, end = hparams(entries, {name: 0.0 for name in HPARAM_METRICS})
            for summary in (experiment, start, end):
                file_writer(writer).add_summary(summary)
        for logger in trainer.loggers:
            logger.log_hyperparams(unchanged_in_mlflow(logger, entries))  # TensorBoard's, CSV's: hparams.yaml
        self._declared = True


def unchanged_in_mlflow(logger, entries: dict) -> dict:
    """``entries`` less those an MLflow run continued by a resumed fit already holds with another
    value (a run's parameters cannot change in MLflow: a longer resumed run keeps its first
    ``trainer.max_epochs``), said in one line each; for any other logger, ``entries``."""
    from lightning.pytorch.loggers import MLFlowLogger

    if not isinstance(logger, MLFlowLogger):
        return entries
    held = logger.experiment.get_run(logger.run_id).data.params
    changed = {name for name, value in entries.items() if name in held and held[name] != str(value)}
    for name in sorted(changed):
        print(f"MLflow run {logger.run_id} keeps {name} = {held[name]} (this fit: {entries[name]})")
    return {name: value for name, value in entries.items() if name not in changed}
