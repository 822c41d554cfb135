"""Lightning's private names this project relies on (checked on lightning 2.6).

- Its loggers keep what they were given in private attributes, and their public properties create
  the run they describe: asking ``MLFlowLogger.run_id`` starts an MLflow run, which must not happen
  before the run's folder is known (training/trackers.py).
- ``TensorBoardLogger`` numbers a new run in ``_get_next_version``; the project claims the number by
  creating its folder (storage/run_folders.py).
- ``LightningCLI`` puts a checkpoint's hyperparameters over the model's config in
  ``_parse_ckpt_path`` (reading the file itself, with no check); the project does it from the
  checkpoint as ``read_checkpoint`` gave it, in today's form (apps/cli.py).
- ``LightningCLI.setup_parser`` leaves its parsers in private attributes; the project builds them
  once per process and copies them for every run (apps/cli.py).
"""

import copy


def mlflow_run_given(logger) -> bool:
    """Whether an ``MLFlowLogger`` already has a run (given ``run_id``, or started), without starting one."""
    return logger._run_id is not None


def mlflow_run_name(logger) -> str | None:
    """The ``run_name`` an ``MLFlowLogger`` was given."""
    return logger._run_name


def mlflow_tracking_uri(logger) -> str | None:
    """The ``tracking_uri`` an ``MLFlowLogger`` logs to."""
    return logger._tracking_uri


def csv_logger_settings(logger) -> dict:
    """What a ``CSVLogger`` was made with that a new one in another folder must keep, and its version
    (None until one is chosen)."""
    return {
        "version": logger._version,
        "prefix": logger._prefix,
        "flush_logs_every_n_steps": logger._flush_logs_every_n_steps,
    }


def tensorboard_logger_started(logger) -> bool:
    """Whether a ``TensorBoardLogger`` has made its ``SummaryWriter`` (its events file)."""
    return logger._experiment is not None


def logger_filesystem(logger):
    """The fsspec filesystem a ``TensorBoardLogger`` writes to."""
    return logger._fs


class ClaimedVersion:
    """Mixin for ``TensorBoardLogger``: the number Lightning would give a new run goes through
    ``claim_version``, which returns the number the run gets."""

    def _get_next_version(self) -> int:
        return self.claim_version(super()._get_next_version())

    def claim_version(self, version: int) -> int:
        return version


class CheckpointOverConfig:
    """Mixin for ``LightningCLI``: in place of Lightning's own step that puts the hyperparameters of
    ``--ckpt_path`` over the model's config, ``checkpoint_over_config()``."""

    def _parse_ckpt_path(self) -> None:
        self.checkpoint_over_config()

    def checkpoint_over_config(self) -> None:
        raise NotImplementedError


class ParsersBuiltOnce:
    """Mixin for ``LightningCLI``: its parsers built once per process and copied for every run.

    Building them reads the signature of every class they can instantiate: 0.09 s a run, paid by
    every run of a process that runs many (a sweep's trials, a notebook, the tests: 137 runs, 13 s).
    A deep copy takes 5 ms and keeps each run's parsers its own, as new ones would be."""

    _built_parsers: dict = {}
    # What LightningCLI.setup_parser sets.
    PARSER_ATTRIBUTES = ("parser", "_subcommand_parsers", "_subcommand_method_arguments")

    def setup_parser(self, add_subcommands: bool, main_kwargs: dict, subparser_kwargs: dict) -> None:
        key = repr((type(self), self.model_class, self.datamodule_class, self.trainer_class, self.subclass_mode_model))
        key += repr((self.subclass_mode_data, self.auto_configure_optimizers, add_subcommands, main_kwargs))
        key += repr(subparser_kwargs)
        if key not in self._built_parsers:
            super().setup_parser(add_subcommands, main_kwargs, subparser_kwargs)
            built = {name: value for name, value in vars(self).items() if name in self.PARSER_ATTRIBUTES}
            self._built_parsers[key] = built
        vars(self).update(copy.deepcopy(self._built_parsers[key]))
