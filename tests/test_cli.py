"""The CLI as a user runs it: train on tiny data, then open what the run wrote."""

import pytest
import torch
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

import lstm_mnist
from conftest import TINY_ARGS, accuracy, only, read_scalars, refused, run_cli
from lstm_mnist.data import MNISTDataModule


@pytest.fixture(scope="module")
def fitted(tiny_data, tmp_path_factory):
    """One epoch of ``fit`` on tiny data: 500 training images in batches of 5 = 100 steps."""
    root = tmp_path_factory.mktemp("fit")
    result = run_cli(
        "fit",
        *TINY_ARGS,
        "--trainer.max_epochs",
        "1",
        "--pictures.every_n_validations",
        "1",
        "--trainer.default_root_dir",
        str(root),
        data_dir=tiny_data,
    )
    return root / "lightning_logs" / "version_0", result


def test_fit_validates_every_50_steps_and_logs_the_metric_names(fitted):
    run_dir, _ = fitted
    scalars = read_scalars(run_dir)
    assert [step for step, _ in scalars["val/acc"]] == [50, 100]
    assert [step for step, _ in scalars["val/acc_best"]] == [50, 100]
    assert {"train/loss", "train/acc", "val/loss"} <= scalars.keys()
    best = [value for _, value in scalars["val/acc_best"]]
    assert best[1] == max(value for _, value in scalars["val/acc"])


def test_fit_draws_pictures_and_fills_the_hparams_tab(fitted):
    run_dir, result = fitted
    events = EventAccumulator(str(run_dir), size_guidance={"images": 0})
    events.Reload()
    images = events.Tags()["images"]
    for stage in ("val", "test"):  # validation pictures, and the test of the best checkpoint after fit
        for name in ("confusion_matrix", "misclassified", "answer_forms"):
            assert f"{stage}/{name}" in images
    assert [image.step for image in events.Images("val/confusion_matrix")] == [50, 100]
    experiment = HParamsPluginData.FromString(events.PluginTagToContent("hparams")["_hparams_/experiment"]).experiment
    assert [metric.name.tag for metric in experiment.metric_infos] == ["val/acc_best", "test/acc"]
    assert {"hidden_size", "lr", "schedule"} <= {info.name for info in experiment.hparam_infos}
    scalars = read_scalars(run_dir)
    assert "hp_metric" not in scalars
    test_acc = scalars["test/acc"][0][1]
    assert f"its test/acc:     {test_acc:.4f}" in result.stdout


def test_fit_keeps_best_and_last_checkpoints_and_the_config(fitted):
    run_dir, result = fitted
    best = only((run_dir / "checkpoints").glob("best-*.ckpt"))
    last = run_dir / "checkpoints" / "last.ckpt"
    assert last.is_file()
    assert f"best checkpoint:  {best}" in result.stdout
    assert f"last checkpoint:  {last}" in result.stdout
    assert f"tensorboard --logdir {run_dir.parent}" in result.stdout
    # last.ckpt holds the end of training, not the best step
    checkpoint = torch.load(last, weights_only=True)
    assert checkpoint["global_step"] == 100
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    # the optimizer that trained is the one the config describes
    assert checkpoint["optimizer_states"][0]["param_groups"][0]["betas"][1] == config["model"]["beta2"] == 0.95
    # no --config given: configs/default.yaml applied, the flags on top of it
    assert config["model"]["schedule"] == "one_cycle" and config["trainer"]["gradient_clip_val"] == 1.0
    assert config["data"]["batch_size"] == 5
    assert config["trainer"]["val_check_interval"] == 50 and config["trainer"]["check_val_every_n_epoch"] is None


def test_test_in_a_new_process_reproduces_the_accuracy(fitted, tiny_data):
    run_dir, _ = fitted
    best = only((run_dir / "checkpoints").glob("best-*.ckpt"))
    root = run_dir.parent.parent
    run_cli("test", "--ckpt_path", str(best), "--trainer.default_root_dir", str(root), data_dir=tiny_data)
    test_acc = read_scalars(root / "lightning_logs" / "version_1")["test/acc"][0][1]

    # The same checkpoint scored here in plain PyTorch, with no config.
    model = lstm_mnist.LitLSTMClassifier.load_from_checkpoint(best, map_location="cpu").eval()
    data = MNISTDataModule(data_dir=str(tiny_data), val_size=100)
    data.setup()
    assert accuracy(model, *data.splits["test"]) == pytest.approx(test_acc, abs=1e-6)
    # and the best validation accuracy the checkpoint was chosen for
    best_val = max(value for _, value in read_scalars(run_dir)["val/acc"])
    assert accuracy(model, *data.splits["val"]) == pytest.approx(best_val, abs=1e-6)


def test_fit_resumes_from_last_checkpoint(tiny_data, tmp_path):
    constant = [*TINY_ARGS, "--model.schedule", "constant", "--trainer.default_root_dir", str(tmp_path)]
    run_cli("fit", *constant, "--trainer.max_epochs", "1", data_dir=tiny_data)
    last = tmp_path / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
    run_cli("fit", *constant, "--trainer.max_epochs", "2", "--ckpt_path", str(last), data_dir=tiny_data)
    resumed_dir = tmp_path / "lightning_logs" / "version_1"
    assert [step for step, _ in read_scalars(resumed_dir)["val/acc"]] == [150, 200]
    assert torch.load(resumed_dir / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 200


def test_extending_a_finished_one_cycle_run_is_refused(fitted, tiny_data, tmp_path):
    run_dir, _ = fitted
    last = run_dir / "checkpoints" / "last.ckpt"
    result = refused(
        "fit",
        *TINY_ARGS,
        "--trainer.max_epochs",
        "2",
        "--ckpt_path",
        str(last),
        "--trainer.default_root_dir",
        str(tmp_path),
        data_dir=tiny_data,
        expect="error: the checkpoint's one-cycle schedule spans 100 steps but this run plans 200",
    )
    assert result.returncode == 1


def test_load_from_checkpoint_gives_a_model_ready_for_eval(fitted):
    run_dir, _ = fitted
    model = lstm_mnist.LitLSTMClassifier.load_from_checkpoint(run_dir / "checkpoints" / "last.ckpt", map_location="cpu")
    model.eval()
    assert model.hparams.hidden_size == 64
    with torch.inference_mode():
        probabilities = model(torch.rand(2, 1, 28, 28)).softmax(dim=1)
    torch.testing.assert_close(probabilities.sum(dim=1), torch.ones(2))


def test_seed_config_is_the_reference_recipe(tmp_path, tiny_data):
    result = run_cli("fit", "--config", "configs/seed.yaml", "--print_config")
    config = yaml.safe_load(result.stdout)
    assert config["model"]["lr"] == 0.001 and config["model"]["schedule"] == "constant"
    assert config["model"]["beta2"] == 0.999  # PyTorch's Adam as the tutorial used it
    assert config["model"]["hidden_size"] == 64 and config["model"]["normalize_input"] is False
    assert config["trainer"]["gradient_clip_val"] is None and config["trainer"]["max_epochs"] == 3
    assert config["data"]["batch_size"] == 50 and config["data"]["val_size"] == 1000


def test_switching_the_progress_bar_off_wins_over_a_config_that_lists_one(tiny_data, tmp_path):
    """configs/gpu.yaml lists a bar; ``--trainer.enable_progress_bar false`` must still turn it off."""
    config = tmp_path / "bar.yaml"
    config.write_text(
        "trainer:\n  callbacks:\n    - class_path: lightning.pytorch.callbacks.TQDMProgressBar\n"
        "      init_args:\n        refresh_rate: 5\n"
    )
    args = ["fit", *TINY_ARGS, "--config", str(config), "--trainer.max_steps", "10"]
    with_bar = run_cli(*args, "--trainer.default_root_dir", str(tmp_path / "bar"), data_dir=tiny_data)
    without = run_cli(
        *args,
        "--trainer.enable_progress_bar",
        "false",
        "--trainer.default_root_dir",
        str(tmp_path / "quiet"),
        data_dir=tiny_data,
    )
    assert "Epoch 0:" in with_bar.stdout + with_bar.stderr
    assert "Epoch 0:" not in without.stdout + without.stderr
    assert (tmp_path / "quiet" / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt").is_file()
