"""Reading what a run left: its one file of a kind, its TensorBoard scalars, a model's accuracy;
and the README's code blocks, which tests run word for word."""

import re
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from helpers.paths import ROOT


def only(paths):
    """The one path in ``paths``."""
    paths = list(paths)
    assert len(paths) == 1, paths
    return paths[0]


def accuracy(model, images, labels) -> float:
    """A model's accuracy on tensors, computed here in plain PyTorch."""
    import torch

    with torch.inference_mode():
        return (model(images).argmax(dim=1) == labels).float().mean().item()


def read_scalars(log_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar in a run's TensorBoard events, as ``tag -> [(step, value), ...]``."""
    events = EventAccumulator(str(log_dir), size_guidance={"scalars": 0})
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def readme_block(containing: str, language: str = "python") -> str:
    """The README's code block in ``language`` that contains ``containing``."""
    blocks = re.findall(rf"```{language}\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.DOTALL)
    return only(block for block in blocks if containing in block)
