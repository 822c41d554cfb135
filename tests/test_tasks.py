"""The task and the data are parts too: a LightningDataModule the project does not know fits, tests
and predicts through the CLI with the project's callbacks, checkpoints and refusals."""

import lightning as L
import pytest
import torch
import yaml

from helpers.reading import only, read_scalars
from helpers.running import QUICK, run_main


class NoisyDigits(L.LightningDataModule):
    """Pictures of noise whose label is the brightest of ten vertical bands: a task a user brings,
    learnable in a few steps.

    Args:
        size: pictures in each split.
        batch_size: pictures a batch.
    """

    def __init__(self, size: int = 200, batch_size: int = 10) -> None:
        super().__init__()
        self.size, self.batch_size = size, batch_size

    def _split(self, seed: int):
        generator = torch.Generator().manual_seed(seed)
        labels = torch.randint(0, 10, (self.size,), generator=generator)
        images = torch.rand(self.size, 28, 28, generator=generator) * 0.2
        for index, label in enumerate(labels):
            images[index, :, 2 + 2 * label : 4 + 2 * label] += 0.8
        return torch.utils.data.TensorDataset(images, labels)

    def train_dataloader(self):
        return torch.utils.data.DataLoader(self._split(0), batch_size=self.batch_size, shuffle=True)

    def val_dataloader(self):
        return torch.utils.data.DataLoader(self._split(1), batch_size=self.batch_size)

    def test_dataloader(self):
        return torch.utils.data.DataLoader(self._split(2), batch_size=self.batch_size)

    def predict_dataloader(self):
        return torch.utils.data.DataLoader(self._split(3), batch_size=self.batch_size)


@pytest.mark.slow  # a fit, a test and two predicts, one with the bundled model
def test_a_datamodule_of_the_users_own_fits_tests_and_predicts(tmp_path):
    data = [f"--data={__name__}.NoisyDigits", "--data.size", "100"]
    printed = yaml.safe_load(run_main("fit", *data, "--print_config").out)
    # its own defaults, not MNISTDataModule's batch_size of 50
    assert printed["data"] == {"class_path": f"{__name__}.NoisyDigits", "init_args": {"size": 100, "batch_size": 10}}
    run_main("fit", *QUICK, *data, root=tmp_path)
    run_dir = only(tmp_path.glob("lightning_logs/version_*"))
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert config["data"]["class_path"] == f"{__name__}.NoisyDigits"
    assert {"val/acc", "test/acc", "test/acc_last"} <= read_scalars(run_dir).keys()
    last = run_dir / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=True)["global_step"] == 10
    run_main("test", "--ckpt_path", str(last), *data, root=tmp_path / "test")
    run_main("predict", "--ckpt_path", str(last), *data, root=tmp_path / "predict")
    rows = only((tmp_path / "predict").rglob("predictions.csv")).read_text().splitlines()
    assert rows[0].endswith(",label,correct") and len(rows) == 101
    assert rows[1].startswith("image 0,") and rows[-1].startswith("image 99,")
    # no untrained answers unasked, for any data: without a checkpoint the bundled model answers
    bundled = run_main("predict", *data, root=tmp_path / "bundled")
    assert bundled.err.splitlines()[0].startswith("model: the bundled model")
