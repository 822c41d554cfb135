"""``lstm-mnist`` (and ``python train.py``): ``read`` answers at once, without importing Lightning
(read_command.py); every other subcommand is the training CLI (apps/cli.py)."""

import sys


def main(args: list[str] | None = None) -> None:
    given = sys.argv[1:] if args is None else list(args)
    if given[:1] == ["read"]:
        from lstm_mnist.read_command import main as read

        read(given[1:])
        return
    from lstm_mnist.apps.cli import main as train

    train(args)  # None: LightningCLI reads sys.argv itself, as it expects
