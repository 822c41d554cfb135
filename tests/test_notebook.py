"""The notebook runs top to bottom on a fresh checkout with only the data present."""

import nbformat
from nbclient import NotebookClient

from helpers.paths import ROOT, real_mnist

NOTEBOOK = ROOT / "notebooks" / "lstm_notes.ipynb"

pytestmark = real_mnist  # the notebook trains on the real MNIST


def test_notebook_executes(tmp_path, monkeypatch):
    monkeypatch.delenv("LSTM_MNIST_CHECKPOINT", raising=False)
    # a user's Jupyter draws its figures inline; an in-process sweep earlier in this test process set
    # MPLBACKEND=Agg (apps/sweep.py), which would make the kernel draw none
    monkeypatch.delenv("MPLBACKEND", raising=False)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()

    text = "\n".join(
        output.get("text", "") for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    )
    assert "h_n[-1] equals output[:, -1]: True" in text
    assert "backward: h_n[-1] equals output[:, 0, 64:]:  True" in text
    # a bidirectional network's output[:, t] is no answer after t rows; its prefixes read anew are
    assert "classifier on output[:, -1] equals the answer: False" in text
    assert "the first 28 rows read anew equal the answer:  True" in text
    assert "layers=3 batch_first=False bidirectional=True  output [28, 5, 128]  h_n [6, 5, 64]" in text
    assert "columns   sequence [1, 28, 28]  input_size 28  output [1, 28, 64]  h_n [1, 1, 64]" in text
    assert "permuted  sequence [1, 784, 1]  input_size 1   output [1, 784, 64]  h_n [1, 1, 64]" in text
    # the permutation removes the locality that reading pixels in order keeps
    pixels = float(text.split("correlation of consecutive steps, pixels: ")[1].split()[0])
    permuted = float(text.split("correlation of consecutive steps, permuted: ")[1].split()[0])
    assert pixels > 0.7 and abs(permuted) < 0.3
    accuracy = float(text.split("accuracy on the 10k test set: ")[1].split()[0])
    assert accuracy > 0.9
    bundled = float(text.split("bundled model, accuracy on the 10k test set: ")[1].split()[0])
    assert bundled >= 0.993 and "trained on MNIST and digits set in fonts" in text
    # from h_n to output: the number reader's scores at every step, and its best path
    assert "lines [1000, 28, " in text and ", 11]" in text.split("-> scores")[1].split("\n")[0]
    merged, truth = text.split("runs merged, blanks dropped: ")[1].split("\n")[0].split("  the truth: ")
    assert merged == truth
    numbers = float(text.split("whole numbers read right, 1,000 MNIST test lines: ")[1].split()[0])
    assert numbers >= 0.9
    pictures = [
        o
        for cell in notebook.cells
        if cell.cell_type == "code"
        for o in cell.outputs
        if "image/png" in o.get("data", {})
    ]
    # the reading orders, the validation curve, the test digits, how the answer forms, how a number forms
    assert len(pictures) == 5
    assert list(tmp_path.glob("notebook_runs/lightning_logs/version_0/checkpoints/*.ckpt"))
