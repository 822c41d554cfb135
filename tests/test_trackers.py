"""Experiment trackers a user brings, next to TensorBoard, through the configs users copy
(configs/loggers/): MLflow (on SQLite), CSV and Weights & Biases (offline), each run for real and
read back: the scalars at TensorBoard's steps, the run's hyperparameters, a picture, and
config.yaml and the checkpoints in the run's folder."""

import csv
import re

import pytest

from helpers.paths import ROOT
from helpers.reading import only, read_scalars
from helpers.running import TINY_ARGS, run_cli, run_main
from helpers.wandb_records import offline_run

# 20 steps, validated and logged (train/loss, the learning rate) at 10 and 20, pictures at each validation
RUN = [
    *("fit", *TINY_ARGS, "--model.hidden_size", "8", "--trainer.max_epochs", "1"),
    *("--trainer.limit_train_batches", "20", "--trainer.val_check_interval", "10", "--trainer.log_every_n_steps", "10"),
    *("--trainer.enable_progress_bar", "false", "--pictures.every_n_validations", "1"),
]
# what defines the run beyond the model's arguments, as each tracker must hold it
RUN_SETTINGS = {"hidden_size": "8", "data.batch_size": "5", "data.val_size": "100", "trainer.max_epochs": "1"}
RUN_SETTINGS |= {"trainer.gradient_clip_val": "1.0", "seed": "42", "lr": "0.005"}


def same_points(logged: list[tuple[int, float]], expected: list[tuple[int, float]]) -> bool:
    """The same steps, and values equal up to TensorBoard's float32."""
    return [step for step, _ in logged] == [step for step, _ in expected] and all(
        value == pytest.approx(wanted, rel=1e-6, abs=1e-7) for (_, value), (_, wanted) in zip(logged, expected)
    )


def tensorboard_scalars(root) -> dict[str, list[tuple[int, float]]]:
    return read_scalars(only((root / "lightning_logs").iterdir()))


def the_run_folder_holds_the_run(root, result) -> None:
    """config.yaml and the checkpoints in lightning_logs/version_0, whatever the loggers."""
    run = root / "lightning_logs" / "version_0"
    assert (run / "config.yaml").is_file() and (run / "checkpoints" / "last.ckpt").is_file()
    assert f"logs:                  {run}" in result.out
    assert f"watch with:            tensorboard --logdir {root / 'lightning_logs'}" in result.out


def test_mlflow_on_sqlite_gets_every_scalar_the_settings_and_the_pictures(tiny_data, tmp_path):
    pytest.importorskip("mlflow", reason="the mlflow extra: pip install -e '.[mlflow]'")
    from mlflow.tracking import MlflowClient

    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    flags = ["--config", str(ROOT / "configs" / "loggers" / "mlflow.yaml"), "--trainer.logger.tracking_uri", store]
    flags += ["--trainer.logger.artifact_location", str(tmp_path / "artifacts")]
    result = run_main(*RUN, *flags, root=tmp_path / "runs", data_dir=tiny_data)
    the_run_folder_holds_the_run(tmp_path / "runs", result)
    [line] = [line for line in result.out.splitlines() if line.startswith("MLflow run ")]
    run_id = re.fullmatch(rf"MLflow run (\w+): mlflow ui --backend-store-uri {re.escape(store)}", line)[1]

    client = MlflowClient(store)
    run = client.get_run(run_id)
    for tag, points in tensorboard_scalars(tmp_path / "runs").items():
        history = [(m.step, m.value) for m in client.get_metric_history(run_id, tag)]
        assert same_points(history, points), (tag, history, points)
    assert {"train/loss", "val/acc", "val/acc_best", "test/acc", "test/acc_last", "lr-Adam"} <= run.data.metrics.keys()
    assert RUN_SETTINGS.items() <= run.data.params.items()
    pictures = {artifact.path for artifact in client.list_artifacts(run_id, "val/confusion_matrix")}
    assert pictures == {"val/confusion_matrix/step_000010.png", "val/confusion_matrix/step_000020.png"}
    assert (tmp_path / "artifacts").is_dir()


def test_csv_writes_metrics_csv_into_the_run_folder(tiny_data, tmp_path):
    root = tmp_path / "runs"
    flags = ["--config", str(ROOT / "configs" / "loggers" / "csv.yaml")]
    result = run_main(*RUN, *flags, root=root, data_dir=tiny_data)
    the_run_folder_holds_the_run(root, result)
    metrics = root / "lightning_logs" / "version_0" / "metrics.csv"
    assert f"metrics as CSV:        {metrics}" in result.out
    with open(metrics) as file:
        rows = list(csv.DictReader(file))
    for tag, points in tensorboard_scalars(root).items():
        logged = [(int(row["step"]), float(row[tag])) for row in rows if row.get(tag)]
        assert same_points(logged, points), (tag, logged, points)
    hparams = (root / "lightning_logs" / "version_0" / "hparams.yaml").read_text()
    assert all(re.search(rf"^{re.escape(name)}: ", hparams, flags=re.M) for name in RUN_SETTINGS), hparams
    assert not (ROOT / "lightning_logs").exists()  # none of its own where the config's save_dir (.) points


def test_weights_and_biases_offline_gets_every_scalar_the_settings_and_the_pictures(tiny_data, tmp_path):
    pytest.importorskip("wandb", reason="the wandb extra: pip install -e '.[wandb]'")
    root = tmp_path / "runs"
    flags = ["--config", str(ROOT / "configs" / "loggers" / "wandb.yaml"), "--trainer.logger.save_dir", str(tmp_path)]
    flags += ["--trainer.logger.offline", "true"]
    # a process of its own, as a user runs it: W&B's service has written the whole run when it ends (in
    # this process, wandb.finish() returned before the history was on disk, one run in three under load)
    result = run_cli(*RUN, *flags, root=root, data_dir=tiny_data)
    the_run_folder_holds_the_run(root, result)
    [line] = [line for line in result.out.splitlines() if line.startswith("W&B run ")]
    assert re.fullmatch(r"W&B run \w+: wandb sync \S+/wandb/offline-run-\S+", line)

    history, config = offline_run(tmp_path / "wandb")
    for tag, points in tensorboard_scalars(root).items():
        logged = [(int(row["trainer/global_step"]), float(row[tag])) for row in history if tag in row]
        assert same_points(logged, points), (tag, logged, points, len(history))
    assert set(RUN_SETTINGS) <= config
    pictures = sorted(p.name.split("_")[0] for p in (tmp_path / "wandb").rglob("media/images/val/confusion*.png"))
    assert len(pictures) == 2  # one at each validation


def test_a_resumed_fit_goes_on_logging_into_the_same_mlflow_run(tiny_data, tmp_path):
    """One epoch (validations at 10 and 20), then ``fit --ckpt_path last.ckpt`` for a second: one
    MLflow run holds the validations of both, at 10, 20, 30 and 40."""
    pytest.importorskip("mlflow", reason="the mlflow extra: pip install -e '.[mlflow]'")
    from mlflow.tracking import MlflowClient

    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    flags = ["--config", str(ROOT / "configs" / "loggers" / "mlflow.yaml"), "--trainer.logger.tracking_uri", store]
    flags += ["--trainer.logger.artifact_location", str(tmp_path / "artifacts"), "--model.schedule", "constant"]
    flags += ["--pictures.every_n_validations", "0"]
    run_main(*RUN, *flags, root=tmp_path / "first", data_dir=tiny_data)
    last = tmp_path / "first" / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
    more = ["--trainer.max_epochs", "2", "--ckpt_path", str(last)]
    result = run_main(*RUN, *flags, *more, root=tmp_path / "resumed", data_dir=tiny_data)

    client = MlflowClient(store)
    [run] = client.search_runs([experiment.experiment_id for experiment in client.search_experiments()])
    assert f"MLflow run {run.info.run_id}: " in result.out
    assert f"MLflow run {run.info.run_id} keeps trainer.max_epochs = 1 (this fit: 2)" in result.out
    assert [m.step for m in client.get_metric_history(run.info.run_id, "val/acc")] == [10, 20, 30, 40]
