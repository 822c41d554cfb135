"""The start-up settings that make a run cheaper must not change what a process does otherwise."""

import ctypes
import gc
import json
import os
import subprocess
import sys
import weakref

import pytest

import lstm_mnist.apps
from lstm_mnist.apps.process import collector_paused, freeze_imported_objects, skip_missing_nvml_probe

# A fresh process imports the package and its network, and says what changed.
IMPORT_AND_REPORT = """
import gc, json, os, sys
environment, collector = dict(os.environ), gc.isenabled()
import lstm_mnist
import lstm_mnist.nets.recurrent
print(json.dumps({
    "environment_unchanged": dict(os.environ) == environment,
    "collector_unchanged": gc.isenabled() == collector,
    "frozen": gc.get_freeze_count(),
    "heavy_imports": sorted(m for m in ("lightning", "torchvision", "PIL", "matplotlib") if m in sys.modules),
}))
"""


@pytest.mark.slow  # a fresh process
def test_importing_the_package_and_its_network_changes_nothing_and_imports_only_torch():
    report = json.loads(
        subprocess.run([sys.executable, "-c", IMPORT_AND_REPORT], capture_output=True, text=True, check=True).stdout
    )
    assert report == {"environment_unchanged": True, "collector_unchanged": True, "frozen": 0, "heavy_imports": []}


def test_the_garbage_collector_runs_after_the_programs_are_imported():
    assert lstm_mnist.apps.__doc__ and gc.isenabled()  # imported with the collector paused, then switched back on


def test_collector_paused_switches_it_back_on_after_an_error_and_leaves_it_off_if_it_was():
    with pytest.raises(ImportError), collector_paused():
        assert not gc.isenabled()
        raise ImportError("a missing module")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_nvml_probe_is_skipped_only_where_the_library_cannot_load(monkeypatch):
    def missing(name):
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setenv("PYTORCH_NVML_BASED_CUDA_CHECK", "1")
    monkeypatch.setattr(ctypes, "CDLL", missing)
    skip_missing_nvml_probe()
    assert os.environ["PYTORCH_NVML_BASED_CUDA_CHECK"] == "0"

    monkeypatch.setenv("PYTORCH_NVML_BASED_CUDA_CHECK", "1")
    monkeypatch.setattr(ctypes, "CDLL", lambda name: object())  # a machine with NVIDIA's driver
    skip_missing_nvml_probe()
    assert os.environ["PYTORCH_NVML_BASED_CUDA_CHECK"] == "1"


def test_objects_are_frozen_once_per_process_so_later_runs_garbage_is_still_collected():
    freeze_imported_objects()  # as the first run in a process does (or a no-op after one)
    frozen = gc.get_freeze_count()
    assert frozen > 0

    class Leftover:  # what a finished run leaves: a cycle only the collector can free
        pass

    leftover = Leftover()
    leftover.itself = leftover
    gone = weakref.ref(leftover)
    del leftover
    freeze_imported_objects()  # a second run in the same process
    assert gc.get_freeze_count() == frozen
    gc.collect()
    assert gone() is None
