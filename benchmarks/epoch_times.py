"""Seconds per training epoch (validation every 50 steps included) over a grid of settings.

Every setting runs ``train.py fit`` in this one process (start-up is paid once and excluded)
for ``--epochs`` epochs; the table reports the last epoch, the first one carrying warm-up.

    python benchmarks/epoch_times.py --data-dir ../shared/data --hidden 64 128 256 --batch 50 256 1024
    python benchmarks/epoch_times.py --data-dir D --hidden 64 --batch 50 -- --config configs/gpu.yaml
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from epoch_timer import fit_epoch_seconds  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--hidden", type=int, nargs="+", default=[64])
    parser.add_argument("--batch", type=int, nargs="+", default=[50])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("extra", nargs="*", help="more train.py arguments, after --")
    args = parser.parse_args()

    rows = []
    for hidden in args.hidden:
        for batch in args.batch:
            seconds = fit_epoch_seconds(
                [
                    *args.extra,
                    "--data.data_dir",
                    args.data_dir,
                    "--model.hidden_size",
                    str(hidden),
                    "--data.batch_size",
                    str(batch),
                    "--trainer.max_epochs",
                    str(args.epochs),
                ]
            )
            rows.append((hidden, batch, seconds[-1], seconds))
            print(f"hidden {hidden} batch {batch}: epochs {', '.join(f'{s:.2f}' for s in seconds)} s", flush=True)

    print(f"\nextra arguments: {' '.join(args.extra) or '(none)'}")
    print(f"| hidden | batch | s / epoch (last of {args.epochs}) |")
    print("| --- | --- | --- |")
    for hidden, batch, last, _ in rows:
        print(f"| {hidden} | {batch} | {last:.2f} |")


if __name__ == "__main__":
    main()
