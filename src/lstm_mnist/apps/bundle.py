"""``python -m lstm_mnist.apps.bundle --ckpt_path LAST --recipe R --seed S``: a fit's checkpoint made
into the model the package ships (storage/bundled_model.py), its MNIST test figure measured and
written into it, and the same model as ONNX beside it (for ``lstm-mnist read``). A digit
classifier becomes ``bundled/digit-reader.ckpt``, a number reader ``bundled/number-reader.ckpt``
(its figures: whole numbers and the character error rate on the 10k MNIST test lines).

Kept: the weights, the hyperparameters (which rebuild the network), what the model learned from,
the step it was written at. Dropped: what only resuming needs (the optimizer's state, the loops',
the callbacks', where the batches stood), which would triple the file and name folders of the
machine that trained it. The same checkpoint gives the same file, byte for byte.
"""

import argparse
import io
import sys

import torch

from lstm_mnist.apps.export import export
from lstm_mnist.apps.program import program
from lstm_mnist.data.mnist import MNISTDataModule, data_state_key
from lstm_mnist.data.number_lines import NumberLinesDataModule
from lstm_mnist.errors import UserInputError
from lstm_mnist.nets.network import class_path
from lstm_mnist.storage.atomic import write_atomically
from lstm_mnist.storage.bundled_model import CARD_KEY, bundled_path, onnx_beside
from lstm_mnist.storage.checkpoint_reader import read_checkpoint
from lstm_mnist.training.confusions import confusion_matrix
from lstm_mnist.training.digit_classifier import DigitClassifier
from lstm_mnist.training.number_reader import NumberReader, best_paths, spelled
from lstm_mnist.training.number_scores import NumberTally

LARGEST = 4 * 2**20  # bytes: the package must stay small to install
KEPT = ("state_dict", "hyper_parameters", "pytorch-lightning_version", "epoch", "global_step")


def mnist_test_accuracy(model: DigitClassifier, data_dir: str | None) -> tuple[float, torch.Tensor]:
    """``(accuracy, confusion [true, predicted])`` of ``model`` on MNIST's 10k test images."""
    data = MNISTDataModule(data_dir=data_dir, download=False)
    data.setup("test")
    images, labels = data.splits["test"]
    with torch.inference_mode():
        predicted = torch.cat([model(images[i : i + 1000]).argmax(dim=1) for i in range(0, len(labels), 1000)])
    return float((predicted == labels).float().mean()), confusion_matrix(labels, predicted)


def mnist_test_lines_scores(model: NumberReader, data_dir: str | None) -> tuple[float, float]:
    """``(whole numbers right, character error rate)`` of ``model`` on the 10k MNIST test lines."""
    data = NumberLinesDataModule(data_dir=data_dir, download=False)
    data.setup("test")
    tally = NumberTally()
    with torch.inference_mode():
        for lines, widths, digits, lengths in data.test_dataloader():
            logits = model(lines, widths)
            reads = spelled(*best_paths(logits, model.steps(widths).clamp(max=logits.shape[1])))
            for truth, read in zip(spelled(digits, lengths), reads):
                tally.add(truth, read)
    return tally.accuracy, tally.character_error_rate


def bundle(ckpt_path: str, recipe: str, seed: int, data_dir: str | None, output) -> str:
    checkpoint = read_checkpoint(ckpt_path)
    numbers = checkpoint["hyper_parameters"].get("_class_path") == class_path(NumberReader)
    model = (NumberReader if numbers else DigitClassifier).from_checkpoint(checkpoint, ckpt_path).eval()
    output = output or bundled_path(model.bundled_file)
    shipped = {key: checkpoint[key] for key in KEPT if key in checkpoint}
    data_state = data_state_key(checkpoint)
    shipped[data_state] = {"trained_on": (checkpoint.get(data_state) or {}).get("trained_on")}
    if numbers:
        accuracy, error_rate = mnist_test_lines_scores(model, data_dir)
        figures = {"test_lines_acc": accuracy, "test_lines_cer": error_rate}
        figure = f"{accuracy:.2%} of MNIST's 10k test lines read whole, character error rate {error_rate:.2%}"
    else:
        accuracy, confusion = mnist_test_accuracy(model, data_dir)
        figures = {"mnist_test_acc": accuracy, "mnist_test_confusion": confusion.tolist()}
        figure = f"{accuracy:.2%} on MNIST's test set"
    shipped[CARD_KEY] = {"recipe": recipe, "seed": seed, **figures, "step": checkpoint.get("global_step")}
    buffer = io.BytesIO()
    torch.save(shipped, buffer)
    if buffer.tell() > LARGEST:
        raise UserInputError(f"{ckpt_path} makes a file of {buffer.tell() / 2**20:.1f} MiB: at most 4 MiB ships")
    write_atomically(output, lambda file: file.write(buffer.getvalue()))
    # The same model for onnxruntime, beside it, for `lstm-mnist read` (no torch to import): written
    # only after its parity with PyTorch on the 10k test set is checked (apps/export.py).
    exported = export(str(output), str(onnx_beside(output)), data_dir)
    return f"wrote {output} ({buffer.tell() / 2**20:.2f} MiB): {model.description}, {figure}\n{exported}"


def main(args: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m lstm_mnist.apps.bundle", description="Make a fit's checkpoint the model the package ships."
    )
    parser.add_argument("--ckpt_path", required=True, help="the fit's checkpoint (its last.ckpt)")
    parser.add_argument("--recipe", required=True, help="the config that trained it, as the card names it")
    parser.add_argument("--seed", type=int, required=True, help="the seed it was trained with (--seed_everything)")
    parser.add_argument("--data_dir", help="folder holding MNIST/raw/ (default: $LSTM_MNIST_DATA_DIR or data)")
    parser.add_argument("--output", help="the file to write (default: the package's, for a digit or a number reader)")
    options = parser.parse_args(args)
    with program():
        print(bundle(options.ckpt_path, options.recipe, options.seed, options.data_dir, options.output))


if __name__ == "__main__":
    main(sys.argv[1:])
