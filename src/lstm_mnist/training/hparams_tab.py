"""TensorBoard's HPARAMS tab: each run's hyperparameters beside its ``val/acc_best`` and test accuracies."""

import lightning as L
from torch.utils.tensorboard.summary import hparams

from lstm_mnist.training.metric_names import TEST_ACC, TEST_ACC_LAST, VAL_ACC_BEST
from lstm_mnist.training.tensorboard_writer import tensorboard_writer

# Scalars that the HPARAMS tab shows beside each run's hyperparameters.
HPARAM_METRICS = (VAL_ACC_BEST, TEST_ACC, TEST_ACC_LAST)


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
    """Registers the run's hyperparameters and the metric tags the HPARAMS tab shows for them, once
    per process (a fit also tests at its end). TensorBoard reads each metric's value from the run's
    scalar of the same tag, so nothing is logged twice."""

    def __init__(self) -> None:
        self._declared = False

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._declare(trainer, pl_module)

    def on_test_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self._declared:
            self._declare(trainer, pl_module)

    def _declare(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        writer = tensorboard_writer(trainer)
        if writer is None:
            return
        experiment, start, end = hparams(tab_entries(pl_module.hparams), {name: 0.0 for name in HPARAM_METRICS})
        file_writer = writer._get_file_writer()
        for summary in (experiment, start, end):
            file_writer.add_summary(summary)
        self._declared = True
