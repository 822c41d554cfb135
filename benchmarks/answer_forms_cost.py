"""What "how the answer forms" costs: the demo page's answer for one drawing, and the chart at a
validation, against the answer alone and against the per-step readout it replaced.

    python benchmarks/answer_forms_cost.py --ckpt_path CKPT --data-dir ../shared/data [--repeats 20]

A bidirectional network reads each of 28 prefixes anew (``answers_after_steps``): 1 + 2 + ... + 28
= 406 steps against 28, about 14.5 times the work of its answer; a one-directional one still reads
once. Medians of ``--repeats`` timings in this process, on whatever device torch picks (the CPU here).
"""

import argparse
import statistics
import time
from pathlib import Path

import torch

from lstm_mnist.apps.demo import Reader
from lstm_mnist.data.mnist import MNISTDataModule
from lstm_mnist.training.digit_classifier import DigitClassifier
from lstm_mnist.training.pictures import Pictures


def median_seconds(work, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        with torch.inference_mode():
            work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ckpt_path", required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    model = DigitClassifier.load_from_checkpoint(args.ckpt_path, map_location="cpu").eval()
    data = MNISTDataModule(data_dir=args.data_dir)
    data.setup("test")
    images, _ = data.splits["test"]
    one, reader = images[:1], Reader(model)
    net = model.net

    def readout(batch):  # what the chart drew before: the classifier on output[:, t], and the answer
        model(batch)
        net.classifier(net.rnn(net.as_sequence(model.standardize(batch)))[0])

    print(f"{Path(args.ckpt_path).name}: {model.description}, {torch.get_num_threads()} threads")
    print("| work | median |\n| --- | --- |")
    rows = {
        "one drawing: the answer alone": lambda: model(one),
        "one drawing: answer + per-step readout (before)": lambda: readout(one),
        "one drawing: answer + answers after t steps (now)": lambda: model.answer_and_steps(one),
        "one drawing: the demo's whole answer, chart drawn (now)": lambda: reader.answer(one[0]),
    }
    chart = Pictures().chart_images
    validation = images[:5000]
    rows |= {
        "a validation's answers, 5,000 images": lambda: model(validation),
        "the chart before: readout of all 5,000": lambda: readout(validation),
        f"the chart now: answers after t steps, first {chart:,}": lambda: model.answer_and_steps(validation[:chart]),
    }
    for name, work in rows.items():
        repeats = args.repeats if "one drawing" in name else max(3, args.repeats // 5)
        print(f"| {name} | {median_seconds(work, repeats) * 1000:.1f} ms |", flush=True)


if __name__ == "__main__":
    main()
