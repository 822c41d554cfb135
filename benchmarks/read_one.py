"""What reading one picture costs a user: ``lstm-mnist read`` against the floor of importing what it
needs (``python -c "import onnxruntime, PIL.Image"``) and against ``lstm-mnist predict``, each a
whole process, timed alternately in one run: wall time and peak memory (the process's own
``ru_maxrss``, from ``os.wait4``).

    python benchmarks/read_one.py --data-dir ../shared/data [--rounds 5]

The pictures are MNIST test digits saved as users save them (tests/helpers/user_style_pictures.py):
one for the single-picture rows, 100 for the last. Every command uses the bundled model.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMAND = str(Path(sys.executable).parent / "lstm-mnist")
BUNDLED = str(ROOT / "src" / "lstm_mnist" / "bundled" / "digit-reader.ckpt")
WRITE_PICTURES = f"""
import sys
sys.path.insert(0, {str(ROOT / "tests")!r})
from pathlib import Path
from helpers.user_style_pictures import write_user_style_digits
from lstm_mnist.data.mnist import MNISTDataModule
data = MNISTDataModule(data_dir=sys.argv[1])
data.setup("test")
images, labels = data.splits["test"]
write_user_style_digits(images[:100], labels[:100], Path(sys.argv[2]))
"""


def timed(command: list[str]) -> tuple[float, float]:
    """``(seconds, peak MiB)`` of one whole process running ``command``; it must succeed."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed: {process.stderr.read().decode()[-2000:]}")
    return seconds, usage.ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, help="folder holding MNIST/raw/")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        where = Path(folder) / "pictures"
        # Made in a process of its own: this one stays small, so that what a child process counts as
        # its peak memory (its image forked from this one counts until it execs) is its own.
        subprocess.run([sys.executable, "-c", WRITE_PICTURES, args.data_dir, str(where)], check=True)
        pictures = sorted(str(path) for path in where.iterdir())
        runs = Path(folder) / "runs"
        commands = {
            "import onnxruntime, PIL.Image": [sys.executable, "-c", "import onnxruntime, PIL.Image"],
            "lstm-mnist read, 1 picture": [COMMAND, "read", pictures[0]],
            "lstm-mnist read, 100 pictures": [COMMAND, "read", *pictures],
            "lstm-mnist read --ckpt_path (PyTorch), 1 picture": [COMMAND, "read", pictures[0], "--ckpt_path", BUNDLED],
            "lstm-mnist predict, 1 picture": [
                COMMAND,
                "predict",
                "--data.predict_path",
                pictures[0],
                "--trainer.default_root_dir",
                str(runs),
            ],
        }
        results = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, command in commands.items():  # alternately: the machine's drift hits all alike
                results[name].append(timed(command))
    floor = statistics.median(seconds for seconds, _ in results["import onnxruntime, PIL.Image"])
    print(f"{args.rounds} rounds, medians; {os.cpu_count()} CPUs")
    print("| command | wall | x floor | peak memory |\n| --- | --- | --- | --- |")
    for name, measured in results.items():
        seconds = statistics.median(s for s, _ in measured)
        memory = statistics.median(m for _, m in measured)
        print(f"| {name} | {seconds:.2f} s | {seconds / floor:.1f}x | {memory:.0f} MiB |")


if __name__ == "__main__":
    main()
