"""The demo page under load: how long a visitor waits when many send a picture at once.

    python benchmarks/demo_load.py --ckpt_path CKPT [--clients 20] [--data-dir ../shared/data]

Starts ``python demo.py`` as a process of its own on a free port of 127.0.0.1 (so the clients' work
does not share its interpreter), then, through Gradio's own client and the page's HTTP API: five
uploads one after another (the latency of a visitor alone), and ``--clients`` clients uploading
their own MNIST test digit (a PNG of dark ink on white, as a user saves one) at the same instant.
Prints the median and 95th percentile of each, and how many answers were each client's own (the
page's answer for that picture, read alone). Without ``--data-dir`` the pictures are noise: the
timings hold, the answers are arbitrary.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the tests' free-port helper

from helpers.ports import free_port  # noqa: E402


def pictures(folder: Path, count: int, data_dir: str | None) -> list[Path]:
    if data_dir:
        from lstm_mnist.data.mnist import MNISTDataModule

        data = MNISTDataModule(data_dir=data_dir)
        data.setup("test")
        images = (255 - data.splits["test"][0][:count].numpy() * 255).round().astype("uint8")
    else:
        images = np.random.default_rng(0).integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
    paths = []
    for index, image in enumerate(images):
        paths.append(folder / f"digit{index}.png")
        Image.fromarray(image).resize((112, 112)).save(paths[-1])
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ckpt_path", required=True)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--data-dir", default=None)
    options = parser.parse_args()
    from gradio_client import Client, handle_file

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "demo.py"), "--ckpt_path", options.ckpt_path, "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        server.stdout.readline()  # "demo page: ..." once the page is built
        url = f"http://127.0.0.1:{port}"
        client = None
        for _ in range(100):  # the server starts listening just after it says so
            try:
                client = Client(url, verbose=False)
                break
            except Exception:
                time.sleep(0.1)
        with tempfile.TemporaryDirectory() as folder:
            paths = pictures(Path(folder), options.clients, options.data_dir)
            own = [client.predict(handle_file(str(path)), api_name="/upload")[0] for path in paths]
            alone = []
            for _ in range(5):
                started = time.perf_counter()
                client.predict(handle_file(str(paths[0])), api_name="/upload")
                alone.append(time.perf_counter() - started)

            clients = [Client(url, verbose=False) for _ in paths]
            answers, waits = [None] * len(paths), [0.0] * len(paths)
            barrier = threading.Barrier(len(paths))

            def visit(index: int) -> None:
                barrier.wait()
                started = time.perf_counter()
                answers[index] = clients[index].predict(handle_file(str(paths[index])), api_name="/upload")[0]
                waits[index] = time.perf_counter() - started

            visitors = [threading.Thread(target=visit, args=(index,)) for index in range(len(paths))]
            for visitor in visitors:
                visitor.start()
            for visitor in visitors:
                visitor.join()
        p95 = statistics.quantiles(waits, n=20)[18] if len(waits) > 1 else waits[0]
        print(f"alone: median {statistics.median(alone):.3f} s (5 uploads)")
        print(f"{len(paths)} at once: median {statistics.median(waits):.3f} s, p95 {p95:.3f} s, max {max(waits):.3f} s")
        print(f"answers that were the client's own: {sum(a == b for a, b in zip(answers, own))} of {len(paths)}")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
