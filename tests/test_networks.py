"""The network is a part passed in: another family takes one new class and a config, nothing else; the
network's settings have a short spelling; a checkpoint names its network and is refused one it
does not know."""

import pytest
import torch
import yaml
from torch import nn

from helpers.reading import only, read_scalars
from helpers.running import QUICK, refused, run_main
from lstm_mnist.nets.network import Network
from lstm_mnist.training.digit_classifier import DigitClassifier


class ToyNet(Network):
    """A network of another family: one linear layer over all the pixels.

    Args:
        scale: multiplies the logits.
    """

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        self.scale = scale
        self.linear = nn.Linear(28 * 28, 10)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.linear(images.flatten(1)) * self.scale


TOY_CONFIG = {"model": {"net": {"class_path": f"{__name__}.ToyNet", "init_args": {"scale": 2.0}}}}


def test_another_network_family_takes_a_class_and_a_config(tiny_data, tmp_path):
    config = tmp_path / "toy.yaml"
    config.write_text(yaml.safe_dump(TOY_CONFIG))
    run_main(
        "fit", *QUICK, "--pictures.every_n_validations", "1", "--config", str(config), root=tmp_path, data_dir=tiny_data
    )
    run_dir = only(tmp_path.glob("lightning_logs/version_*"))
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["model"]["init_args"]["net"] == {
        "class_path": f"{__name__}.ToyNet",
        "init_args": {"scale": 2.0},
    }
    assert "test/acc" in read_scalars(run_dir)
    last = run_dir / "checkpoints" / "last.ckpt"
    stored = torch.load(last, weights_only=True)["hyper_parameters"]["net"]
    assert stored == {"class_path": f"{__name__}.ToyNet", "init_args": {"scale": 2.0}}
    # a fresh model from the checkpoint alone: the same network, the same weights
    model = DigitClassifier.load_from_checkpoint(last)
    assert isinstance(model.net, ToyNet) and model.net.scale == 2.0
    # test and predict rebuild it from the checkpoint too
    run_main("test", "--ckpt_path", str(last), root=tmp_path / "test", data_dir=tiny_data)
    run_main("predict", "--ckpt_path", str(last), root=tmp_path / "predict", data_dir=tiny_data)
    assert only((tmp_path / "predict").rglob("predictions.csv")).read_text().count("\n") == 201


def test_a_checkpoint_naming_an_unknown_network_is_refused(tiny_data, tmp_path):
    checkpoint = {"state_dict": {}, "hyper_parameters": {"net": {"class_path": "somewhere.else.Net", "init_args": {}}}}
    path = tmp_path / "foreign.ckpt"
    torch.save(checkpoint, path)
    refused(
        "test",
        *("--ckpt_path", str(path)),
        data_dir=tiny_data,
        root=tmp_path / "run",
        expect="names the network somewhere.else.Net, which is neither in lstm_mnist.nets nor imported",
    )


@pytest.mark.parametrize(
    "spelling",
    [["--model.hidden_size", "12"], ["--model.hidden_size=12"], ["--model.net.hidden_size", "12"], "config"],
    ids=["flag", "flag=", "full-flag", "flat-config"],
)
def test_the_networks_settings_have_a_short_spelling(spelling, tmp_path):
    if spelling == "config":
        config = tmp_path / "flat.yaml"
        config.write_text("model:\n  hidden_size: 12\n  lr: 0.02\n")
        spelling = ["--config", str(config)]
    printed = yaml.safe_load(run_main("fit", *spelling, "--print_config").out)
    assert printed["model"]["init_args"]["net"]["init_args"]["hidden_size"] == 12
    assert "hidden_size" not in printed["model"]["init_args"]


def test_a_config_builds_on_another_and_lists_only_what_differs(tmp_path):
    (tmp_path / "base.yaml").write_text("model:\n  lr: 0.02\n  net:\n    init_args:\n      hidden_size: 12\n")
    (tmp_path / "child.yaml").write_text("builds_on: base.yaml\nmodel:\n  net:\n    init_args:\n      cell: gru\n")
    printed = yaml.safe_load(run_main("fit", "--config", str(tmp_path / "child.yaml"), "--print_config").out)
    assert printed["model"]["init_args"]["lr"] == 0.02
    assert (
        printed["model"]["init_args"]["net"]["init_args"]["hidden_size"] == 12
        and printed["model"]["init_args"]["net"]["init_args"]["cell"] == "gru"
    )
    (tmp_path / "loop.yaml").write_text("builds_on: loop.yaml\n")
    refused("fit", "--config", str(tmp_path / "loop.yaml"), expect="builds_on leads back to itself")
    (tmp_path / "orphan.yaml").write_text("builds_on: missing.yaml\n")
    refused("fit", "--config", str(tmp_path / "orphan.yaml"), expect="builds_on missing.yaml does not exist")


class WideNet(Network):
    """A network whose settings share their names with the LSTM's, with other defaults.

    Args:
        hidden_size: width of the hidden layer.
        num_layers: hidden layers.
    """

    def __init__(self, hidden_size: int = 300, num_layers: int = 2) -> None:
        super().__init__()
        layers = [nn.Flatten()]
        for index in range(num_layers):
            layers += [nn.Linear(28 * 28 if index == 0 else hidden_size, hidden_size), nn.ReLU()]
        self.layers = nn.Sequential(*layers, nn.Linear(hidden_size, 10))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.layers(images)


@pytest.mark.parametrize(
    ("choice", "given", "expected"),
    [
        (["--model.net.class_path", f"{__name__}.WideNet"], [], {"hidden_size": 300, "num_layers": 2}),
        (
            ["--model.net", f"{__name__}.WideNet"],
            ["--model.net.num_layers", "1"],
            {"hidden_size": 300, "num_layers": 1},
        ),
        # a setting given before the class was chosen is the user's too, and carries over
        (
            ["--model.hidden_size", "64", "--model.net.class_path", f"{__name__}.WideNet"],
            [],
            {"hidden_size": 64, "num_layers": 2},
        ),
    ],
    ids=["class-only", "class-then-setting", "setting-then-class"],
)
def test_another_network_gets_its_own_defaults_not_the_lstms(choice, given, expected, tiny_data, tmp_path):
    printed = yaml.safe_load(run_main("fit", *choice, *given, "--print_config").out)
    assert printed["model"]["init_args"]["net"] == {"class_path": f"{__name__}.WideNet", "init_args": expected}
    if len(choice) + len(given) > 2:
        return  # what is printed is what runs: the first of the three fits shows it (below)
    run_main("fit", *QUICK, *choice, *given, root=tmp_path, data_dir=tiny_data)
    last = only(tmp_path.glob("lightning_logs/version_*/checkpoints/last.ckpt"))
    stored = torch.load(last, weights_only=True)["hyper_parameters"]["net"]
    assert stored == {"class_path": f"{__name__}.WideNet", "init_args": expected}
    assert DigitClassifier.load_from_checkpoint(last).net.layers[1].out_features == expected["hidden_size"]
