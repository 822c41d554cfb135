"""DDP on CPU processes: metrics reduced across ranks, rank 0 alone writes, the result reloads; the
README's torchrun line rehearsed with two "nodes" on 127.0.0.1, and one of them killed."""

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from helpers.paths import ROOT
from helpers.ports import free_port
from helpers.reading import accuracy, only, read_scalars, readme_block
from helpers.running import TINY_ARGS, cli_environment, command_line, run_cli
from helpers.waiting import wait_until
from lstm_mnist import DigitClassifier, MNISTDataModule

pytestmark = [
    pytest.mark.slow,  # torchrun's processes, several runs
    pytest.mark.skipif(
        not torch.distributed.is_available() or sys.platform == "win32", reason="needs torch.distributed"
    ),
]
ONE_EPOCH = ["fit", *TINY_ARGS, "--trainer.max_epochs", "1", "--trainer.enable_progress_bar", "false"]
# A GRU reading permuted pixels: every rank must draw the same permutation from the seed. 784 steps a
# sequence: batches of 25, so an epoch of the 500 training images is 10 steps a rank (20 if the ranks
# did not share them), validated at the end; no sanity check (it changes no number of the run), one
# test batch.
DDP_RUN = [*ONE_EPOCH, "--model.order", "permuted", "--model.cell", "gru", "--model.hidden_size", "8"]
DDP_RUN += ["--data.batch_size", "25", "--trainer.val_check_interval", "10"]
DDP_RUN += ["--trainer.num_sanity_val_steps", "0", "--trainer.limit_test_batches", "1"]


def two_process_fit(root: Path, data_dir: Path, *flags: str):
    return run_cli(
        *flags,
        *("--trainer.accelerator", "cpu", "--trainer.devices", "2", "--trainer.strategy", "ddp"),
        root=root,
        data_dir=data_dir,
    )


def check_two_process_run(root: Path, result, data_dir: Path, steps: int) -> None:
    assert "Initializing distributed: GLOBAL_RANK: 1, MEMBER: 2/2" in result.out + result.err
    runs = list((root / "lightning_logs").iterdir())
    assert [run.name for run in runs] == ["version_0"]  # one run folder, written by rank 0
    run_dir = runs[0]
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["trainer"]["strategy"] == "ddp"
    checkpoints = sorted(path.name for path in (run_dir / "checkpoints").iterdir())
    assert len(checkpoints) == 2 and "last.ckpt" in checkpoints  # best + last, no per-rank copies
    assert "last checkpoint:       " + str(run_dir / "checkpoints" / "last.ckpt") in result.out
    assert "trained on:            cpu, 2 processes" in result.out

    # Each rank took its own half of the training images (an epoch is ``steps``, not twice as many)
    # and validated half of the 100.
    scalars = read_scalars(run_dir)
    assert [step for step, _ in scalars["val/acc"]] == [steps]
    logged = scalars["val/acc"][0][1]
    best = run_dir / "checkpoints" / next(name for name in checkpoints if name.startswith("best"))
    model = DigitClassifier.load_from_checkpoint(best, map_location="cpu").eval()
    data = MNISTDataModule(data_dir=str(data_dir), val_size=100)
    data.setup("fit")
    images, labels = data.splits["val"]
    assert logged == pytest.approx(accuracy(model, images, labels), abs=1e-6)  # the accuracy over both ranks' halves


def readme_torchrun(node_rank: int, port: int) -> list[str]:
    """The README's torchrun line for M machines of N GPUs, word for word but for its placeholders:
    two machines of one process each, both on 127.0.0.1, on the CPU (``--trainer.accelerator cpu``
    after the README's flags overrides ``configs/ddp.yaml``'s GPUs)."""
    block = readme_block("torchrun --nnodes", language="bash").replace("\\\n", " ")
    [line] = [line for line in block.splitlines() if line.startswith("torchrun ")]
    placeholders = {"M": "2", "N": "1", "R": str(node_rank), "HOST": "127.0.0.1", "29500": str(port)}
    words = [placeholders.get(word, word) for word in shlex.split(line.split("#")[0])]
    # torchrun of this interpreter: python -m torch.distributed.run is the same program
    return [sys.executable, "-m", "torch.distributed.run", *words[1:], "--trainer.accelerator", "cpu"]


def start_node(node_rank: int, port: int, flags: list[str], root: Path, data_dir: Path, output: Path):
    """A node's torchrun, its output in ``output``; the folder torchrun makes for each run's logs (and
    leaves) in ``output``'s folder, not in /tmp."""
    command = command_line([*readme_torchrun(node_rank, port), *flags, "--trainer.devices", "1"], root)
    environment = cli_environment(data_dir, OMP_NUM_THREADS="1", TMPDIR=str(output.parent))
    with open(output, "w") as file:
        return subprocess.Popen(command, cwd=ROOT, env=environment, stdout=file, stderr=subprocess.STDOUT)


def test_two_processes_on_one_machine_and_the_readme_torchrun_line_on_two_nodes_train_the_same(tiny_data, tmp_path):
    """``DDP_RUN`` by two processes on one machine: validation reduced over both ranks' halves,
    rank 0 alone writes, the best checkpoint reloads. Then two "machines" on 127.0.0.1, each a
    torchrun of one process (gloo over TCP): the same run, to the bit; rank 0 alone writes. (One
    test: the two-process run is the reference, which two test processes would each train.)"""
    result = two_process_fit(tmp_path / "one_machine", tiny_data, *DDP_RUN)
    check_two_process_run(tmp_path / "one_machine", result, tiny_data, steps=10)

    port = free_port()
    root = tmp_path / "two_nodes"
    nodes = [start_node(rank, port, DDP_RUN[1:], root, tiny_data, tmp_path / f"node{rank}.txt") for rank in (0, 1)]
    for rank, node in enumerate(nodes):
        assert node.wait(timeout=180) == 0, (tmp_path / f"node{rank}.txt").read_text()[-3000:]
    run = only((root / "lightning_logs").iterdir())
    single = tmp_path / "one_machine" / "lightning_logs" / "version_0"
    for name in ("last.ckpt", "best-step=10-*.ckpt"):
        mine = torch.load(only((run / "checkpoints").glob(name)), weights_only=True)["state_dict"]
        reference = torch.load(only((single / "checkpoints").glob(name)), weights_only=True)["state_dict"]
        assert all(torch.equal(mine[key], reference[key]) for key in reference), name
    assert read_scalars(run)["val/acc"] == read_scalars(single)["val/acc"]
    assert read_scalars(run)["test/acc"] == read_scalars(single)["test/acc"]
    # one writer: every events file carries rank 0's process id; node 1 printed no summary
    assert len({path.name.split(".")[4] for path in run.glob("events.out.tfevents.*")}) == 1
    assert "last checkpoint:" in (tmp_path / "node0.txt").read_text()
    assert "last checkpoint:" not in (tmp_path / "node1.txt").read_text()


def descendants(pid: int) -> list[int]:
    """``pid`` and every process under it (torchrun's workers run in a session of their own, so
    killing torchrun's process group would leave them running)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, waiting = [], [pid]
    while waiting:
        found.append(waiting.pop())
        waiting += children.get(found[-1], [])
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds torchrun's workers through /proc")
def test_a_node_killed_mid_run_makes_the_other_stop_with_one_line(tiny_data, tmp_path):
    """A machine lost mid-training (its torchrun and worker killed with SIGKILL): the other node's
    worker meets the closed connection at its next step and stops within seconds, with one line.
    The machine killed is node 0, which also holds the rendezvous: the survivor loses both. (Killing
    node 1 instead stopped node 0 the same way, in 0.6 s: "Connection closed by peer".)"""
    killed = 0
    port = free_port()
    # 50 steps, last.ckpt every 2 from the start: the kill comes at the first
    flags = [*ONE_EPOCH[1:], "--trainer.val_check_interval", "2", "--trainer.num_sanity_val_steps", "0"]
    nodes = [start_node(rank, port, flags, tmp_path, tiny_data, tmp_path / f"node{rank}.txt") for rank in (0, 1)]
    wait_until(lambda: list(tmp_path.rglob("last.ckpt")), seconds=120)
    for pid in descendants(nodes[killed].pid):
        os.kill(pid, signal.SIGKILL)
    survivor = nodes[1 - killed]
    started = time.monotonic()
    try:
        code = survivor.wait(timeout=60)
    finally:
        for pid in descendants(survivor.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    output = (tmp_path / f"node{1 - killed}.txt").read_text()
    assert code != 0 and time.monotonic() - started < 60, output[-3000:]
    [error] = [line for line in output.splitlines() if line.startswith("error:")]
    assert error.startswith("error: another process of this distributed run stopped (Connection"), output[-3000:]
    assert "Traceback" not in output.split("error:")[0], output[-3000:]  # (torchrun reports the exit after it)
    torch.load(only(tmp_path.rglob("last.ckpt")), weights_only=True)  # whole
