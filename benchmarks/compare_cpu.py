"""Whole-process timing: the reference loop and the floor against ``train.py fit --config configs/seed.yaml``.

Runs the three programs in turn (so all meet the same machine load), several times each, then
prints the median wall time, both ratios, peak resident memory and test accuracy on the full 10k
test set. The reference loop is the tutorial's (``reference_loop.py``); the floor is the same
recipe as a bare in-memory loop (``floor_loop.py``). The project's accuracy comes from
``train.py test`` on the run's last checkpoint, which is not timed.

    python benchmarks/compare_cpu.py --data-dir ../shared/data [--runs 3] [--epochs 3]
"""

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB and the output of one whole process, via GNU time."""
    result = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M", *command], capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    seconds, kilobytes = re.findall(r"TIME ([\d.]+) (\d+)", result.stderr)[-1]
    return float(seconds), int(kilobytes) / 1024, result.stdout + result.stderr


def project_test_accuracy(run_root: Path, data_dir: str) -> float:
    last = run_root / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
    result = subprocess.run(
        [
            sys.executable,
            "train.py",
            "test",
            "--ckpt_path",
            str(last),
            "--data.data_dir",
            data_dir,
            "--trainer.default_root_dir",
            str(run_root),
            "--trainer.enable_progress_bar",
            "false",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return float(re.search(r"test/acc\b[^\d\n]*([\d.]+)", result.stdout).group(1))  # a plain or a rich table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--config", default="configs/seed.yaml")
    args = parser.parse_args()

    rows: dict[str, list[tuple[float, float, float]]] = {"reference loop": [], "train.py fit": [], "floor loop": []}
    for run in range(args.runs):
        seconds, megabytes, output = timed(
            [
                sys.executable,
                "benchmarks/reference_loop.py",
                "--data-dir",
                args.data_dir,
                "--epochs",
                str(args.epochs),
                "--seed",
                str(run),
            ]
        )
        accuracy = float(re.search(r"RESULT test_acc=([\d.]+)", output).group(1))
        rows["reference loop"].append((seconds, megabytes, accuracy))
        print(f"run {run}: reference loop {seconds:.1f} s, {megabytes:.0f} MB, test acc {accuracy:.4f}", flush=True)

        with tempfile.TemporaryDirectory() as run_root:
            seconds, megabytes, _ = timed(
                [
                    sys.executable,
                    "train.py",
                    "fit",
                    "--config",
                    args.config,
                    "--data.data_dir",
                    args.data_dir,
                    "--trainer.max_epochs",
                    str(args.epochs),
                    "--seed_everything",
                    str(run),
                    "--trainer.default_root_dir",
                    run_root,
                ]
            )
            accuracy = project_test_accuracy(Path(run_root), args.data_dir)
        rows["train.py fit"].append((seconds, megabytes, accuracy))
        print(f"run {run}: train.py fit   {seconds:.1f} s, {megabytes:.0f} MB, test acc {accuracy:.4f}", flush=True)

        seconds, megabytes, output = timed(
            [sys.executable, "benchmarks/floor_loop.py", "--data-dir", args.data_dir, "--epochs", str(args.epochs)]
            + ["--seed", str(run)]
        )
        accuracy = float(re.search(r"RESULT test_acc=([\d.]+)", output).group(1))
        rows["floor loop"].append((seconds, megabytes, accuracy))
        print(f"run {run}: floor loop     {seconds:.1f} s, {megabytes:.0f} MB, test acc {accuracy:.4f}", flush=True)

    print(f"\n{args.epochs} epochs, {args.runs} runs each, alternating; project config {args.config}")
    print("| program | median wall s | runs (s) | peak RSS MB (max) | test acc (median) |")
    print("| --- | --- | --- | --- | --- |")
    medians = {}
    for name, values in rows.items():
        medians[name] = statistics.median(v[0] for v in values)
        runs = ", ".join(f"{v[0]:.1f}" for v in values)
        accuracy = statistics.median(v[2] for v in values)
        print(f"| {name} | {medians[name]:.1f} | {runs} | {max(v[1] for v in values):.0f} | {accuracy:.4f} |")
    project = medians["train.py fit"]
    print(f"\nratio train.py / reference loop (medians): {project / medians['reference loop']:.2f}")
    print(f"ratio train.py / floor loop (medians):     {project / medians['floor loop']:.2f}")


if __name__ == "__main__":
    main()
