"""Runs on the real MNIST: the default recipe learns the digits in one epoch, and reads users' pictures."""

import contextlib
import csv
import io
import subprocess
import sys
from pathlib import Path

from helpers.paths import REAL_DATA_DIR, real_mnist
from helpers.reading import read_scalars, readme_block
from helpers.running import run_main
from helpers.user_style_pictures import png_header_only, write_user_style_digits
from lstm_mnist.data.mnist import MNISTDataModule

pytestmark = real_mnist


def test_one_epoch_of_the_default_config_reaches_95_percent(trained_on_mnist):
    """Scored by the fit itself on the 10k test set: the best and the last checkpoint."""
    scalars = read_scalars(trained_on_mnist / "lightning_logs" / "version_0")
    assert len(scalars["val/acc"]) == 22  # 1100 steps, validated every 50
    assert scalars["test/acc"][0][1] >= 0.95
    assert scalars["test/acc_last"][0][1] >= 0.95


def test_predicts_users_pictures_of_digits(trained_on_mnist, tmp_path):
    data = MNISTDataModule(data_dir=REAL_DATA_DIR)
    data.setup("test")
    images, labels = data.splits["test"]
    # Digits from the test set, saved in the styles users send: PNG/JPEG, colour/grey, any size, either
    # polarity, phone photos stored sideways, transparent drawings; and two files that are not digits.
    truth = write_user_style_digits(images[:40], labels[:40], tmp_path / "pictures")
    (tmp_path / "pictures" / "readme.txt").write_text("not a picture")
    png_header_only(tmp_path / "pictures" / "bomb.png", 20_000, colour_type=0)
    last = trained_on_mnist / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
    result = run_main(
        *("predict", "--ckpt_path", str(last), "--data.predict_path", str(tmp_path / "pictures")),
        root=tmp_path / "predict",
    )
    assert "readme.txt: not an image" in result.err
    assert "bomb.png: refused as a possible decompression bomb" in result.err and "Traceback" not in result.err
    with open(tmp_path / "predict" / "lightning_logs" / "version_0" / "predictions.csv") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 40
    wrong = [Path(row["path"]).name for row in rows if int(row["prediction"]) != truth[Path(row["path"]).name]]
    assert len(wrong) <= 4, f"misread: {wrong}"
    styles = [name.split("_", 1)[1] for name in wrong]
    assert all(styles.count(style) <= 1 for style in styles), f"more than one of a style misread: {wrong}"
    assert "predictions of 40 images written to" in result.out


def test_onnx_export_agrees_with_pytorch_on_the_10k_test_set_and_runs_without_torch(trained_on_mnist, tmp_path):
    """The README's export command, then its onnxruntime example, run word for word in a process
    that must not import torch, on a test digit saved as a PNG."""
    from PIL import Image

    from lstm_mnist.apps.export import main as export_main
    from lstm_mnist.training.digit_classifier import DigitClassifier

    last = trained_on_mnist / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        export_main(["--ckpt_path", str(last), "--output", str(tmp_path / "model.onnx"), "--data_dir", REAL_DATA_DIR])
    assert "parity with PyTorch on the 10,000 MNIST test images: predictions identical" in out.getvalue()

    data = MNISTDataModule(data_dir=REAL_DATA_DIR)
    data.setup("test")
    images, labels = data.splits["test"]
    example = readme_block("import onnxruntime") + '\nimport sys\nassert "torch" not in sys.modules\n'
    model = DigitClassifier.load_from_checkpoint(last).eval()
    Image.fromarray((images[0].numpy() * 255).round().astype("uint8")).save(tmp_path / "digit.png")
    result = subprocess.run([sys.executable, "-c", example], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    expected = int(model(images[:1]).argmax())
    assert result.stdout == f"digit: {expected}\n" and expected == int(labels[0])
