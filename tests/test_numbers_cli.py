"""A number reader through the CLI as a user meets it: fit, exact resume, test, and predict on
pictures of numbers with their labels (whole numbers right, character error rate, misread digits)."""

import csv
import re

import numpy as np
import pytest
import torch
from PIL import Image

from helpers.paths import ROOT
from helpers.reading import only, read_scalars
from helpers.running import call_main, checkpoint_every, refused, run_main
from lstm_mnist.data.line_batches import make_batch
from lstm_mnist.data.line_composition import LineStyle
from lstm_mnist.data.number_lines import NumberLinesDataModule
from lstm_mnist.training.number_scores import edits

pytestmark = pytest.mark.slow  # fits, resumes and predicts a number reader: a minute in all
NUMBERS = str(ROOT / "configs" / "numbers.yaml")
# A reader small enough to train in seconds on the tiny data: 20 steps of 10 lines an epoch, without
# the config's font digits (6,000 photographs: 20 s to make), with its augmentation.
TINY_NUMBERS = [
    *("--config", NUMBERS, "--data.font_digits", "null"),
    *("--model.net.hidden_size", "8", "--model.net.num_layers", "1", "--model.net.channels", "[4, 8]"),
    *("--data.lines_per_epoch", "100", "--data.batch_size", "10", "--data.val_size", "100"),
    *("--data.val_lines", "20", "--data.eval_batch_size", "50", "--trainer.limit_test_batches", "1"),
    *("--pictures.every_n_validations", "0", "--trainer.val_check_interval", "5"),
    *("--trainer.enable_progress_bar", "false"),
]


def weights(path):
    return torch.load(path, weights_only=True)["state_dict"]


@pytest.fixture(scope="module")
def straight(tiny_data, tmp_path_factory):
    """2 epochs (20 steps) keeping a checkpoint every 5 steps."""
    root = tmp_path_factory.mktemp("numbers")
    result = run_main(
        "fit",
        *TINY_NUMBERS,
        "--trainer.max_epochs",
        "2",
        *checkpoint_every(5, root / "every5"),
        root=root,
        data_dir=tiny_data,
    )
    return root, result


def test_fit_scores_whole_numbers_and_their_characters(straight):
    root, result = straight
    scalars = read_scalars(root / "lightning_logs" / "version_0")
    assert [step for step, _ in scalars["val/acc"]] == [5, 10, 15, 20]
    assert all(0 <= value <= 1 for _, value in scalars["val/acc"])
    assert all(value >= 0 for _, value in scalars["val/cer"])
    assert "test/acc" in scalars and "test/cer" in scalars
    assert re.search(r"test/acc of the best:  0\.\d{4}", result.out)
    stored = torch.load(only(root.rglob("last.ckpt")), weights_only=True)
    assert stored["hyper_parameters"]["_class_path"] == "lstm_mnist.training.number_reader.NumberReader"
    assert stored["hyper_parameters"]["net"]["class_path"] == "lstm_mnist.nets.column_reader.ColumnReader"


@pytest.mark.parametrize("resume_from", ["step=10", "step=15"], ids=["epoch-boundary", "mid-epoch"])
def test_resume_ends_with_the_same_weights(straight, tiny_data, tmp_path, resume_from):
    root, _ = straight
    checkpoint = root / "every5" / f"{resume_from}.ckpt"
    run_main(
        *("fit", *TINY_NUMBERS, "--trainer.max_epochs", "2", "--ckpt_path", str(checkpoint)),
        root=tmp_path,
        data_dir=tiny_data,
    )
    resumed, reference = weights(only(tmp_path.rglob("last.ckpt"))), weights(only(root.rglob("last.ckpt")))
    assert resumed.keys() == reference.keys()
    assert max(float((resumed[k].float() - reference[k].float()).abs().max()) for k in resumed) <= 1e-6


@pytest.fixture()
def number_pictures(tiny_data, tmp_path):
    """Twelve lines of the tiny test digits saved as a user saves a picture (dark ink on paper,
    larger), with their numbers: a leading zero among them."""
    data = NumberLinesDataModule(data_dir=str(tiny_data))
    data.setup("test")
    images, labels = data.splits["test"]
    lines, widths, digits, lengths = make_batch(images, labels, 12, LineStyle(), torch.Generator().manual_seed(4))
    folder = tmp_path / "numbers"
    folder.mkdir()
    truth = {}
    for index, (line, width, spelled, length) in enumerate(zip(lines, widths, digits, lengths)):
        picture = (255 - line[:, :width].numpy() * 255).astype(np.uint8)
        Image.fromarray(picture).resize((int(width) * 3, 84)).save(folder / f"number{index:02}.png")
        truth[f"number{index:02}.png"] = "".join(map(str, spelled[:length].tolist()))
    truth["number00.png"] = "0" + truth["number00.png"]  # a label with a leading zero stays a string
    return folder, truth


def test_predict_reads_numbers_and_reports_against_their_labels(straight, number_pictures, tiny_data, tmp_path):
    root, _ = straight
    folder, truth = number_pictures
    (folder / "labels.csv").write_text("file,label\n" + "".join(f"{n},{label}\n" for n, label in truth.items()))
    # no --config: the checkpoint's task brings the data it reads
    result = run_main(
        "predict",
        "--ckpt_path",
        str(only(root.rglob("last.ckpt"))),
        "--data.predict_path",
        str(folder),
        root=tmp_path / "run",
        data_dir=tiny_data,
    )
    with open(only((tmp_path / "run").rglob("predictions.csv"))) as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == ["path", "number", "probability", "label", "correct", "character_errors"]
    assert [row["path"].rsplit("/", 1)[1] for row in rows] == sorted(truth)
    right = errors = 0
    for row in rows:
        label = truth[row["path"].rsplit("/", 1)[1]]
        assert row["label"] == label and set(row["number"]) <= set("0123456789")
        assert int(row["correct"]) == (row["number"] == label)
        assert int(row["character_errors"]) == edits(label, row["number"])[0]
        assert 0 <= float(row["probability"]) <= 1
        right += int(row["correct"])
        errors += int(row["character_errors"])
    digits = sum(len(label) for label in truth.values())
    assert f"whole numbers read right: {right / 12:.4f} ({right} of 12)" in result.out
    said = "edit" if errors == 1 else "edits"
    assert f"character error rate:     {errors / digits:.4f} ({errors} {said} in {digits} digits)" in result.out
    assert "most misread: " in result.out
    assert "predictions of 12 lines written to" in result.out
    assert result.err.splitlines()[0].startswith("model: convolutions, then a bidirectional LSTM of 8 units")


@pytest.mark.parametrize("label", ["12a", "", "-3", "1.5", "٣"])
def test_a_label_that_is_not_a_number_is_one_line(straight, number_pictures, tiny_data, tmp_path, label):
    root, _ = straight
    folder, truth = number_pictures
    (folder / "labels.csv").write_text(f"file,label\nnumber03.png,{label}\n")
    refused(
        *("predict", "--ckpt_path", str(only(root.rglob("last.ckpt"))), "--data.predict_path", str(folder)),
        root=tmp_path / "run",
        data_dir=tiny_data,
        expect=f"labels.csv, line 2: the label of number03.png must be a number (the digits 0-9 only), got {label!r}",
    )


def test_a_run_draws_how_its_numbers_form_and_the_lines_it_misread(tiny_data, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run_main(
        *("fit", *TINY_NUMBERS, "--trainer.max_epochs", "1", "--pictures.every_n_validations", "2"),
        root=tmp_path,
        data_dir=tiny_data,
    )
    events = EventAccumulator(str(tmp_path / "lightning_logs" / "version_0"))
    events.Reload()
    assert [picture.step for picture in events.Images("val/number_forms")] == [10]  # the 2nd validation's
    assert [picture.step for picture in events.Images("val/misread")] == [10]  # a tiny reader misreads
    for stage in ("val", "test"):
        [picture] = events.Images(f"{stage}/number_forms")
        assert picture.width > 400 and picture.height > 400


def test_the_onnx_file_reads_lines_of_any_width_as_pytorch_does(straight, tiny_data, tmp_path):
    import onnx
    import onnxruntime

    from lstm_mnist.apps import export
    from lstm_mnist.nets.ctc_decoding import best_path
    from lstm_mnist.training.number_reader import NumberReader

    root, _ = straight
    checkpoint, output = only(root.rglob("last.ckpt")), tmp_path / "numbers.onnx"
    result = call_main(
        export.main, ["--ckpt_path", str(checkpoint), "--output", str(output), "--data_dir", str(tiny_data)]
    )
    assert result.code == 0, result.err
    assert "parity with PyTorch on 300 MNIST test lines, one at a time and 8 together: numbers identical" in result.out
    (lines,) = onnx.load(output).graph.input
    dims = lines.type.tensor_type.shape.dim
    assert lines.name == "lines" and dims[1].dim_value == 28 and dims[0].dim_param and dims[2].dim_param
    session = onnxruntime.InferenceSession(str(output), providers=["CPUExecutionProvider"])
    pytorch = NumberReader.load_from_checkpoint(checkpoint).eval()
    generator = torch.Generator().manual_seed(0)
    for batch, width in ((1, 40), (3, 160)):
        pixels = torch.rand(batch, 28, width, generator=generator)
        (scores,) = session.run(["scores"], {"lines": pixels.numpy()})
        with torch.inference_mode():
            expected = pytorch(pixels)
        assert scores.shape == (batch, width // 4, 11)
        assert np.abs(scores - expected.numpy()).max() < 1e-4
        ours = [best_path(p)[0] for p in expected.softmax(dim=-1).numpy()]
        assert [best_path(p)[0] for p in torch.from_numpy(scores).softmax(dim=-1).numpy()] == ours


def test_read_answers_numbers_as_predict_does(straight, number_pictures, tiny_data, tmp_path):
    from lstm_mnist.read_command import main as read_main

    root, _ = straight
    folder, truth = number_pictures
    checkpoint = str(only(root.rglob("last.ckpt")))
    run_main(
        "predict", "--ckpt_path", checkpoint, "--data.predict_path", str(folder), root=tmp_path, data_dir=tiny_data
    )
    with open(only(tmp_path.rglob("predictions.csv"))) as file:
        predicted = {row["path"]: row for row in csv.DictReader(file)}
    pictures = sorted(str(folder / name) for name in truth)
    result = call_main(read_main, [*pictures, "--ckpt_path", checkpoint])
    assert result.code == 0, result.err
    for line, picture in zip(result.out.splitlines(), pictures, strict=True):
        number, probability = predicted[picture]["number"] or "(no digit)", predicted[picture]["probability"]
        assert line == f"{picture}: {number} ({float(probability):.4f})"


def test_a_digit_checkpoint_under_the_number_config_reads_digits(tiny_data, tmp_path):
    """The checkpoint's task brings its own data: a digit classifier is never fed lines."""
    from lstm_mnist.storage.bundled_model import bundled_path

    folder = tmp_path / "digits"
    folder.mkdir()
    picture = np.full((40, 40), 255, np.uint8)
    picture[8:32, 18:22] = 0  # a 1
    Image.fromarray(picture).save(folder / "one.png")
    result = run_main(
        *("predict", "--config", NUMBERS, "--ckpt_path", str(bundled_path()), "--data.predict_path", str(folder)),
        root=tmp_path / "run",
        data_dir=tiny_data,
    )
    assert "data: MNISTDataModule, which the checkpoint's task reads (config: " in result.err
    with open(only((tmp_path / "run").rglob("predictions.csv"))) as file:
        [row] = list(csv.DictReader(file))
    assert row["prediction"] == "1"


def test_read_numbers_with_a_digit_model_is_one_line(tmp_path):
    from lstm_mnist.read_command import main as read_main
    from lstm_mnist.storage.bundled_model import bundled_path

    picture = tmp_path / "one.png"
    Image.new("L", (40, 40), 255).save(picture)
    result = call_main(read_main, ["--numbers", str(picture), "--ckpt_path", str(bundled_path())])
    assert result.code == 1 and result.out == ""
    assert result.err == f"error: --numbers needs a number reader: {bundled_path()} reads single digits\n"
