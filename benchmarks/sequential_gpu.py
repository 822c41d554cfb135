"""Sequential and permuted MNIST on one GPU: ``configs/smnist.yaml`` and ``configs/pmnist.yaml``,
each trained in full, with seconds per epoch beside a plain loop's and the test accuracy at the end.

For each config, in this one process:

1. the plain loop (``plain_loop.py``: the same network, batch, optimizer, clipping and
   validation every 50 steps over the same 5,000 images) runs ``--plain-steps`` steps; scaled
   to an epoch, that is the floor;
2. ``train.py fit --config CONFIG`` trains (the config is made for one GPU); every epoch's seconds are
   recorded. If the config's epochs would not fit ``--budget`` seconds at 1.2x the floor, fewer
   are run and the table says so (the schedule spans whatever is run);
3. the fit's own test of its best-``val/acc`` checkpoint, and a test of ``last.ckpt``, on the
   full 10k test set.

    python benchmarks/sequential_gpu.py --data-dir DATA [--out DIR] [--budget 240] \
        [--configs smnist pmnist] [-- FIT FLAGS]

``--device cpu`` with fit flags that shorten the run (``--trainer.limit_train_batches 3``, ...)
checks the script itself on a machine without a GPU.
"""

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from epoch_timer import EPOCH_SECONDS  # noqa: E402
from plain_loop import plain_seconds  # noqa: E402
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

from lstm_mnist.apps.cli import main as cli_main  # noqa: E402
from lstm_mnist.apps.cli import make_cli  # noqa: E402
from lstm_mnist.data.mnist import MNISTDataModule  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def merged_config(path: Path) -> dict:
    """A config as a run sees it: the default config, then ``path`` (and what it builds on), parsed
    by the project's CLI itself."""
    return make_cli(["--config", str(path)], run=False).config.as_dict()


def test_accuracy(run_dir: Path) -> float:
    events = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    events.Reload()
    return events.Scalars("test/acc")[-1].value


def run_config(name: str, args: argparse.Namespace) -> dict:
    data_dir, out, budget, plain_steps = args.data_dir, Path(args.out), args.budget, args.plain_steps
    config_path = ROOT / "configs" / f"{name}.yaml"
    config = merged_config(config_path)
    model, data_config = config["model"], config["data"]
    device = torch.device(args.device)

    data = MNISTDataModule(data_dir=data_dir, val_size=data_config["val_size"])
    data.setup("fit")
    train = tuple(t.to(device) for t in data.splits["train"])
    val = tuple(t.to(device) for t in data.splits["val"])
    batch = data_config["batch_size"]
    steps_per_epoch = math.ceil(len(train[1]) / batch)
    plain = plain_seconds(
        model["net"]["init_args"],
        train,
        batch,
        plain_steps,
        val=val,
        eval_batch_size=data_config["eval_batch_size"],
        clip=config["trainer"].get("gradient_clip_val"),
        lr=model["lr"],
        beta2=model["beta2"],
    )
    plain_epoch = plain / plain_steps * steps_per_epoch
    asked = config["trainer"]["max_epochs"]
    epochs = max(1, min(asked, int(budget / (1.2 * plain_epoch))))
    print(
        f"{name}: plain loop {plain_epoch:.2f} s/epoch ({plain_steps} steps scaled to {steps_per_epoch}); "
        f"running {epochs} of the config's {asked} epochs",
        flush=True,
    )
    del train, val
    if device.type == "cuda":
        torch.cuda.empty_cache()

    root = out / name
    EPOCH_SECONDS.clear()
    start = time.perf_counter()
    cli_main(
        [
            "fit",
            "--config",
            str(config_path),
            "--data.data_dir",
            data_dir,
            "--trainer.max_epochs",
            str(epochs),
            "--trainer.default_root_dir",
            str(root),
            "--trainer.callbacks+=epoch_timer.EpochTimer",
            *args.extra,
        ]
    )
    fit_seconds = time.perf_counter() - start
    epoch_seconds = list(EPOCH_SECONDS)
    runs = root / "lightning_logs"
    cli_main(
        [
            "test",
            "--data.data_dir",
            data_dir,
            *args.extra,
            "--ckpt_path",
            str(runs / "version_0" / "checkpoints" / "last.ckpt"),
            "--trainer.default_root_dir",
            str(root),
        ]
    )
    return {
        "name": name,
        "epochs": epochs,
        "asked": asked,
        "plain": plain_epoch,
        "project": statistics.median(epoch_seconds[1:] or epoch_seconds),
        "first": epoch_seconds[0],
        "fit": fit_seconds,
        "best_test": test_accuracy(runs / "version_0"),
        "last_test": test_accuracy(runs / "version_1"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--out", default="/tmp/sequential-gpu")
    parser.add_argument("--budget", type=float, default=240, help="seconds of training per config, at most")
    parser.add_argument("--plain-steps", type=int, default=100)
    parser.add_argument("--configs", nargs="+", default=["smnist", "pmnist"])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("extra", nargs="*", help="more train.py fit flags, after --")
    args = parser.parse_args()
    machine = torch.cuda.get_device_name() if args.device == "cuda" else "CPU"
    print(machine, "torch", torch.__version__, flush=True)
    results = [run_config(name, args) for name in args.configs]

    print(
        f"\n{machine}; plain loop: {args.plain_steps} steps scaled to an epoch; "
        "project: median epoch after the first, validation every 50 steps included"
    )
    print(
        "| config | epochs | plain s/epoch | project s/epoch | ratio | first epoch s | fit s (with test) "
        "| test acc, best val ckpt | test acc, last.ckpt |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        epochs = f"{r['epochs']}" + ("" if r["epochs"] == r["asked"] else f" of {r['asked']}")
        print(
            f"| {r['name']} | {epochs} | {r['plain']:.2f} | {r['project']:.2f} | {r['project'] / r['plain']:.2f} "
            f"| {r['first']:.2f} | {r['fit']:.0f} | {100 * r['best_test']:.2f}% | {100 * r['last_test']:.2f}% |"
        )


if __name__ == "__main__":
    main()
