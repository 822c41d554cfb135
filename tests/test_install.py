"""Installed the way a wheel or a git URL installs it (not editable, no checkout around), the
``lstm-mnist`` command trains the same recipe, and a default fit prints only what a user reads."""

import os
import re
import shutil
import subprocess
import sys
from importlib.util import find_spec

import pytest
import yaml

from helpers.paths import ROOT
from helpers.running import TINY_ARGS, cli_environment, run_main

pytestmark = pytest.mark.slow  # a real install into a fresh environment


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The project built and installed into a folder of its own with pip, as from a wheel. The
    build uses the setuptools already installed (no isolated build environment to download)."""
    where = tmp_path_factory.mktemp("install")
    source = where / "source"
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    target = where / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
        + ["--target", str(target), str(source)],
        check=True,
        capture_output=True,
    )
    return target


def run_installed(target, cwd, *args, data_dir=None) -> subprocess.CompletedProcess:
    """``lstm-mnist ARGS`` from the installed folder, started in ``cwd``, where there is no checkout."""
    env = cli_environment(data_dir, PYTHONPATH=str(target))
    return subprocess.run([str(target / "bin" / "lstm-mnist"), *args], cwd=cwd, env=env, capture_output=True, text=True)


# A default fit from the installed command, in a folder with no checkout.
FIT = ["fit", *TINY_ARGS, "--trainer.max_epochs", "1", "--trainer.default_root_dir", "runs"]


# What a default fit may print besides the progress bar: the model summary and the final summary.
# (Lightning draws the summary with rich's box characters when rich is installed.)
MODEL_SUMMARY = re.compile(
    r"^(\s*\| Name|-+$|\d+ +\| |[\d.]+ K? *(Trainable|Non-trainable|Total)|\d+ +Modules in"
    r"|[┏┃┡│└]|(Trainable|Non-trainable|Total) params:|Total estimated model params|Modules in \w+ mode:|Total FLOPs:)"
)
FINAL_SUMMARY = re.compile(
    r"^(best val/acc|test/acc of the (best|last)|best checkpoint|last checkpoint|trained on|logs|watch with):"
)
PROGRESS_BAR = re.compile(r"^(Sanity Checking|Training|Epoch \d+|Validation|Testing)")
CURSOR_MOVES = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # tqdm redrawing nested bars


def test_an_installed_command_runs_the_same_recipe_and_prints_summaries_and_bar_only(installed, tiny_data, tmp_path):
    """The installed ``lstm-mnist`` runs the recipe of this checkout. A default fit prints no tips, no
    deprecation warnings, no "Loading train_dataloader": every line, on stdout and stderr, is the
    model summary, the progress bar or the final summary."""
    assert (installed / "lstm_mnist" / "default.yaml").is_file()  # package data, not a file of the checkout
    found = subprocess.run(
        [sys.executable, "-c", "import importlib.util as u; print(u.find_spec('lstm_mnist').origin)"],
        env={**os.environ, "PYTHONPATH": str(installed)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.strip() == str(installed / "lstm_mnist" / "__init__.py")

    result = run_installed(installed, tmp_path, *FIT, data_dir=tiny_data)
    assert result.returncode == 0, result.stderr[-3000:]
    run_dir = tmp_path / "runs" / "lightning_logs" / "version_0"
    written = (run_dir / "config.yaml").read_text()
    config = yaml.safe_load(written)
    assert config["trainer"]["max_epochs"] == 1 and config["trainer"]["gradient_clip_val"] == 1.0
    assert config["model"]["init_args"]["lr"] == 0.005 and config["model"]["init_args"]["schedule"] == "one_cycle"
    assert len(config["trainer"]["callbacks"]) == 6
    # everything the same as this checkout (editable) makes of the same command
    assert find_spec("lstm_mnist").origin == str(ROOT / "src" / "lstm_mnist" / "__init__.py")
    # (config.yaml also records what the CLI sets after parsing: the logger, weights-only loading)
    printed = yaml.safe_load(run_main(*FIT, "--print_config", data_dir=tiny_data).out)
    for parsed in (printed, config):
        del parsed["trainer"]["logger"], parsed["weights_only"]
    assert printed == config

    output = CURSOR_MOVES.sub("", result.stdout + result.stderr)
    lines = [line for line in re.split(r"[\r\n]", output) if line.strip()]
    unexpected = [
        line
        for line in lines
        if not (MODEL_SUMMARY.match(line) or FINAL_SUMMARY.match(line) or PROGRESS_BAR.match(line))
    ]
    assert unexpected == []
    assert sum(bool(FINAL_SUMMARY.match(line)) for line in lines) == 8
    assert any(line.startswith("Epoch 0: 100%") for line in lines)
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()


def test_an_installed_package_reads_pictures_with_its_bundled_model(installed, tiny_data, tmp_path):
    """From the install, no checkout and no --ckpt_path: predict names the bundled model on its first
    line and writes its predictions; the shipped file is package data, read weights-only, at most 4 MiB."""
    import torch

    shipped = installed / "lstm_mnist" / "bundled" / "digit-reader.ckpt"
    assert shipped.is_file() and shipped.stat().st_size <= 4 * 2**20
    assert torch.load(shipped, weights_only=True)["bundled"]["recipe"] == "configs/robust.yaml"
    from helpers.user_style_pictures import write_user_style_digits
    from lstm_mnist.data.mnist import MNISTDataModule

    data = MNISTDataModule(data_dir=str(tiny_data))
    data.setup("test")
    write_user_style_digits(*(part[:6] for part in data.splits["test"]), tmp_path / "pictures")
    result = run_installed(
        installed, tmp_path, "predict", "--data.predict_path", "pictures", "--trainer.default_root_dir", "runs"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    first = result.stderr.splitlines()[0]
    assert first.startswith("model: the bundled model (configs/robust.yaml, seed 1: 99.") and "--ckpt_path" in first
    rows = (tmp_path / "runs" / "lightning_logs" / "version_0" / "predictions.csv").read_text().splitlines()
    assert len(rows) == 7 and all(row.split(",")[1].isdigit() for row in rows[1:])
    # `read`, the same pictures, the same digits, from the ONNX file shipped beside the weights
    assert (installed / "lstm_mnist" / "bundled" / "digit-reader.onnx").is_file()
    pictures = sorted(str(path.relative_to(tmp_path)) for path in (tmp_path / "pictures").iterdir())
    read = run_installed(installed, tmp_path, "read", *pictures)
    assert read.returncode == 0, read.stderr
    predicted = {row.split(",")[0]: row.split(",")[1] for row in rows[1:]}
    assert [line.split(": ")[1].split()[0] for line in read.stdout.splitlines()] == [
        predicted[name] for name in pictures
    ]
