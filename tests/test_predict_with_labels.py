"""``predict`` on a user's labelled digits: how many it reads right, of each digit, and which it confuses,
on the console, in predictions.csv and in TensorBoard; a labels file that is wrong is one line."""

import csv
import re
from collections import Counter

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from helpers.reading import only
from helpers.running import QUICK, refused, run_main
from helpers.user_style_pictures import write_user_style_digits
from lstm_mnist.data.mnist import MNISTDataModule


@pytest.fixture(scope="module")
def checkpoint(tiny_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("trained")
    run_main("fit", *QUICK, root=root, data_dir=tiny_data)
    return str(only(root.rglob("last.ckpt")))


@pytest.fixture()
def pictures(tiny_data, tmp_path):
    """30 of the tiny test digits saved as users save pictures, and their true digits by file name."""
    data = MNISTDataModule(data_dir=str(tiny_data))
    data.setup("test")
    images, labels = data.splits["test"]
    return write_user_style_digits(images[:30], labels[:30], tmp_path / "pictures")


def write_labels(path, truth: dict[str, int]) -> None:
    path.write_text("file,label\n" + "".join(f"{name},{label}\n" for name, label in truth.items()))


def rows_of(root) -> list[dict]:
    with open(only(root.rglob("predictions.csv"))) as file:
        return list(csv.DictReader(file))


def test_a_folders_labels_csv_is_read_and_reported(checkpoint, pictures, tiny_data, tmp_path):
    folder = tmp_path / "pictures"
    labelled = dict(list(pictures.items())[:25])  # five pictures have no label
    write_labels(folder / "labels.csv", labelled)
    result = run_main(
        "predict",
        "--ckpt_path",
        checkpoint,
        "--data.predict_path",
        str(folder),
        root=tmp_path / "run",
        data_dir=tiny_data,
    )
    rows = rows_of(tmp_path / "run")
    assert len(rows) == 30 and "labels.csv" not in " ".join(row["path"] for row in rows)
    by_name = {row["path"].rsplit("/", 1)[1]: row for row in rows}
    for name, row in by_name.items():
        if name in labelled:
            assert row["label"] == str(labelled[name])
            assert row["correct"] == str(int(row["prediction"] == row["label"]))
        else:
            assert row["label"] == row["correct"] == ""
    right = sum(row["correct"] == "1" for row in rows)
    assert f"accuracy against the labels: {right / 25:.4f} ({right} of 25)" in result.out
    # per digit, from the file
    per_digit = re.search(r"^per digit: +(.*)$", result.out, re.M).group(1)
    for digit in range(10):
        own = [row for row in rows if row["label"] == str(digit)]
        if own:
            assert f"{digit}: {sum(row['correct'] == '1' for row in own) / len(own):.2f}" in per_digit
    # the most frequent confusion, from the file
    mistakes = Counter((row["label"], row["prediction"]) for row in rows if row["correct"] == "0")
    if mistakes:
        (true, read), count = mistakes.most_common(1)[0]
        assert re.search(rf"^most confused: .*\({count}\)", result.out, re.M)
        assert max(int(n) for n in re.findall(r"\((\d+)\)", result.out.split("most confused:")[1])) == count
    # the confusion matrix in TensorBoard
    events = EventAccumulator(str(only((tmp_path / "run").glob("lightning_logs/version_*"))))
    events.Reload()
    assert "predict/confusion_matrix" in events.Tags()["images"]


def test_a_labels_file_elsewhere_works_the_same(checkpoint, pictures, tiny_data, tmp_path):
    labels = tmp_path / "my_labels.csv"
    write_labels(labels, pictures)
    result = run_main(
        *("predict", "--ckpt_path", checkpoint, "--data.predict_path", str(tmp_path / "pictures")),
        *("--data.labels", str(labels)),
        root=tmp_path / "run",
        data_dir=tiny_data,
    )
    rows = rows_of(tmp_path / "run")
    assert all(row["label"] == str(pictures[row["path"].rsplit("/", 1)[1]]) for row in rows)
    assert "of 30)" in result.out


@pytest.mark.parametrize(
    "content, expect",
    [
        (None, "does not exist: give a CSV file with the columns file,label"),
        ("name,digit\n00_paper.jpg,3\n", "needs the columns file,label"),
        ("file,label\n00_paper.jpg,seven\n", "line 2: the label of 00_paper.jpg must be a digit 0-9, got 'seven'"),
        ("file,label\n00_paper.jpg,12\n", "must be a digit 0-9, got '12'"),
        ("file,label\n00_paper.jpg,3\nnot_here.png,4\n", "line 3: not_here.png is not a picture in"),
    ],
    ids=["missing", "other-columns", "not-a-digit", "two-digits", "unknown-file"],
)
def test_a_wrong_labels_file_is_one_line(checkpoint, pictures, tiny_data, tmp_path, content, expect):
    labels = tmp_path / "labels_given.csv"
    if content is not None:
        labels.write_text(content)
    result = refused(
        *("predict", "--ckpt_path", checkpoint, "--data.predict_path", str(tmp_path / "pictures")),
        *("--data.labels", str(labels)),
        root=tmp_path / "run",
        data_dir=tiny_data,
        expect=expect,
    )
    assert len(result.err.strip().splitlines()[-1:]) == 1 and result.err.strip().splitlines()[-1].startswith("error: ")


def test_labels_without_pictures_are_refused(checkpoint, tiny_data, tmp_path):
    (tmp_path / "labels.csv").write_text("file,label\n")
    refused(
        *("predict", "--ckpt_path", checkpoint, "--data.labels", str(tmp_path / "labels.csv")),
        root=tmp_path / "run",
        data_dir=tiny_data,
        expect="--data.labels names the digits of --data.predict_path's pictures: give both",
    )


def test_predict_prints_no_lightning_chatter(checkpoint, pictures, tiny_data, tmp_path):
    result = run_main(
        *("predict", "--ckpt_path", checkpoint, "--data.predict_path", str(tmp_path / "pictures")),
        *("--trainer.enable_progress_bar", "false"),
        root=tmp_path / "run",
        data_dir=tiny_data,
    )
    for chatter in ("dirpath has changed", "Couldn't infer the batch indices", "Restoring states", "Loaded model"):
        assert chatter not in result.err + result.out
    assert "model: LSTM of 64 units reading rows, trained on MNIST\n" in result.err
