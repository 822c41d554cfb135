"""Experiment trackers a user brings, next to TensorBoard, through the configs users copy
(configs/loggers/): MLflow (on SQLite, and on a real tracking server), CSV and Weights & Biases
(offline), all at once, each run for real and read back: the scalars at TensorBoard's steps, the
run's hyperparameters, a picture, config.yaml (in the run's folder with the checkpoints, and in the
tracker), and a resumed fit going on in the same runs."""

import csv
import re
import signal
from pathlib import Path

import pytest
import torch
import yaml

from helpers.mlflow_server import mlflow_server
from helpers.paths import ROOT
from helpers.ports import free_port
from helpers.reading import only, read_scalars
from helpers.running import TINY_ARGS, command_line, refused, run_cli, run_main
from helpers.waiting import wait_until
from helpers.wandb_records import offline_run

pytestmark = pytest.mark.slow  # real tracking servers and processes: seconds each

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


def mlflow_on(tracking_uri: str) -> list[str]:
    """The flags that add configs/loggers/mlflow.yaml's logger, logging to ``tracking_uri``."""
    config = ROOT / "configs" / "loggers" / "mlflow.yaml"
    return ["--config", str(config), "--trainer.logger.tracking_uri", tracking_uri]


def every_tracker_at_once(tmp_path: Path, names=("mlflow", "csv", "wandb")) -> Path:
    """A config listing the loggers of configs/loggers/NAME.yaml, as a user combines them, with
    MLflow's store and artifacts and W&B's folder in ``tmp_path``, W&B offline."""
    configs = [yaml.safe_load((ROOT / "configs" / "loggers" / f"{name}.yaml").read_text()) for name in names]
    loggers = [only(config["trainer"]["logger"]) for config in configs]
    for name, logger in zip(names, loggers):
        if name == "mlflow":
            logger["init_args"] |= {"tracking_uri": f"sqlite:///{tmp_path / 'mlflow.db'}"}
            logger["init_args"] |= {"artifact_location": str(tmp_path / "artifacts")}  # not ./mlruns of the checkout
        elif name == "wandb":
            logger["init_args"] |= {"save_dir": str(tmp_path), "offline": True}
    config = tmp_path / "trackers.yaml"
    config.write_text(yaml.safe_dump({"trainer": {"logger": loggers}}))
    return config


def test_mlflow_csv_and_wandb_at_once_each_hold_the_run_and_go_on_with_it_resumed(tiny_data, tmp_path):
    """The three configs' loggers in one list next to TensorBoard, each read back. Then ``fit
    --ckpt_path last.ckpt`` for a second epoch: the same MLflow run, the same W&B run (offline, a
    folder more under the same id, which the summary's ``wandb sync`` line names after the first),
    metrics.csv in the resumed run's own folder, as its TensorBoard events. Each fit in a process of
    its own, as a user runs it: W&B's service has written the whole run when the process ends (in
    this process, wandb.finish() returned before the history was on disk, one run in three under load)."""
    pytest.importorskip("mlflow", reason="the mlflow extra: pip install -e '.[mlflow]'")
    pytest.importorskip("wandb", reason="the wandb extra: pip install -e '.[wandb]'")
    from mlflow.tracking import MlflowClient

    checkout_runs = sorted((ROOT / "lightning_logs").rglob("*"))  # a user's own fit in the checkout, if any
    root = tmp_path / "runs"
    flags = ["--config", str(every_tracker_at_once(tmp_path)), "--model.schedule", "constant"]  # two epochs go on
    result = run_cli(*RUN, *flags, root=root, data_dir=tiny_data)
    the_run_folder_holds_the_run(root, result)
    run_folder = root / "lightning_logs" / "version_0"
    config_yaml = (run_folder / "config.yaml").read_text()
    scalars = tensorboard_scalars(root)

    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    [line] = [line for line in result.out.splitlines() if line.startswith("MLflow run ")]
    mlflow_run = re.fullmatch(rf"MLflow run (\w+): mlflow ui --backend-store-uri {re.escape(store)}", line)[1]
    client = MlflowClient(store)
    run = client.get_run(mlflow_run)
    assert (run.info.run_name, run.data.tags["run_folder"]) == ("version_0", str(run_folder.resolve()))
    for tag, points in scalars.items():
        history = [(m.step, m.value) for m in client.get_metric_history(mlflow_run, tag)]
        assert same_points(history, points), (tag, history, points)
    assert {"train/loss", "val/acc", "val/acc_best", "test/acc", "test/acc_last", "lr-Adam"} <= run.data.metrics.keys()
    assert RUN_SETTINGS.items() <= run.data.params.items()
    assert not [name for name in run.data.params if name.startswith("_")]  # no internals of the CLI
    pictures = {artifact.path for artifact in client.list_artifacts(mlflow_run, "val/confusion_matrix")}
    assert pictures == {"val/confusion_matrix/step_000010.png", "val/confusion_matrix/step_000020.png"}
    assert Path(client.download_artifacts(mlflow_run, "config.yaml", str(tmp_path))).read_text() == config_yaml

    metrics = run_folder / "metrics.csv"
    assert f"metrics as CSV:        {metrics}" in result.out
    with open(metrics) as file:
        rows = list(csv.DictReader(file))
    for tag, points in scalars.items():
        logged = [(int(row["step"]), float(row[tag])) for row in rows if row.get(tag)]
        assert same_points(logged, points), (tag, logged, points)
    hparams = (run_folder / "hparams.yaml").read_text()
    assert all(re.search(rf"^{re.escape(name)}: ", hparams, flags=re.M) for name in RUN_SETTINGS), hparams
    assert not re.search(r"^_", hparams, flags=re.M), hparams
    # nothing of its own where the config's save_dir (.) points, the checkout
    assert sorted((ROOT / "lightning_logs").rglob("*")) == checkout_runs

    [line] = [line for line in result.out.splitlines() if line.startswith("W&B run ")]
    wandb_run, first = re.fullmatch(r"W&B run (\w+): wandb sync (\S+/wandb/offline-run-\S+)", line).groups()
    history, config = offline_run(Path(first))
    for tag, points in scalars.items():
        logged = [(int(row["trainer/global_step"]), float(row[tag])) for row in history if tag in row]
        assert same_points(logged, points), (tag, logged, points, len(history))
    assert set(RUN_SETTINGS) <= config
    pictures = sorted(p.name.split("_")[0] for p in Path(first).rglob("media/images/val/confusion*.png"))
    assert len(pictures) == 2  # one at each validation
    assert (Path(first) / "files" / "version_0" / "config.yaml").read_text() == config_yaml

    more = ["--trainer.max_epochs", "2", "--ckpt_path", str(run_folder / "checkpoints" / "last.ckpt")]
    more += ["--pictures.every_n_validations", "0"]  # (pictures of a resumed fit: the server's test below)
    result = run_cli(*RUN, *flags, *more, root=root, data_dir=tiny_data)
    assert f"MLflow run {mlflow_run} keeps trainer.max_epochs = 1 (this fit: 2)" in result.out
    assert [m.step for m in client.get_metric_history(mlflow_run, "val/acc")] == [10, 20, 30, 40]
    with open(root / "lightning_logs" / "version_1" / "metrics.csv") as file:
        assert [int(row["step"]) for row in csv.DictReader(file) if row.get("val/acc")] == [30, 40]
    [line] = [line for line in result.out.splitlines() if line.startswith("W&B run ")]
    second = only(path for path in (tmp_path / "wandb").glob(f"offline-run-*-{wandb_run}") if str(path) != first)
    assert line == f"W&B run {wandb_run}: wandb sync {first} {second}"
    history, _ = offline_run(second)
    assert [int(row["trainer/global_step"]) for row in history if "val/acc" in row] == [30, 40]


def test_test_and_predict_keep_their_results_in_mlflow_and_csv_too(tiny_data, tmp_path):
    """``test`` and ``predict`` of a checkpoint with the MLflow and CSV configs: each a run of its own
    in MLflow (test: test/acc; predict: predictions.csv and the confusion matrix) and a run folder
    whose metrics.csv or predictions.csv it wrote."""
    pytest.importorskip("mlflow", reason="the mlflow extra: pip install -e '.[mlflow]'")
    from mlflow.tracking import MlflowClient

    run_main(*RUN, "--pictures.every_n_validations", "0", root=tmp_path / "fit", data_dir=tiny_data)
    last = tmp_path / "fit" / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
    flags = ["--config", str(every_tracker_at_once(tmp_path, ("mlflow", "csv"))), "--ckpt_path", str(last)]
    root = tmp_path / "runs"
    tested = run_main("test", *flags, root=root, data_dir=tiny_data)
    predicted = run_main("predict", *flags, root=root, data_dir=tiny_data)
    test_folder, predict_folder = (root / "lightning_logs" / f"version_{n}" for n in (0, 1))
    assert f"{predict_folder}/predictions.csv" in predicted.out

    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    test_run, predict_run = sorted(
        client.search_runs([e.experiment_id for e in client.search_experiments()]), key=lambda run: run.info.start_time
    )
    assert [run.info.run_name for run in (test_run, predict_run)] == ["version_0", "version_1"]
    [[_, test_acc]] = read_scalars(test_folder)["test/acc"]
    assert test_run.data.metrics["test/acc"] == pytest.approx(test_acc, rel=1e-6) and "test/acc" in tested.out
    with open(test_folder / "metrics.csv") as file:
        assert float(only(row["test/acc"] for row in csv.DictReader(file) if row.get("test/acc"))) == pytest.approx(
            test_acc, rel=1e-6
        )
    artifacts = {artifact.path for artifact in client.list_artifacts(predict_run.info.run_id)}
    assert {"predictions.csv", "config.yaml", "predict"} <= artifacts
    stored = client.download_artifacts(predict_run.info.run_id, "predictions.csv", str(tmp_path))
    assert Path(stored).read_text() == (predict_folder / "predictions.csv").read_text()
    assert [a.path for a in client.list_artifacts(predict_run.info.run_id, "predict/confusion_matrix")] == [
        "predict/confusion_matrix/step_000000.png"
    ]


def test_a_fit_killed_mid_run_and_resumed_logs_one_run_on_an_mlflow_server(tiny_data, tmp_path):
    """A real tracking server on 127.0.0.1, the pictures and config.yaml uploaded through it. A fit of
    two epochs (validations at 10, 20, 30, 40) is killed with SIGKILL once its first last.ckpt is
    on disk, then resumed with ``fit --ckpt_path last.ckpt``: one MLflow run holds the validations at
    the four steps, ends FINISHED and keeps the resumed fit's config.yaml; the weights equal those of
    a fit never killed that logged to TensorBoard alone."""
    pytest.importorskip("mlflow.server", reason="the dev extra's mlflow (a tracking server): pip install -e '.[dev]'")
    from mlflow.tracking import MlflowClient
    from test_crash_safety import newest_last_checkpoint, start_run, weights

    two_epochs = [*RUN, "--trainer.max_epochs", "2", "--pictures.every_n_validations", "2"]
    run_main(*two_epochs, root=tmp_path / "never_killed", data_dir=tiny_data)
    with mlflow_server(tmp_path / "server") as url:
        flags = mlflow_on(url)
        killed = start_run(command_line([*two_epochs, *flags], tmp_path / "killed"), tiny_data, tmp_path / "out.txt")
        wait_until(lambda: newest_last_checkpoint(tmp_path / "killed") or not killed.is_alive(), seconds=120)
        killed.kill()
        killed.join()
        assert killed.exitcode == -signal.SIGKILL, (tmp_path / "out.txt").read_text()[-3000:]
        client = MlflowClient(url)
        [experiment] = [e.experiment_id for e in client.search_experiments() if e.name == "lstm-mnist"]
        [run] = client.search_runs([experiment])
        assert run.info.status == "RUNNING"  # nobody ended it

        last = newest_last_checkpoint(tmp_path / "killed")
        result = run_main(*two_epochs, *flags, "--ckpt_path", str(last), root=tmp_path / "resumed", data_dir=tiny_data)
        run_id = run.info.run_id
        assert f"MLflow run {run_id}: {url}/#/experiments/{experiment}/runs/{run_id}" in result.out
        [run] = client.search_runs([experiment])
        assert run.info.run_id == run_id and run.info.status == "FINISHED"
        resumed = only((tmp_path / "resumed" / "lightning_logs").iterdir())
        history = {m.step: m.value for m in client.get_metric_history(run_id, "val/acc")}
        assert sorted(history) == [10, 20, 30, 40]
        assert same_points([(step, history[step]) for step in (30, 40)], read_scalars(resumed)["val/acc"][-2:])
        pictures = {artifact.path for artifact in client.list_artifacts(run_id, "val/confusion_matrix")}
        assert "val/confusion_matrix/step_000040.png" in pictures
        config = Path(client.download_artifacts(run_id, "config.yaml", str(tmp_path)))
        assert config.read_text() == (resumed / "config.yaml").read_text()

    final = weights(resumed / "checkpoints" / "last.ckpt")
    reference = weights(tmp_path / "never_killed" / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt")
    assert all(torch.equal(final[name], reference[name]) for name in reference)


def test_a_tracking_server_nothing_answers_at_is_one_line_before_training(tiny_data, tmp_path):
    """MLflow's client would retry for about four minutes, then stop with a traceback. (A port that is
    not a number stopped it with a ValueError's traceback.)"""
    pytest.importorskip("mlflow", reason="the mlflow extra: pip install -e '.[mlflow]'")
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    flags = mlflow_on(url)
    result = refused(*RUN, *flags, root=tmp_path, data_dir=tiny_data, expect="error: no MLflow tracking server")
    assert result.err == (
        f"error: no MLflow tracking server answers at {url} (Connection refused): start it (mlflow server "
        f"--host 127.0.0.1 --port {url.rsplit(':', 1)[1]}) or correct --trainer.logger.tracking_uri\n"
    )
    assert not (tmp_path / "lightning_logs").exists()
    bad_port = "http://127.0.0.1:abc"  # refused before any connection, as one line too
    result = refused(*RUN, *mlflow_on(bad_port), root=tmp_path, data_dir=tiny_data, expect="error: ")
    assert result.err == (
        f"error: --trainer.logger.tracking_uri {bad_port} has no valid port "
        "(Port could not be cast to integer value as 'abc'): correct it\n"
    )
    assert not (tmp_path / "lightning_logs").exists()
