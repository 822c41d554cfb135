"""Bad input gets one line that names the problem, a non-zero exit, no traceback, nothing half-written."""

import os

import lightning as L
import pytest
import torch

from helpers.running import QUICK, TINY_ARGS, refused, run_cli, run_main
from helpers.tiny_mnist import make_tiny_mnist, write_idx
from lstm_mnist.errors import UserInputError


@pytest.fixture(scope="module")
def checkpoint(tiny_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("trained")
    run_main("fit", *QUICK, root=root, data_dir=tiny_data)
    return root / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"


@pytest.mark.slow  # a real process
def test_data_folder_with_only_some_files_in_a_real_process(tmp_path):
    """The whole process, once: exit status 1, one ``error:`` line, no traceback, nothing written."""
    data_dir = make_tiny_mnist(tmp_path / "data")
    (data_dir / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").unlink()
    runs = tmp_path / "runs"
    result = run_cli("fit", *QUICK, "--data.download", "false", root=runs, data_dir=data_dir, check=False)
    assert result.code == 1
    assert "Traceback" not in result.err
    [error] = [line for line in result.err.splitlines() if line.startswith("error:")]
    assert "(missing: t10k-labels-idx1-ubyte)" in error
    assert not list(runs.rglob("*.ckpt"))


def test_truncated_idx_file(tmp_path):
    data_dir = make_tiny_mnist(tmp_path / "data")
    images = data_dir / "MNIST" / "raw" / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-1000])
    refused(
        "fit",
        *QUICK,
        root=tmp_path / "runs",
        data_dir=data_dir,
        expect="train-images-idx3-ubyte is not a valid MNIST IDX file",
    )


def test_labels_that_do_not_match_the_images(tmp_path):
    data_dir = make_tiny_mnist(tmp_path / "data")
    write_idx(data_dir / "MNIST" / "raw" / "train-labels-idx1-ubyte", torch.zeros(10, dtype=torch.uint8).numpy())
    refused("fit", *QUICK, root=tmp_path / "runs", data_dir=data_dir, expect="holds 600 images but")


@pytest.mark.parametrize(
    "flag, expect",
    [
        (["--model.hiden_size", "3"], "Option 'hiden_size' is not accepted"),
        (["--model.hidden_size", "many"], "Got value: many"),
    ],
    ids=["unknown-key", "wrong-type"],
)
def test_config_mistakes_get_lightning_cli_messages(tiny_data, tmp_path, flag, expect):
    refused("fit", *QUICK, *flag, root=tmp_path, data_dir=tiny_data, expect=expect, status=2)


def test_batch_size_below_one(tiny_data, tmp_path):
    refused(
        *("fit", *QUICK, "--data.batch_size", "0"),
        root=tmp_path,
        data_dir=tiny_data,
        expect="error: --data.batch_size must be at least 1, got 0",
    )


def test_adam_beta2_outside_its_range(tiny_data, tmp_path):
    refused(
        *("fit", *QUICK, "--model.beta2", "1.0"),
        root=tmp_path,
        data_dir=tiny_data,
        expect="error: --model.beta2 must be at least 0 and below 1, got 1.0",
    )


def test_checkpoint_that_does_not_exist(tiny_data, tmp_path):
    missing = tmp_path / "nope.ckpt"
    refused(
        "test", "--ckpt_path", str(missing), data_dir=tiny_data, expect=f"error: --ckpt_path {missing} does not exist"
    )


def test_file_that_is_not_a_checkpoint(tiny_data, tmp_path):
    bad = tmp_path / "model.ckpt"
    bad.write_bytes(os.urandom(2000))
    refused("test", "--ckpt_path", str(bad), data_dir=tiny_data, expect=f"error: {bad} is not a PyTorch checkpoint")


class CreatesAFile:
    """Unpickling this runs ``open(path, "w")``: what a malicious checkpoint would do."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


def test_checkpoint_whose_pickle_would_run_code_is_refused(tiny_data, tmp_path):
    marker = tmp_path / "code-ran"
    crafted = tmp_path / "crafted.ckpt"
    torch.save({"state_dict": {}, "hyper_parameters": {}, "payload": CreatesAFile(marker)}, crafted)
    for subcommand in ("test", "predict", "fit"):
        refused(
            *(subcommand, "--ckpt_path", str(crafted)),
            root=tmp_path / "runs",
            data_dir=tiny_data,
            expect=f"error: {crafted} was refused: it holds Python objects",
        )
    with pytest.raises(UserInputError, match="was refused: it holds Python objects"):  # the Python API refuses it too
        from lstm_mnist import DigitClassifier

        DigitClassifier.load_from_checkpoint(crafted)
    assert not marker.exists()


def test_resume_with_another_architecture_names_the_difference(checkpoint, tiny_data, tmp_path):
    refused(
        *("fit", *QUICK, "--model.hidden_size", "32", "--model.bidirectional", "true", "--ckpt_path", str(checkpoint)),
        root=tmp_path,
        data_dir=tiny_data,
        expect="was trained with another architecture than this config asks for "
        "(hidden_size: checkpoint 64, config 32; bidirectional: checkpoint False, config True)",
    )


def test_test_uses_the_checkpoints_architecture_and_says_so(checkpoint, tiny_data, tmp_path):
    result = run_main(
        *("test", "--ckpt_path", str(checkpoint), "--model.hidden_size", "32"), root=tmp_path, data_dir=tiny_data
    )
    assert "using the checkpoint's hidden_size = 64 (config: 32)" in result.err


def test_unwritable_root_dir(tiny_data, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    refused(
        "fit",
        *QUICK,
        root=blocker / "runs",
        data_dir=tiny_data,
        expect=f"error: cannot write to --trainer.default_root_dir {blocker / 'runs'}",
    )


class PoisonWeightsAtStep60(L.Callback):
    """Stands in for a learning rate that blows up: the weights become NaN after step 60."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.global_step == 60:
            with torch.no_grad():
                for parameter in pl_module.parameters():
                    parameter.fill_(float("nan"))


def test_diverging_run_stops_and_keeps_its_checkpoints(tiny_data, tmp_path):
    refused(
        *("fit", *QUICK, "--trainer.limit_train_batches", "100", "--trainer.val_check_interval", "50"),
        f"--trainer.callbacks+={__name__}.PoisonWeightsAtStep60",
        root=tmp_path,
        data_dir=tiny_data,
        expect="error: training diverged at step 100: the loss is nan",
        nothing_written=False,  # the checkpoints from before step 60 stay
    )
    checkpoints = tmp_path / "lightning_logs" / "version_0" / "checkpoints"
    best = next(checkpoints.glob("best-step=50-*.ckpt"))  # from before the blow-up, still there
    for path in (best, checkpoints / "last.ckpt"):
        state = torch.load(path, weights_only=True)
        assert state["global_step"] == 50
        assert all(torch.isfinite(t).all() for t in state["state_dict"].values() if t.is_floating_point())


WRITTEN = {"validate": "events.out.*", "test": "events.out.*", "predict": "predictions.csv"}


@pytest.mark.parametrize("subcommand", ["validate", "test", "predict"])
def test_an_untrained_network_answers_only_when_asked_for(subcommand, tiny_data, tmp_path):
    """An untrained network answers by chance (test/acc 0.09): ``--untrained true`` asks for one on
    purpose; without it and without ``--ckpt_path`` the bundled model answers (the next test;
    tests/test_bundled_model.py: an install without the file refuses in one line)."""
    asked = run_main(subcommand, *TINY_ARGS, "--untrained", "true", root=tmp_path, data_dir=tiny_data)
    assert "bundled" not in asked.err and list(tmp_path.rglob(WRITTEN[subcommand]))


@pytest.mark.slow  # the bundled model: two bidirectional layers of 128
@pytest.mark.parametrize("subcommand", ["validate", "test", "predict"])
def test_no_checkpoint_means_the_bundled_model(subcommand, tiny_data, tmp_path):
    bundled = run_main(subcommand, *TINY_ARGS, root=tmp_path, data_dir=tiny_data)
    assert bundled.err.splitlines()[0].startswith("model: the bundled model (configs/robust.yaml, seed 1: ")
    assert list(tmp_path.rglob(WRITTEN[subcommand]))
