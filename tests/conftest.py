"""The suite's fixtures; what the tests share besides them is in ``helpers/``."""

import os

# The suite runs in one process per core (pytest-xdist, see pyproject.toml). PyTorch's own threads
# in each would fight over the same cores: on 2 cores that took over ten minutes instead of two.
# One thread per process is also the faster setting for these small LSTMs. Set before torch loads.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from pathlib import Path

import pytest

# The helpers import torch and Lightning (5 s here): each fixture imports them when it runs, so that
# pytest-xdist's controller, which runs no test, starts its workers at once.


def pytest_collection_modifyitems(items) -> None:
    """The long tests (real MNIST) first, those that share the model ``trained_on_mnist`` trains
    at their head: the model is trained at once, and the test processes end together on short
    tests instead of one idling while the other finishes a 20-second run. (Tried and slower: the tests
    that start processes also moved to the head of each test process's share, 118-120 s against
    112-114 s side by side and 4% more CPU time, most likely as two such tests then ran at once.)"""
    items.sort(
        key=lambda item: (item.get_closest_marker("real_mnist") is None, "trained_on_mnist" not in item.fixturenames)
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Under ``CI=true`` (``.ci/run``, GitHub Actions) a skipped test fails with its reason: CI has
    everything the README's test command installs, so a skip there is a test that did not run."""
    report = yield
    if report.skipped and os.environ.get("CI") == "true" and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, where every test must run: {reason}"
    return report


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    from helpers.tiny_mnist import make_tiny_mnist

    return make_tiny_mnist(tmp_path_factory.mktemp("tiny_data"))


@pytest.fixture(scope="session")
def trained_on_mnist(tmp_path_factory) -> Path:
    """The run folder of one epoch of the default config on the real MNIST (97% on the test set), made
    once for the whole suite: the first test process to ask trains it, the others wait and share it."""
    from filelock import FileLock

    from helpers.paths import REAL_DATA_DIR
    from helpers.running import run_main

    this_session = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # each pytest-xdist worker's folder sits in this session's
        this_session = this_session.parent
    root = this_session / "one_epoch_of_mnist"
    with FileLock(f"{root}.lock"):
        if not (root / "trained").exists():
            # each validation on one batch (1,000 of the 5,000 images): the training is the default's,
            # and the 22 validations cost a fifth (they were a third of this run)
            flags = ["--trainer.max_epochs", "1", "--trainer.limit_val_batches", "1"]
            run_main("fit", *flags, root=root, data_dir=Path(REAL_DATA_DIR))
            (root / "trained").touch()
    return root
