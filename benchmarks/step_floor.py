"""What one training epoch costs at the floor: a bare loop, then bare Lightning, on in-memory data.

The project's epoch time only means something next to what the same model costs with nothing
around it. Every variant trains the seed's model (the project's ``RecurrentClassifier``: LSTM
28 -> 64, Linear(64, 10); batch 50, Adam 1e-3) for one epoch of 59,000 random images cut by
the project's ``TensorBatches``, without validation, logging, checkpoints or a progress bar:

- ``plain``: the hand-written loop (forward, backward, step);
- ``plain-foreach``: the same with torch's default (multi-tensor) Adam instead of the fused one;
- ``lightning``: a minimal LightningModule under ``Trainer.fit`` (automatic optimisation);
- ``lightning-manual``: the same module stepping its optimizer itself (manual optimisation);
- ``lit-module``: the project's ``DigitClassifier`` with the seed's recipe under the same bare
  Trainer, so what the project's own training step adds shows apart from its callbacks and logger;
- ``project`` (with ``--data-dir``): ``train.py fit --config configs/seed.yaml`` run in this
  process on real MNIST with validation off and no progress bar, so what it adds to bare
  Lightning is the project's own step, logging and callbacks.

Variants run alternately, ``--rounds`` times each, in this one process, and the table gives
the median seconds per epoch and milliseconds per step. ``--device cuda`` keeps the data on
the GPU and runs the project with ``configs/gpu.yaml``: it says how far bare Lightning alone
is from a per-epoch target there.

    python benchmarks/step_floor.py [--rounds 3] [--threads N] [--data-dir ../shared/data] [--device cuda]
"""

import argparse
import logging
import statistics
import sys
import time
import warnings
from pathlib import Path

import lightning as L
import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from epoch_timer import fit_epoch_seconds  # noqa: E402

from lstm_mnist.apps.process import tune_process  # noqa: E402
from lstm_mnist.data.batches import TensorBatches  # noqa: E402
from lstm_mnist.nets.recurrent import RecurrentClassifier  # noqa: E402
from lstm_mnist.training.digit_classifier import DigitClassifier  # noqa: E402

IMAGES, BATCH = 59_000, 50
VARIANTS = ("plain", "plain-foreach", "lightning", "lightning-manual", "lit-module")


class SeedModel(L.LightningModule):
    def __init__(self, manual: bool = False, fused: bool = True) -> None:
        super().__init__()
        self.net = RecurrentClassifier()
        self.automatic_optimization = not manual
        self.fused = fused

    def loss(self, batch) -> torch.Tensor:
        images, labels = batch
        return F.cross_entropy(self.net(images), labels)

    def training_step(self, batch, batch_idx):
        loss = self.loss(batch)
        if self.automatic_optimization:
            return loss
        optimizer = self.optimizers()
        optimizer.zero_grad()
        self.manual_backward(loss)
        optimizer.step()
        return None

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3, fused=self.fused)


def project_epoch(data_dir: str, device: torch.device) -> float:
    gpu_config = ["--config", "configs/gpu.yaml"] if device.type == "cuda" else []
    return fit_epoch_seconds(
        [
            "--config",
            "configs/seed.yaml",
            *gpu_config,
            "--data.data_dir",
            data_dir,
            "--trainer.max_epochs",
            "1",
            "--trainer.limit_val_batches",
            "0",
            "--trainer.enable_progress_bar",
            "false",
            "--trainer.enable_model_summary",
            "false",
        ]
    )[-1]


def one_epoch(variant: str, batches: TensorBatches, device: torch.device, data_dir: str | None = None) -> float:
    if variant == "project":
        return project_epoch(data_dir, device)
    if variant == "lit-module":  # configs/seed.yaml's model settings
        model = DigitClassifier(
            RecurrentClassifier(forget_bias=0.0), normalize_input=False, lr=1e-3, beta2=0.999, schedule="constant"
        )
    else:
        model = SeedModel(manual=variant == "lightning-manual", fused=variant != "plain-foreach")
    model = model.to(device)
    synchronize(device)
    start = time.perf_counter()
    if variant.startswith("plain"):
        optimizer = model.configure_optimizers()
        for batch in batches:
            loss = model.loss(batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    else:
        trainer = L.Trainer(
            max_epochs=1,
            accelerator="gpu" if device.type == "cuda" else "cpu",
            devices=1,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
        )
        trainer.fit(model, train_dataloaders=batches)
    synchronize(device)
    return time.perf_counter() - start


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> None:
    tune_process()  # as every program does: no failing NVML probe at each optimizer step, for every variant
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice)")
    parser.add_argument("--data-dir", help="MNIST folder: adds the project's own fit as a variant")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    args = parser.parse_args()
    device = torch.device(args.device)
    variants = VARIANTS + (("project",) if args.data_dir else ())
    if args.threads:
        torch.set_num_threads(args.threads)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")

    torch.manual_seed(0)
    batches = TensorBatches(
        (torch.rand(IMAGES, 28, 28, device=device), torch.randint(0, 10, (IMAGES,), device=device)), BATCH, shuffle=True
    )
    one_epoch("plain", batches, device)  # warm-up: first calls allocate and pick kernels
    seconds: dict[str, list[float]] = {variant: [] for variant in variants}
    for _ in range(args.rounds):
        for variant in variants:
            seconds[variant].append(one_epoch(variant, batches, device, args.data_dir))

    steps = len(batches)
    print(
        f"{steps} steps of batch {BATCH} on {args.device}, {torch.get_num_threads()} threads, "
        f"torch {torch.__version__}, lightning {L.__version__}; median of {args.rounds} rounds"
    )
    print("| variant | s / epoch | ms / step | runs (s) |")
    print("| --- | --- | --- | --- |")
    for variant, values in seconds.items():
        median = statistics.median(values)
        runs = ", ".join(f"{v:.2f}" for v in values)
        print(f"| {variant} | {median:.2f} | {median / steps * 1000:.2f} | {runs} |")


if __name__ == "__main__":
    main()
