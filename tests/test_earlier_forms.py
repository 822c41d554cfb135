"""A checkpoint written before the network was a part of its own (flat hyperparameters: ``hidden_size``,
``cell``, ... beside ``lr``) tests, predicts, exports, loads and resumes with today's code to the
figures the code that wrote it gave (``tests/fixtures/gru_columns_before_nets.json`` says how); its
run's ``config.yaml`` (flat model settings, the classes' old paths) still resumes it."""

import csv
import json
from pathlib import Path

import pytest
import torch

from helpers.reading import only, read_scalars
from helpers.running import QUICK, call_main, run_main
from lstm_mnist.apps.export import main as export_main
from lstm_mnist.data.mnist import MNISTDataModule
from lstm_mnist.storage.earlier_forms import DATA_STATE
from lstm_mnist.training.digit_classifier import DigitClassifier

FIXTURES = Path(__file__).parent / "fixtures"
CHECKPOINT = FIXTURES / "gru_columns_before_nets.ckpt"
# Its run's config.yaml, with the run's folder (an absolute path) written as RUN_ROOT.
RUN_CONFIG = FIXTURES / "gru_columns_before_nets.config.yaml"
FIGURES = json.loads((FIXTURES / "gru_columns_before_nets.json").read_text())
# The flags it was trained with: the fit that resumes it must ask for the same architecture.
TRAINED_WITH = [
    *("--model.hidden_size", "4", "--model.cell", "gru", "--model.order", "columns"),
    *("--model.permutation_seed", "3", "--model.schedule", "constant"),
]


def test_the_fixture_is_of_the_earlier_form():
    hyper_parameters = torch.load(CHECKPOINT, weights_only=True)["hyper_parameters"]
    assert "net" not in hyper_parameters and hyper_parameters["cell"] == "gru"


def test_it_tests_and_predicts_to_the_same_figures(tiny_data, tmp_path):
    run_main(
        "test",
        "--ckpt_path",
        str(CHECKPOINT),
        "--data.eval_batch_size",
        "50",
        root=tmp_path / "test",
        data_dir=tiny_data,
    )
    scalars = read_scalars(only((tmp_path / "test").glob("lightning_logs/version_*")))
    assert scalars["test/acc"][-1][1] == pytest.approx(FIGURES["test_acc"], abs=1e-6)
    assert scalars["test/loss"][-1][1] == pytest.approx(FIGURES["test_loss"], abs=1e-4)

    run_main(
        "predict",
        "--ckpt_path",
        str(CHECKPOINT),
        "--data.eval_batch_size",
        "50",
        root=tmp_path / "predict",
        data_dir=tiny_data,
    )
    rows = list(csv.DictReader(only((tmp_path / "predict").rglob("predictions.csv")).open()))
    assert "".join(row["prediction"] for row in rows) == FIGURES["predictions"]
    assert [float(row["probability"]) for row in rows[:10]] == pytest.approx(FIGURES["probabilities"], abs=2e-4)


@pytest.mark.slow  # the ONNX exporter: seconds
def test_it_loads_in_python_and_exports_with_its_network(tiny_data, tmp_path):
    model = DigitClassifier.load_from_checkpoint(CHECKPOINT)
    assert model.description == "GRU of 4 units reading columns"
    assert model.hparams.net["init_args"]["permutation_seed"] == 3 and model.hparams.schedule == "constant"
    result = call_main(
        export_main,
        ["--ckpt_path", str(CHECKPOINT), "--output", str(tmp_path / "m.onnx"), "--data_dir", str(tiny_data)],
    )
    assert result.code == 0, result.err
    assert "predictions identical" in result.out and (tmp_path / "m.onnx").is_file()


def test_it_resumes_to_the_same_weights(tiny_data, tmp_path):
    run_main(
        *("fit", *QUICK, "--trainer.max_epochs", "2", *TRAINED_WITH, "--ckpt_path", str(CHECKPOINT)),
        root=tmp_path,
        data_dir=tiny_data,
    )
    final = torch.load(only(tmp_path.rglob("last.ckpt")), weights_only=True)
    assert final["global_step"] == FIGURES["resumed_step"]
    assert final["hyper_parameters"]["net"]["init_args"]["cell"] == "gru"  # written in today's form
    for name, first_values in FIGURES["resumed_weights"].items():
        assert final["state_dict"][name].flatten()[:5].tolist() == pytest.approx(first_values, abs=1e-4), name


def test_its_runs_config_yaml_resumes_it_as_the_interrupted_message_says(tiny_data, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(RUN_CONFIG.read_text().replace("RUN_ROOT", str(tmp_path / "run")))
    run_main(
        *("fit", "--config", str(config), "--trainer.max_epochs", "2", "--ckpt_path", str(CHECKPOINT)),
        data_dir=tiny_data,
    )
    final = torch.load(only((tmp_path / "run").rglob("last.ckpt")), weights_only=True)
    assert final["global_step"] == FIGURES["resumed_step"]
    for name, first_values in FIGURES["resumed_weights"].items():
        assert final["state_dict"][name].flatten()[:5].tolist() == pytest.approx(first_values, abs=1e-4), name


@pytest.mark.slow  # a fit and a predict
def test_a_record_of_font_digits_from_before_the_sources_is_read_as_today(tiny_data, tmp_path):
    """Checkpoints written before the data took any source recorded ``font_digits`` by its settings."""
    run_main("fit", *QUICK, root=tmp_path / "run", data_dir=tiny_data)
    last = only((tmp_path / "run").rglob("last.ckpt"))
    checkpoint = torch.load(last, weights_only=True)
    fonts = {"per_digit": 2, "kinds": ["printed"], "seed": 0}
    checkpoint["MNISTDataModule"]["trained_on"] = {"augmentation": None, "font_digits": fonts}
    earlier = tmp_path / "earlier.ckpt"
    torch.save(checkpoint, earlier)
    result = run_main("predict", "--ckpt_path", str(earlier), root=tmp_path / "predict", data_dir=tiny_data)
    assert "trained on MNIST and digits set in fonts (each digit photographed 2x in each printed training font)" in (
        result.err
    )
    assert DigitClassifier.load_from_checkpoint(earlier).trained_on.startswith("MNIST and digits set in fonts")
    assert DATA_STATE == MNISTDataModule.__qualname__ in checkpoint


@pytest.mark.parametrize(
    ("module", "name", "today"),
    [
        ("lstm_mnist", "LitLSTMClassifier", "lstm_mnist.DigitClassifier"),
        ("lstm_mnist.training.recipe", "LitLSTMClassifier", "lstm_mnist.training.digit_classifier.DigitClassifier"),
        ("lstm_mnist.data.user_images", "read_picture", "lstm_mnist.data.picture_reading.read_picture"),
        ("lstm_mnist.data.user_pictures", "UserPictures", "lstm_mnist.data.picture_folders.PictureFolder"),
    ],
)
def test_names_of_the_earlier_version_still_import_with_a_warning(module, name, today):
    import importlib

    today_module, _, today_name = today.rpartition(".")
    with pytest.warns(DeprecationWarning, match=rf"{module}\.{name} is now {today}"):
        found = getattr(importlib.import_module(module), name)
    assert found is getattr(importlib.import_module(today_module), today_name)
    with pytest.raises(AttributeError):
        importlib.import_module(module).NeverWas  # noqa: B018
