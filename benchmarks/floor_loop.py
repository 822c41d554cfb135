"""The floor: the recipe of ``configs/seed.yaml`` as a bare in-memory loop, timed as a whole process.

The same work as ``python train.py fit --config configs/seed.yaml``: the MNIST files read into
tensors, 1,000 training images held out, an LSTM of 64 units over pixel rows in [0, 1], Adam 1e-3
(fused), shuffled batches of 50 cut from the tensors, accuracy on the held-out images every 50
steps, 3 epochs, then the 10k test set. No framework, logging, checkpoints, pictures or progress
bar, and only torch and numpy imported: what the experiment itself costs on this machine.
``benchmarks/compare_cpu.py`` runs it beside the reference loop and the project.

    python benchmarks/floor_loop.py --data-dir ../shared/data [--epochs 3] [--seed 0]
"""

import argparse
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

BATCH, EVAL_BATCH, VAL_SIZE, VALIDATE_EVERY = 50, 1000, 1000, 50


def read_idx(path: Path) -> torch.Tensor:
    """An IDX file of unsigned bytes (MNIST's format) as a uint8 tensor."""
    data = path.read_bytes()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return torch.from_numpy(np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape).copy())


class RowReader(nn.Module):
    def __init__(self, hidden_size: int = 64) -> None:
        super().__init__()
        self.lstm = nn.LSTM(28, hidden_size, batch_first=True)
        self.classifier = nn.Linear(hidden_size, 10)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        _, (h_n, _) = self.lstm(images)
        return self.classifier(h_n[-1])


def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    with torch.inference_mode():
        correct = sum(
            int((model(images[i : i + EVAL_BATCH]).argmax(1) == labels[i : i + EVAL_BATCH]).sum())
            for i in range(0, len(images), EVAL_BATCH)
        )
    return correct / len(images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    raw = Path(args.data_dir) / "MNIST" / "raw"
    images = read_idx(raw / "train-images-idx3-ubyte").float().div_(255)
    labels = read_idx(raw / "train-labels-idx1-ubyte").long()
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
    val_images, val_labels = images[order[:VAL_SIZE]], labels[order[:VAL_SIZE]]
    train_images, train_labels = images[order[VAL_SIZE:]], labels[order[VAL_SIZE:]]

    model = RowReader()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    step, best = 0, 0.0
    for _ in range(args.epochs):
        shuffled = torch.randperm(len(train_images))
        for start in range(0, len(shuffled) - BATCH + 1, BATCH):
            batch = shuffled[start : start + BATCH]
            loss = F.cross_entropy(model(train_images[batch]), train_labels[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            if step % VALIDATE_EVERY == 0:
                best = max(best, accuracy(model, val_images, val_labels))
    test_images = read_idx(raw / "t10k-images-idx3-ubyte").float().div_(255)
    test_labels = read_idx(raw / "t10k-labels-idx1-ubyte").long()
    print(f"{step} steps, best val acc {best:.4f}")
    print(f"RESULT test_acc={accuracy(model, test_images, test_labels):.4f}")


if __name__ == "__main__":
    main()
