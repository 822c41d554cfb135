"""Each private name of another library that the project relies on (``lstm_mnist/adapters/``), checked
against the installed library: an upgrade that renames or changes one fails here, by name."""

import threading
import types

import pytest
import torch

from lstm_mnist.adapters import lightning as lightning_adapter
from lstm_mnist.adapters.optuna import trial_id
from lstm_mnist.adapters.tensorboard import events_file, file_writer
from lstm_mnist.adapters.tqdm import drawn_bars
from lstm_mnist.adapters.wandb import is_offline


@pytest.mark.slow  # MLflow makes its SQLite store: 15 s
def test_lightning_mlflow_logger_says_what_it_was_given_without_starting_a_run(tmp_path):
    pytest.importorskip("mlflow", reason="the mlflow extra: pip install -e '.[mlflow]'")
    from lightning.pytorch.loggers import MLFlowLogger

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    logger = MLFlowLogger(experiment_name="adapters", run_name="named", tracking_uri=uri)
    assert not lightning_adapter.mlflow_run_given(logger)
    assert lightning_adapter.mlflow_run_name(logger) == "named"
    assert lightning_adapter.mlflow_tracking_uri(logger) == uri
    assert logger.run_id and lightning_adapter.mlflow_run_given(logger)  # the public property starts it
    assert lightning_adapter.mlflow_run_given(MLFlowLogger(run_id="abc", tracking_uri=uri))


def test_lightning_csv_logger_keeps_its_settings(tmp_path):
    from lightning.pytorch.loggers import CSVLogger

    logger = CSVLogger(tmp_path, prefix="p", flush_logs_every_n_steps=7)
    assert lightning_adapter.csv_logger_settings(logger) == {
        "version": None,
        "prefix": "p",
        "flush_logs_every_n_steps": 7,
    }
    assert lightning_adapter.csv_logger_settings(CSVLogger(tmp_path, version=3))["version"] == 3


def test_lightning_tensorboard_logger_numbers_runs_through_the_claim(tmp_path):
    from fsspec.implementations.local import LocalFileSystem
    from lightning.pytorch.loggers import TensorBoardLogger

    claimed = []

    class Claiming(lightning_adapter.ClaimedVersion, TensorBoardLogger):
        def claim_version(self, version: int) -> int:
            claimed.append(version)
            return version + 5

    (tmp_path / "lightning_logs" / "version_0").mkdir(parents=True)
    logger = Claiming(tmp_path)
    assert logger.version == 6 and claimed == [1]  # Lightning's next number, then ours
    assert not lightning_adapter.tensorboard_logger_started(logger)
    assert logger.experiment is not None and lightning_adapter.tensorboard_logger_started(logger)
    assert isinstance(lightning_adapter.logger_filesystem(logger), LocalFileSystem)


def test_lightning_cli_asks_for_the_checkpoint_step_and_sets_the_parsers(tmp_path):
    from lightning.pytorch.cli import LightningCLI
    from lightning.pytorch.demos.boring_classes import BoringDataModule, BoringModel

    class Probe(lightning_adapter.ParsersBuiltOnce, lightning_adapter.CheckpointOverConfig, LightningCLI):
        asked = 0

        def checkpoint_over_config(self) -> None:
            Probe.asked += 1

    args = ["fit", "--trainer.fast_dev_run=true", "--trainer.logger=false", "--trainer.enable_progress_bar=false"]
    args += ["--trainer.enable_model_summary=false", "--trainer.default_root_dir", str(tmp_path)]
    first = Probe(BoringModel, BoringDataModule, args=args)
    second = Probe(BoringModel, BoringDataModule, args=args)
    assert Probe.asked == 2
    for name in lightning_adapter.ParsersBuiltOnce.PARSER_ATTRIBUTES:
        assert name in vars(first), name  # what LightningCLI.setup_parser sets, copied
    assert first.parser is not second.parser and first.config == second.config


def test_tensorboard_writer_gives_its_file_writer_and_events_file(tmp_path):
    from torch.utils.tensorboard import SummaryWriter
    from torch.utils.tensorboard.summary import scalar

    writer = SummaryWriter(tmp_path)
    file_writer(writer).add_summary(scalar("raw", 1.5), global_step=3)
    events, path, thread_class = events_file(writer)
    events.flush()
    assert [str(p) for p in tmp_path.glob("events.out.tfevents.*")] == [path]
    assert issubclass(thread_class, threading.Thread)
    writer.close()
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(tmp_path))
    accumulator.Reload()
    assert [(event.step, event.value) for event in accumulator.Scalars("raw")] == [(3, 1.5)]


@pytest.mark.slow  # Optuna makes its SQLite schema
def test_optuna_trial_id_is_the_storages(tmp_path):
    optuna = pytest.importorskip("optuna", reason="the sweep extra: pip install -e '.[sweep]'")

    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'study.db'}", heartbeat_interval=60)
    study = optuna.create_study(storage=storage)
    study.ask()
    trial = study.ask()
    assert storage.get_trial(trial_id(trial)).number == trial.number == 1
    storage.record_heartbeat(trial_id(trial))


@pytest.mark.slow  # importing wandb
def test_wandb_settings_say_offline():
    wandb = pytest.importorskip("wandb", reason="the wandb extra: pip install -e '.[wandb]'")

    assert is_offline(types.SimpleNamespace(settings=wandb.Settings(mode="offline")))
    assert not is_offline(types.SimpleNamespace(settings=wandb.Settings(mode="online")))


def test_tqdm_lists_the_bars_drawn():
    from tqdm import tqdm

    bar = tqdm(total=3, disable=False)
    assert bar in drawn_bars()
    bar.close()
    assert bar not in drawn_bars()


def test_torch_load_state_dict_pre_hook_reads_the_layer_once_named_lstm():
    from lstm_mnist.nets.recurrent import RecurrentClassifier

    network = RecurrentClassifier(hidden_size=4)
    earlier = {key.replace("rnn.", "lstm."): value for key, value in network.state_dict().items()}
    fresh = RecurrentClassifier(hidden_size=4)
    fresh.load_state_dict(earlier)
    assert all(torch.equal(fresh.state_dict()[key], value) for key, value in network.state_dict().items())
