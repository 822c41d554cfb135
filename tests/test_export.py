"""``python export.py``: an ONNX file that reads raw pixels for any batch and gives PyTorch's logits."""

import numpy as np
import onnx
import onnxruntime
import pytest
import torch

from helpers.reading import only
from helpers.running import QUICK, call_main, run_main
from lstm_mnist.apps import export
from lstm_mnist.training.digit_classifier import DigitClassifier


@pytest.fixture(scope="module")
def small_checkpoints(tiny_data, tmp_path_factory):
    """``cell/order -> last.ckpt`` of short runs of small models on the tiny data."""
    checkpoints = {}
    for cell, order in (("lstm", "rows"), ("gru", "columns")):
        root = tmp_path_factory.mktemp(f"{cell}-{order}")
        run_main(
            *("fit", *QUICK, "--model.cell", cell, "--model.order", order, "--model.hidden_size", "8"),
            root=root,
            data_dir=tiny_data,
        )
        checkpoints[f"{cell}/{order}"] = only(root.rglob("last.ckpt"))
    return checkpoints


def export_cli(*args: str) -> tuple[int, str, str]:
    """``python export.py ARGS`` in this process: exit status, stdout, stderr."""
    result = call_main(export.main, list(args))
    return result.code, result.out, result.err


@pytest.mark.slow  # the ONNX exporter: seconds each
@pytest.mark.parametrize("model", ["lstm/rows", "gru/columns"])
def test_the_onnx_file_reads_raw_pixels_for_any_batch(model, small_checkpoints, tiny_data, tmp_path):
    checkpoint, output = small_checkpoints[model], tmp_path / "model.onnx"
    code, out, err = export_cli("--ckpt_path", str(checkpoint), "--output", str(output), "--data_dir", str(tiny_data))
    assert code == 0, err
    cell, order = model.split("/")
    assert err == f"exporting the {cell.upper()} of 8 units reading {order}...\n"
    assert f"wrote {output}" in out and f"{cell.upper()} of 8 units reading {order}" in out
    assert "parity with PyTorch on the 200 MNIST test images: predictions identical" in out
    assert not list(tmp_path.glob("*.partial"))

    graph = onnx.load(output).graph
    # the recurrent layer is ONNX's own operator, not the cell written out for each of the 28 steps
    assert [node.op_type for node in graph.node].count(cell.upper()) == 1
    (pixels,) = graph.input
    assert pixels.name == "pixels" and [d.dim_value for d in pixels.type.tensor_type.shape.dim][1:] == [28, 28]
    assert pixels.type.tensor_type.shape.dim[0].dim_param  # a named, free batch dimension
    session = onnxruntime.InferenceSession(str(output), providers=["CPUExecutionProvider"])
    pytorch = DigitClassifier.load_from_checkpoint(checkpoint).eval()
    for batch in (1, 2, 37):
        images = torch.rand(batch, 28, 28, generator=torch.Generator().manual_seed(batch))
        (logits,) = session.run(["logits"], {"pixels": images.numpy()})
        with torch.inference_mode():
            expected = pytorch(images).numpy()
        assert logits.shape == (batch, 10)
        np.testing.assert_allclose(logits, expected, atol=1e-5)


@pytest.mark.slow  # the ONNX exporter: seconds each
def test_nothing_is_written_when_onnxruntime_disagrees(small_checkpoints, tiny_data, tmp_path, monkeypatch):
    monkeypatch.setattr(export, "TOLERANCE", -1.0)  # any difference at all is too much
    code, out, err = export_cli(
        *("--ckpt_path", str(small_checkpoints["lstm/rows"])),
        *("--output", str(tmp_path / "model.onnx"), "--data_dir", str(tiny_data)),
    )
    assert code == 1 and out == ""
    exporting, error = err.splitlines()
    assert exporting == "exporting the LSTM of 8 units reading rows..."
    assert error.startswith("error: the ONNX graph does not match PyTorch on the 200 MNIST test images")
    assert error.endswith("nothing was written")
    assert list(tmp_path.iterdir()) == []


def test_a_bad_checkpoint_is_one_line(tmp_path):
    (tmp_path / "notes.ckpt").write_text("not a checkpoint")
    for path, expect in (
        (tmp_path / "missing.ckpt", "does not exist"),
        (tmp_path / "notes.ckpt", "is not a PyTorch checkpoint"),
    ):
        code, out, err = export_cli("--ckpt_path", str(path), "--output", str(tmp_path / "model.onnx"))
        assert code == 1 and expect in err and err.startswith("error: ") and err.count("\n") == 1
    assert not (tmp_path / "model.onnx").exists()
