"""The CLI as a user runs it: train on tiny data, then open what the run wrote."""

import pytest
import torch
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

import lstm_mnist
from helpers.reading import accuracy, only, read_scalars
from helpers.running import QUICK, TINY_ARGS, refused, run_main
from lstm_mnist.data.mnist import MNISTDataModule


@pytest.fixture(scope="module")
def fitted(tiny_data, tmp_path_factory):
    """One epoch of ``fit`` on tiny data: 500 training images in batches of 5 = 100 steps."""
    root = tmp_path_factory.mktemp("fit")
    result = run_main(
        "fit",
        *TINY_ARGS,
        "--trainer.max_epochs",
        "1",
        "--pictures.every_n_validations",
        "1",
        root=root,
        data_dir=tiny_data,
    )
    return root / "lightning_logs" / "version_0", result


@pytest.fixture(scope="module")
def tiny_splits(tiny_data):
    data = MNISTDataModule(data_dir=str(tiny_data), val_size=100)
    data.setup()
    return data.splits


def load(checkpoint):
    return lstm_mnist.DigitClassifier.load_from_checkpoint(checkpoint, map_location="cpu").eval()


def test_fit_validates_every_50_steps_and_logs_the_metric_names(fitted):
    run_dir, _ = fitted
    scalars = read_scalars(run_dir)
    assert [step for step, _ in scalars["val/acc"]] == [50, 100]
    assert [step for step, _ in scalars["val/acc_best"]] == [50, 100]
    assert {"train/loss", "train/acc", "val/loss", "lr-Adam"} <= scalars.keys()
    best = [value for _, value in scalars["val/acc_best"]]
    assert best[1] == max(value for _, value in scalars["val/acc"])


def test_fit_draws_pictures_and_fills_the_hparams_tab(fitted):
    run_dir, _ = fitted
    events = EventAccumulator(str(run_dir), size_guidance={"images": 0})
    events.Reload()
    images = events.Tags()["images"]
    for stage in ("val", "test"):  # validation pictures, and the test of the best checkpoint after fit
        for name in ("confusion_matrix", "misclassified", "answer_forms"):
            assert f"{stage}/{name}" in images
    assert [image.step for image in events.Images("val/confusion_matrix")] == [50, 100]
    assert [image.step for image in events.Images("test/confusion_matrix")] == [100]  # the best's, drawn once
    experiment = HParamsPluginData.FromString(events.PluginTagToContent("hparams")["_hparams_/experiment"]).experiment
    assert [metric.name.tag for metric in experiment.metric_infos] == ["val/acc_best", "test/acc", "test/acc_last"]
    # the model's, and what else defines the run: the data's, the Trainer's, the seed
    tab = {"hidden_size", "lr", "schedule", "data.batch_size", "data.val_size", "trainer.max_epochs"}
    assert tab | {"trainer.gradient_clip_val", "seed"} <= {info.name for info in experiment.hparam_infos}
    assert "hp_metric" not in read_scalars(run_dir)


def test_fit_ends_by_scoring_the_best_and_the_last_checkpoint(fitted, tiny_splits):
    run_dir, result = fitted
    best = only((run_dir / "checkpoints").glob("best-*.ckpt"))
    last = run_dir / "checkpoints" / "last.ckpt"
    scalars = read_scalars(run_dir)
    # one value each in the logs, at the last step
    [(step_best, test_best)] = scalars["test/acc"]
    [(step_last, test_last)] = scalars["test/acc_last"]
    assert step_best == step_last == 100
    # each is its checkpoint's accuracy on the test set, computed here in plain PyTorch
    assert accuracy(load(best), *tiny_splits["test"]) == pytest.approx(test_best, abs=1e-6)
    assert accuracy(load(last), *tiny_splits["test"]) == pytest.approx(test_last, abs=1e-6)
    best_val = max(value for _, value in scalars["val/acc"])
    assert f"best val/acc:          {best_val:.4f}" in result.out
    assert f"test/acc of the best:  {test_best:.4f}" in result.out
    assert f"test/acc of the last:  {test_last:.4f}" in result.out
    assert f"best checkpoint:       {best}" in result.out
    assert f"last checkpoint:       {last}" in result.out
    assert "trained on:            cpu" in result.out
    assert f"tensorboard --logdir {run_dir.parent}" in result.out


def test_when_the_best_is_not_the_end_both_are_tested(tiny_data, tiny_splits, tmp_path):
    """Here the "best" checkpoint is the one with the highest validation loss, the first (step 50)."""
    config = tmp_path / "worst.yaml"
    config.write_text(
        "trainer:\n  callbacks:\n"
        "    - class_path: lstm_mnist.training.kept_checkpoints.BestCheckpoint\n"
        "      init_args: {monitor: val/loss, mode: max}\n"
        "    - class_path: lstm_mnist.training.kept_checkpoints.LatestCheckpoint\n"
    )
    run_main("fit", *TINY_ARGS, "--trainer.max_epochs", "1", "--config", str(config), root=tmp_path, data_dir=tiny_data)
    run_dir = tmp_path / "lightning_logs" / "version_0"
    best = only((run_dir / "checkpoints").glob("best-step=50-*.ckpt"))
    scalars = read_scalars(run_dir)
    assert accuracy(load(best), *tiny_splits["test"]) == pytest.approx(scalars["test/acc"][0][1], abs=1e-6)
    last = run_dir / "checkpoints" / "last.ckpt"
    assert accuracy(load(last), *tiny_splits["test"]) == pytest.approx(scalars["test/acc_last"][0][1], abs=1e-6)
    assert scalars["test/acc"][0][1] != scalars["test/acc_last"][0][1]
    # TINY_ARGS switch the pictures off (--pictures.every_n_validations 0): none, not even at test
    assert EventAccumulator(str(run_dir)).Reload().Tags()["images"] == []


def test_fit_keeps_best_and_last_checkpoints_and_the_config(fitted):
    run_dir, _ = fitted
    last = run_dir / "checkpoints" / "last.ckpt"
    # last.ckpt holds the end of training, not the best step
    checkpoint = torch.load(last, weights_only=True)
    assert checkpoint["global_step"] == 100
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    # the optimizer that trained is the one the config describes
    assert (
        checkpoint["optimizer_states"][0]["param_groups"][0]["betas"][1]
        == config["model"]["init_args"]["beta2"]
        == 0.95
    )
    # no --config given: the packaged default.yaml applied, the flags on top of it
    assert config["model"]["init_args"]["schedule"] == "one_cycle" and config["trainer"]["gradient_clip_val"] == 1.0
    assert config["data"]["init_args"]["batch_size"] == 5
    assert config["trainer"]["val_check_interval"] == 50 and config["trainer"]["check_val_every_n_epoch"] is None
    # and the callbacks that ran are in it, so that the run's config.yaml reruns it exactly
    assert [callback["class_path"].rsplit(".", 1)[1] for callback in config["trainer"]["callbacks"]] == [
        "BestCheckpoint",
        "LatestCheckpoint",
        "LearningRateMonitor",
        "PredictionWriter",
        "InterruptCheckpoint",
        "TQDMProgressBar",
    ]


def test_test_of_a_checkpoint_reproduces_the_accuracy(fitted, tiny_data, tiny_splits):
    """(A fresh process reading a checkpoint: tests/test_orders_and_cells.py, with a permutation.)"""
    run_dir, _ = fitted
    best = only((run_dir / "checkpoints").glob("best-*.ckpt"))
    root = run_dir.parent.parent
    run_main("test", "--ckpt_path", str(best), root=root, data_dir=tiny_data)
    test_acc = read_scalars(root / "lightning_logs" / "version_1")["test/acc"][0][1]

    # The same checkpoint scored here in plain PyTorch, with no config.
    model = load(best)
    assert accuracy(model, *tiny_splits["test"]) == pytest.approx(test_acc, abs=1e-6)
    # and the best validation accuracy the checkpoint was chosen for
    best_val = max(value for _, value in read_scalars(run_dir)["val/acc"])
    assert accuracy(model, *tiny_splits["val"]) == pytest.approx(best_val, abs=1e-6)


def test_fit_resumes_from_last_checkpoint(tiny_data, tmp_path):
    constant = [*TINY_ARGS, "--model.schedule", "constant"]
    run_main("fit", *constant, "--trainer.max_epochs", "1", root=tmp_path, data_dir=tiny_data)
    last = tmp_path / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
    run_main("fit", *constant, "--trainer.max_epochs", "2", "--ckpt_path", str(last), root=tmp_path, data_dir=tiny_data)
    resumed_dir = tmp_path / "lightning_logs" / "version_1"
    assert [step for step, _ in read_scalars(resumed_dir)["val/acc"]] == [150, 200]
    assert torch.load(resumed_dir / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 200


def test_extending_a_finished_one_cycle_run_is_refused(fitted, tiny_data, tmp_path):
    run_dir, _ = fitted
    last = run_dir / "checkpoints" / "last.ckpt"
    refused(
        *("fit", *TINY_ARGS, "--trainer.max_epochs", "2", "--ckpt_path", str(last)),
        root=tmp_path,
        data_dir=tiny_data,
        expect="error: the checkpoint's one-cycle schedule spans 100 steps but this run plans 200",
    )


def test_load_from_checkpoint_gives_a_model_ready_for_eval(fitted):
    run_dir, _ = fitted
    model = load(run_dir / "checkpoints" / "last.ckpt")
    assert model.hparams.net["init_args"]["hidden_size"] == 64
    with torch.inference_mode():
        probabilities = model(torch.rand(2, 1, 28, 28)).softmax(dim=1)
    torch.testing.assert_close(probabilities.sum(dim=1), torch.ones(2))


def test_switching_the_progress_bar_off_wins_over_the_bar_the_config_lists(tiny_data, tmp_path):
    """The default config lists a bar; ``--trainer.enable_progress_bar false`` must still turn it off."""
    args = ["fit", *TINY_ARGS, "--trainer.max_steps", "10"]
    with_bar = run_main(*args, root=tmp_path / "bar", data_dir=tiny_data)
    without = run_main(*args, "--trainer.enable_progress_bar", "false", root=tmp_path / "quiet", data_dir=tiny_data)
    assert "Epoch 0:" in with_bar.out + with_bar.err
    assert "Epoch 0:" not in without.out + without.err
    assert (tmp_path / "quiet" / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt").is_file()


def test_a_config_can_change_and_drop_the_default_callbacks(tiny_data, tmp_path):
    """A config that lists ``callbacks:`` replaces the default list: here the best checkpoint watches
    the validation loss instead, and no learning-rate monitor runs."""
    config = tmp_path / "callbacks.yaml"
    config.write_text(
        "trainer:\n"
        "  callbacks:\n"
        "    - class_path: lstm_mnist.training.kept_checkpoints.BestCheckpoint\n"
        "      init_args: {monitor: val/loss, mode: min}\n"
        "    - class_path: lstm_mnist.training.kept_checkpoints.LatestCheckpoint\n"
    )
    run_main("fit", *QUICK, "--config", str(config), root=tmp_path, data_dir=tiny_data)
    run_dir = tmp_path / "lightning_logs" / "version_0"
    assert only((run_dir / "checkpoints").glob("best-*")).name.startswith("best-step=10-val_loss=")
    assert "lr-Adam" not in read_scalars(run_dir)
    # and flags add one to the list and set it up
    run_main(
        *("fit", *QUICK, "--config", str(config)),
        "--trainer.callbacks+=lightning.pytorch.callbacks.LearningRateMonitor",
        "--trainer.callbacks.logging_interval=epoch",
        root=tmp_path,
        data_dir=tiny_data,
    )
    assert "lr-Adam" in read_scalars(tmp_path / "lightning_logs" / "version_1")


def test_a_config_yaml_from_before_the_callbacks_moved_into_the_config_still_checkpoints(tiny_data, tmp_path):
    """Runs saved before held ``callbacks: null`` in their config.yaml: resuming one with it (the
    command an interrupted run prints) runs the default callbacks, not none."""
    config = tmp_path / "config.yaml"
    config.write_text("trainer:\n  callbacks: null\n")
    run_main("fit", *QUICK, "--config", str(config), root=tmp_path, data_dir=tiny_data)
    checkpoints = tmp_path / "lightning_logs" / "version_0" / "checkpoints"
    assert (checkpoints / "last.ckpt").is_file() and only(checkpoints.glob("best-step=10-*.ckpt"))


def test_runs_in_one_process_do_not_share_their_settings(tiny_data, tmp_path):
    """The parser is built once per process and copied for each run (cli.py): what one run's flags
    add or change, and the model it builds, reach no later run, as with a parser of its own."""
    flags = ["--trainer.callbacks+=lightning.pytorch.callbacks.EarlyStopping", "--trainer.callbacks.monitor", "val/acc"]
    first = yaml.safe_load(run_main("fit", *flags, "--model.hidden_size", "7", "--print_config").out)
    second = yaml.safe_load(run_main("fit", "--print_config").out)
    assert first["trainer"]["callbacks"][-1]["class_path"] == "lightning.pytorch.callbacks.EarlyStopping"
    assert len(second["trainer"]["callbacks"]) == len(first["trainer"]["callbacks"]) - 1
    assert [run["model"]["init_args"]["net"]["init_args"]["hidden_size"] for run in (first, second)] == [7, 64]
    for hidden in (7, 9):
        run_main("fit", *QUICK, "--model.hidden_size", str(hidden), root=tmp_path / str(hidden), data_dir=tiny_data)
        last = only((tmp_path / str(hidden)).rglob("last.ckpt"))
        assert lstm_mnist.DigitClassifier.load_from_checkpoint(last).net.rnn.hidden_size == hidden
