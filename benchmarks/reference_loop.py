"""The reference recipe as its tutorial writes it: a plain PyTorch loop, the yardstick for speed.

torchvision MNIST with ``ToTensor`` through a DataLoader with 2 workers, shuffled batches of
50, LSTM(28 -> 64) + Linear(64, 10), Adam 1e-3, accuracy on 1,000 test images every 50 steps.
At the end it scores the full 10k test set and prints one line the runner parses.

    python benchmarks/reference_loop.py --data-dir ../shared/data --epochs 3 [--device cuda]
"""

import argparse
import time

import torch
from torch import nn
from torchvision import datasets, transforms


class RNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(input_size=28, hidden_size=64, num_layers=1, batch_first=True)
        self.out = nn.Linear(64, 10)

    def forward(self, x):
        r_out, (h_n, h_c) = self.rnn(x, None)
        return self.out(r_out[:, -1, :])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    device = torch.device(args.device)

    train_data = datasets.MNIST(args.data_dir, train=True, transform=transforms.ToTensor(), download=False)
    train_loader = torch.utils.data.DataLoader(train_data, batch_size=50, shuffle=True, num_workers=2)
    test_data = datasets.MNIST(args.data_dir, train=False, download=False)
    test_x = (test_data.data.float() / 255.0).to(device)
    test_y = test_data.targets.to(device)

    rnn = RNN().to(device)
    optimizer = torch.optim.Adam(rnn.parameters(), lr=1e-3)
    loss_func = nn.CrossEntropyLoss()

    def now() -> float:
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter()

    start = now()
    for epoch in range(args.epochs):
        epoch_start = now()
        for step, (b_x, b_y) in enumerate(train_loader):
            b_x, b_y = b_x.view(-1, 28, 28).to(device), b_y.to(device)
            loss = loss_func(rnn(b_x), b_y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step % 50 == 0:
                with torch.no_grad():
                    pred_y = rnn(test_x[:1000]).argmax(dim=1)
                accuracy = (pred_y == test_y[:1000]).float().mean().item()
                print(f"epoch {epoch} step {step} loss {loss.item():.4f} test accuracy (1000) {accuracy:.4f}")
        print(f"EPOCH {epoch} seconds={now() - epoch_start:.2f}")
    seconds = now() - start
    with torch.no_grad():
        full = (rnn(test_x).argmax(dim=1) == test_y).float().mean().item()
    print(f"RESULT test_acc={full:.4f} train_seconds={seconds:.2f}")


if __name__ == "__main__":
    main()
