"""A throwaway PostgreSQL server for the tests: Debian's ``postgresql`` package (on the machine
image; ``.ci/run`` installs it where missing), its data in a temporary folder, listening on
127.0.0.1 on a free port, stopped and removed afterwards."""

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from helpers.ports import free_port


@contextlib.contextmanager
def postgres_server(database: str = "lstm_mnist_sweeps"):
    """Yields the URL of an empty database on a server of its own. PostgreSQL refuses to run as
    root, so a root process (CI) runs it as the ``postgres`` user, in a folder that user owns."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    assert found, "PostgreSQL's server is not installed: apt-get install postgresql (.ci/run does so)"
    programs = Path(found[-1]).parent
    folder = Path(tempfile.mkdtemp(prefix="lstm-mnist-postgres-"))
    as_server_user = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        as_server_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()

    def run(*command) -> None:
        subprocess.run([*as_server_user, *map(str, command)], check=True, capture_output=True, text=True)

    try:
        run(programs / "initdb", "-D", folder / "data", "-A", "trust", "-U", "postgres", "--no-sync")
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        run(programs / "pg_ctl", "-D", folder / "data", "-l", folder / "server.log", "-o", options, "-w", "start")
        run(programs / "createdb", "-h", "127.0.0.1", "-p", port, "-U", "postgres", database)
        yield f"postgresql://postgres:unused@127.0.0.1:{port}/{database}"
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            run(programs / "pg_ctl", "-D", folder / "data", "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)
