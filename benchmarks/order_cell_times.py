"""Seconds per epoch for every reading order and cell, the project next to a plain loop of the same model.

Both train the same network (``plain_loop.py``: same standardisation, fused Adam, clipping,
one-cycle schedule) on real MNIST in batches of ``--batch``. Each side runs ``--steps`` training
steps (``--pixel-steps`` for the 784-step orders) after 3 untimed ones, without validation, and
the milliseconds per step are scaled to an epoch of 55,000 images: the recurrent kernel is the
same on both sides, so what differs is what the project adds around it (Lightning's loop,
logging, callbacks). The project runs ``train.py fit`` in this process with the default config.

    python benchmarks/order_cell_times.py --data-dir ../shared/data [--hidden 64 128] [--steps 200] [--pixel-steps 20]
"""

import argparse
import math
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from epoch_timer import STEP_ENDS  # noqa: E402
from plain_loop import plain_seconds  # noqa: E402

from lstm_mnist.apps.cli import main as cli_main  # noqa: E402
from lstm_mnist.data.mnist import MNISTDataModule  # noqa: E402

WARMUP = 3


def project_ms_per_step(order: str, cell: str, hidden: int, batch: int, steps: int, data_dir: str) -> float:
    STEP_ENDS.clear()
    with tempfile.TemporaryDirectory() as root:
        cli_main(
            [
                "fit",
                "--data.data_dir",
                data_dir,
                "--model.order",
                order,
                "--model.cell",
                cell,
                "--model.hidden_size",
                str(hidden),
                "--data.batch_size",
                str(batch),
                "--trainer.max_steps",
                str(WARMUP + steps),
                "--trainer.limit_val_batches",
                "0",
                "--trainer.enable_progress_bar",
                "false",
                "--trainer.enable_model_summary",
                "false",
                "--trainer.default_root_dir",
                root,
                "--trainer.callbacks+=epoch_timer.StepTimer",
            ]
        )
    return (STEP_ENDS[-1] - STEP_ENDS[WARMUP - 1]) / steps * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--hidden", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--steps", type=int, default=200, help="timed steps for rows and columns")
    parser.add_argument("--pixel-steps", type=int, default=20, help="timed steps for pixels and permuted")
    parser.add_argument("--orders", nargs="+", default=["rows", "columns", "pixels", "permuted"])
    parser.add_argument("--cells", nargs="+", default=["lstm", "gru", "rnn"])
    args = parser.parse_args()

    data = MNISTDataModule(data_dir=args.data_dir)
    data.setup("fit")
    train = data.splits["train"]
    steps_per_epoch = math.ceil(len(train[1]) / args.batch)
    rows = []
    for order in args.orders:
        steps = args.pixel_steps if order in ("pixels", "permuted") else args.steps
        for cell in args.cells:
            for hidden in args.hidden:
                model = {"order": order, "cell": cell, "hidden_size": hidden}
                plain = plain_seconds(model, train, args.batch, steps, warmup_steps=WARMUP) / steps * 1000
                project = project_ms_per_step(order, cell, hidden, args.batch, steps, args.data_dir)
                rows.append((order, cell, hidden, steps, plain, project))
                print(f"{order} {cell} {hidden}: plain {plain:.1f} ms/step, project {project:.1f} ms/step", flush=True)

    print(
        f"\nCPU, {torch.get_num_threads()} threads, torch {torch.__version__}; batch {args.batch}, "
        f"{steps_per_epoch} steps an epoch; training steps only (no validation), scaled from the steps timed"
    )
    print("| order | cell | hidden | steps timed | plain s/epoch | project s/epoch | ratio |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for order, cell, hidden, steps, plain, project in rows:
        print(
            f"| {order} | {cell} | {hidden} | {steps} | {plain * steps_per_epoch / 1000:.1f} "
            f"| {project * steps_per_epoch / 1000:.1f} | {project / plain:.2f} |"
        )


if __name__ == "__main__":
    main()
