"""The model the package ships: every command that reads a checkpoint uses it when given none, says
so first, and it scores on MNIST's test set what its card says; an install without it refuses in
one line rather than answer with an untrained network."""

import contextlib
import io

import pytest
import torch

from helpers.paths import REAL_DATA_DIR
from helpers.ports import free_port
from helpers.reading import only, read_scalars
from helpers.running import TINY_ARGS, call_main, refused, run_main
from lstm_mnist.storage.bundled_model import bundled_path, card

pytestmark = pytest.mark.slow  # a two-layer bidirectional LSTM of 128 reads every image


def test_the_shipped_file_is_weights_only_and_small():
    path = bundled_path()
    assert path.stat().st_size <= 4 * 2**20
    checkpoint = torch.load(path, weights_only=True)
    assert set(checkpoint) >= {"state_dict", "hyper_parameters", "bundled"} and "optimizer_states" not in checkpoint
    assert checkpoint["bundled"]["recipe"] == "configs/robust.yaml" and checkpoint["bundled"]["seed"] == 1
    from lstm_mnist import pretrained

    model = pretrained(map_location="cpu").eval()
    assert model.net.settings["bidirectional"] and model.net.settings["hidden_size"] == 128
    assert model.trained_on.startswith("MNIST and digits set in fonts")


def test_predict_without_a_checkpoint_uses_it_and_says_so_first(tiny_data, tmp_path):
    result = run_main("predict", *TINY_ARGS, root=tmp_path, data_dir=tiny_data)
    assert result.err.splitlines()[0].startswith("model: the bundled model (configs/robust.yaml, seed 1: ")
    rows = only(tmp_path.rglob("predictions.csv")).read_text().splitlines()
    assert len(rows) == 201


@pytest.mark.real_mnist
def test_test_without_a_checkpoint_scores_what_the_card_says(tmp_path):
    """The card's MNIST figure, reproduced from the shipped file on the full 10k test set."""
    result = run_main("test", root=tmp_path, data_dir=REAL_DATA_DIR)
    assert "the bundled model" in result.err.splitlines()[0]
    accuracy = read_scalars(only(tmp_path.glob("lightning_logs/version_*")))["test/acc"][-1][1]
    assert accuracy == pytest.approx(card()["mnist_test_acc"], abs=1e-4) and accuracy >= 0.993


def test_export_and_the_demo_take_it_too(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime", reason="the export extra: pip install -e '.[export]'")
    pytest.importorskip("gradio", reason="the demo extra: pip install -e '.[demo]'")
    from lstm_mnist.apps import demo
    from lstm_mnist.apps.export import main as export_main

    exported = call_main(export_main, ["--output", str(tmp_path / "model.onnx"), "--data_dir", str(tmp_path / "none")])
    assert exported.code == 0 and (tmp_path / "model.onnx").is_file()
    assert exported.err.splitlines()[0].startswith("model: the bundled model (configs/robust.yaml, seed 1: ")

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    said = io.StringIO()
    with contextlib.redirect_stderr(said), contextlib.redirect_stdout(io.StringIO()):
        page = demo.main(["--port", str(free_port())], block=False)
    try:
        assert said.getvalue().splitlines()[0].startswith("model: the bundled model (configs/robust.yaml, seed 1: ")
    finally:
        page.close()


def test_without_a_bundled_model_an_untrained_run_is_refused(tiny_data, tmp_path, monkeypatch):
    """An install that lacks the file (a trimmed package): one line, nothing answered."""
    import lstm_mnist.storage.bundled_model as bundled_model
    from lstm_mnist.read_command import main as read_main

    monkeypatch.setattr(bundled_model, "bundled_path", lambda name=None: tmp_path / "no-such-file.ckpt")
    for subcommand in ("validate", "test", "predict"):
        refused(
            subcommand,
            *TINY_ARGS,
            root=tmp_path / subcommand,
            data_dir=tiny_data,
            expect=f"error: {subcommand} needs a trained model: --ckpt_path PATH",
        )
    picture, missing = tmp_path / "seven.png", tmp_path / "no-such-file.ckpt"
    from PIL import Image

    Image.new("L", (28, 28), 255).save(picture)
    read = call_main(read_main, [str(picture)])
    assert read.code == 1 and read.out == ""
    assert (
        read.err == f"error: read needs a trained model: --ckpt_path PATH (a checkpoint that fit wrote, e.g. "
        f"lightning_logs/version_0/checkpoints/last.ckpt); this install has no bundled model ({missing})\n"
    )
