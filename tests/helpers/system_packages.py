"""What some tests need that pip cannot bring: Debian packages, which
``tests/install_system_packages.sh`` (the first step of the README's test command) installs where it
can. Where one is missing, those tests are skipped with the reason; under ``CI=true`` a skip fails
(conftest.py), so CI runs every test."""

import shutil
import subprocess

import pytest

INSTALLER = "tests/install_system_packages.sh"


def installed(package: str) -> bool:
    """Whether Debian's package manager has ``package`` installed (False where there is none)."""
    if shutil.which("dpkg-query") is None:
        return False
    status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
    return status.returncode == 0 and status.stdout.endswith("install ok installed")


def needs_debian_packages(packages: tuple[str, ...], what: str) -> None:
    """Skips the calling test, naming what to install, unless every one of ``packages`` is installed."""
    missing = [package for package in packages if not installed(package)]
    if missing:
        pytest.skip(f"{what} need Debian's {' '.join(missing)}: run {INSTALLER} as root, or apt-get install them")


def needs_program(name: str, package: str, what: str) -> str:
    """The path of the program ``name``; skips the calling test, naming its package, where it is missing."""
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{what} needs {name}: run {INSTALLER} as root, or apt-get install {package}")
    return found
