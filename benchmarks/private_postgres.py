"""A PostgreSQL server of the benchmark's own, in a temporary folder.

The chaos run restarts PostgreSQL in the middle of the load. Restarting the
machine's shared server would break whatever else uses it (another test run,
another session), so the load runs on a server of its own: ``initdb`` into a
fresh folder, started with ``pg_ctl`` on a free port of 127.0.0.1, trust
authentication, PostgreSQL's default settings; stopped and deleted at the end.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

#: The user the server runs as when we are root: PostgreSQL refuses to run as root.
SERVER_USER = "postgres"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server programs on this machine, or the server would not start."""


def _bindir() -> Path:
    found = shutil.which("pg_config")
    if found:
        done = subprocess.run([found, "--bindir"], capture_output=True, text=True, check=False)
        candidate = Path(done.stdout.strip())
        if (candidate / "pg_ctl").is_file():
            return candidate
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    if not versions:
        raise PostgresUnavailable("no pg_ctl found: install PostgreSQL's server package")
    return Path(versions[-1]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PrivatePostgres:
    """A context manager: a running server of our own; :attr:`url` speaks to it."""

    def __init__(self) -> None:
        self.bin = _bindir()
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="bluepaid-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)

    def _ctl(self, action: str, *extra: str) -> subprocess.CompletedProcess[str]:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        return self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-o", options, action, *extra
        )

    def __enter__(self) -> PrivatePostgres:
        if os.geteuid() == 0:
            user = pwd.getpwnam(SERVER_USER)
            os.chown(self.root, user.pw_uid, user.pw_gid)
        done = self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        if done.returncode:
            self._remove()
            raise PostgresUnavailable(f"initdb failed: {done.stderr.strip()[-500:]}")
        done = self._ctl("start")
        if done.returncode:
            self._remove()
            raise PostgresUnavailable(f"the server would not start: {done.stderr.strip()[-500:]}")
        return self

    def restart(self) -> str:
        """Restart the server (fast shutdown: every connection is cut), wait until it answers."""
        done = self._ctl("restart", "-m", "fast")
        failure = f": {done.stderr.strip()[-300:]}" if done.returncode else ""
        return f"PostgreSQL restarted (exit {done.returncode}{failure})"

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        self._remove()

    def _remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
