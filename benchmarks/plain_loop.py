"""The project's model and recipe as a bare PyTorch loop: the floor the project's time is compared with.

Same network (the project's plain ``RecurrentClassifier``, any cell and reading order), same input
standardisation, fused Adam, gradient clipping and one-cycle schedule, batches cut from
tensors already on the device, and (optionally) the same validation cadence; no framework,
no logging, no checkpoints.
"""

import time

import torch
from torch.nn import functional as F

from lstm_mnist.data.mnist_format import MNIST
from lstm_mnist.nets.recurrent import RecurrentClassifier


def plain_seconds(
    net_settings: dict,
    train: tuple[torch.Tensor, torch.Tensor],
    batch_size: int,
    steps: int,
    warmup_steps: int = 5,
    val: tuple[torch.Tensor, torch.Tensor] | None = None,
    eval_batch_size: int = 1000,
    validate_every: int = 50,
    clip: float | None = 1.0,
    lr: float = 5e-3,
    beta2: float = 0.95,
) -> float:
    """Seconds that ``steps`` training steps take (after ``warmup_steps`` untimed ones), with a
    validation over ``val`` after every ``validate_every`` timed steps when ``val`` is given."""
    device = train[0].device
    torch.manual_seed(0)
    model = RecurrentClassifier(**net_settings).to(device)  # the project's network, without the recipe around it
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, beta2), fused=device.type in ("cpu", "cuda"))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=warmup_steps + steps + 1)
    images, labels = train
    order = torch.randperm(len(labels), device=device)

    def step(index: int) -> None:
        batch = order[(index * batch_size) % (len(labels) - batch_size) :][:batch_size]
        loss = F.cross_entropy(model((images[batch] - MNIST.mean) / MNIST.std), labels[batch])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        schedule.step()

    def validate() -> float:
        model.eval()
        correct = torch.zeros((), device=device)
        with torch.inference_mode():
            for start in range(0, len(val[1]), eval_batch_size):
                logits = model((val[0][start : start + eval_batch_size] - MNIST.mean) / MNIST.std)
                correct += (logits.argmax(dim=1) == val[1][start : start + eval_batch_size]).sum()
        model.train()
        return float(correct) / len(val[1])  # reading it waits for the device, as a logged metric does

    for index in range(warmup_steps):
        step(index)
    synchronize(device)
    start = time.perf_counter()
    for index in range(warmup_steps, warmup_steps + steps):
        step(index)
        if val is not None and (index - warmup_steps + 1) % validate_every == 0:
            validate()
    synchronize(device)
    return time.perf_counter() - start


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
