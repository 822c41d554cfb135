"""What each of ``apps/process.py``'s settings and the pictures' fixed margins buy, each measured alone.

Four side-by-side measurements, alternating the two variants ``--rounds`` times and printing medians:

- imports: a fresh process importing ``lstm_mnist.apps.cli``, as shipped (collector paused during the
  programs' imports) and with the package's pause undone (collector on throughout);
- exit: a fresh process that imports Lightning and exits, with and without ``gc.freeze`` first;
- optimizer step: a fused Adam step of the seed's LSTM with Lightning's
  ``PYTORCH_NVML_BASED_CUDA_CHECK=1`` and with the probe skipped (meaningful only on a machine
  without NVIDIA's driver, where the probe fails);
- pictures: the three TensorBoard pictures rendered and PNG-encoded as shipped, and as drawn by
  ``callbacks.py`` (now ``training/figures.py``) before the fixed margins (read from git: run it in a
  clone with history).

    python benchmarks/overheads.py [--rounds 3]
"""

import argparse
import functools
import os
import statistics
import subprocess
import sys
import time
import types

PICTURES_BEFORE = "c604a82"  # the last commit whose pictures used tight_layout

# Seconds from process start to now, read from /proc (Linux): what a fresh process spent before this line.
SINCE_START = (
    "import os; start = int(open('/proc/self/stat').read().rsplit(')', 1)[1].split()[19]); "
    "uptime = float(open('/proc/uptime').read().split()[0]); "
    "print(uptime - start / os.sysconf('SC_CLK_TCK'))"
)


# Each measurement takes ``changed``: True measures the project as it is, False without the change.


def import_seconds(changed: bool) -> float:
    # Without the change: gc.disable made a no-op, so the package's pause leaves the collector on.
    undo = "" if changed else "import gc; gc.disable = lambda: None; "
    code = f"{undo}import lstm_mnist.apps.cli; {SINCE_START}"
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def exit_seconds(changed: bool) -> float:
    """Wall time of the whole process minus the time until its last line: what exiting took."""
    code = f"import gc, lightning; {'gc.freeze(); ' if changed else ''}{SINCE_START}"
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return time.perf_counter() - start - float(result.stdout)


def adam_step_ms(changed: bool, steps: int = 1000) -> float:
    import torch

    os.environ["PYTORCH_NVML_BASED_CUDA_CHECK"] = "0" if changed else "1"
    model = torch.nn.LSTM(28, 64, batch_first=True)
    optimizer = torch.optim.Adam(model.parameters(), fused=True)
    model(torch.rand(50, 28, 28))[0].sum().backward()
    optimizer.step()
    start = time.perf_counter()
    for _ in range(steps):
        optimizer.step()
    return (time.perf_counter() - start) / steps * 1000


def picture_set_ms(changed: bool) -> float:
    import torch
    from torch.utils.tensorboard._utils import figure_to_image
    from torch.utils.tensorboard.summary import image

    pictures = current_pictures() if changed else pictures_before()
    generator = torch.Generator().manual_seed(0)
    confusion = torch.randint(0, 8, (10, 10), generator=generator) + torch.eye(10, dtype=torch.long) * 980
    images, labels = torch.rand(32, 28, 28, generator=generator), torch.randint(0, 10, (32,), generator=generator)
    start = time.perf_counter()
    for figure in (
        pictures.confusion_figure(confusion),
        pictures.misclassified_figure(images, labels, labels.roll(1)),
        pictures.answer_forms_figure(torch.rand(10, 28, generator=generator)),
    ):
        image("picture", figure_to_image(figure), dataformats="CHW")
    return (time.perf_counter() - start) * 1000


def current_pictures():
    from lstm_mnist.training import figures

    return figures


@functools.cache
def pictures_before():
    """``callbacks.py`` as it was before the fixed margins (commit c604a82), read from git."""
    source = subprocess.run(
        ["git", "show", f"{PICTURES_BEFORE}:src/lstm_mnist/callbacks.py"], capture_output=True, text=True, check=True
    ).stdout
    module = types.ModuleType("callbacks_before")
    exec(compile(source, "callbacks_before.py", "exec"), module.__dict__)
    return module


MEASUREMENTS = (
    ("imports (s)", import_seconds, "collector on", "collector paused"),
    ("exit after importing Lightning (s)", exit_seconds, "no freeze", "gc.freeze"),
    ("fused Adam step (ms)", adam_step_ms, "NVML probe", "probe skipped"),
    ("three pictures (ms)", picture_set_ms, "tight_layout", "fixed margins"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"| measurement | without the change | with it | median without | median with ({args.rounds} rounds) |")
    print("| --- | --- | --- | --- | --- |")
    for name, measure, before, after in MEASUREMENTS:
        measure(False), measure(True)  # warm the caches (files, fonts) for both
        results = {False: [], True: []}
        for _ in range(args.rounds):
            for changed in (False, True):
                results[changed].append(measure(changed))
        without, with_ = (statistics.median(results[changed]) for changed in (False, True))
        print(f"| {name} | {before} | {after} | {without:.3f} | {with_:.3f} |", flush=True)


if __name__ == "__main__":
    main()
