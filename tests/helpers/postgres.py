"""A throwaway PostgreSQL server for the tests, from a pip wheel: ``pgserver`` carries PostgreSQL's
own binaries (16.2), so the sweep tests need no system server on any machine that pip installs on.
Its data lives in a temporary folder; it listens on a Unix socket there (pgserver opens no TCP port)
and is stopped and removed afterwards. As root it runs the server as a system user of its own
(PostgreSQL refuses root)."""

import contextlib
import tempfile


@contextlib.contextmanager
def postgres_server(database: str = "lstm_mnist_sweeps"):
    """Yields the URL of an empty database ``database`` on a server of its own."""
    import pgserver

    # A fresh folder whose path stays short: a Unix socket's path has at most 107 bytes.
    with tempfile.TemporaryDirectory(prefix="lstm-mnist-pg-") as folder:
        server = pgserver.get_server(f"{folder}/data", cleanup_mode="delete")
        try:
            server.psql(f"CREATE DATABASE {database};")
            yield server.get_uri(database)
        finally:
            server.cleanup()
