"""A real pretix for the live test: installed once, migrated once, seeded and served per run.

:func:`pretix_install` installs pretix (from PyPI, pinned) and our plugin
(``connectors/pretix/shop/pretix-bluepaid``) into their own virtual
environment under ``~/.cache/bluepaid-tests`` (or ``$BLUEPAID_TEST_CACHE``),
and migrates a SQLite database there: both are kept, keyed by pretix's version
and a digest of the plugin's files, so only the first run pays for them (a few
minutes). Installs of other versions or digests that no run used for a day
are deleted (:func:`prune_installs`): each is a few hundred megabytes, and
every change to the plugin makes a new one. :func:`running_pretix` copies that
database, seeds it through ``python -m pretix shell`` (``pretix_seed.py``) and
serves pretix on loopback.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "connectors" / "pretix" / "shop" / "pretix-bluepaid"
SEED = Path(__file__).with_name("pretix_seed.py")
#: The pretix release the live test runs against (its REST API and plugin API are what the connector uses).
PRETIX_VERSION = "2026.8.0"
ORGANIZER, EVENT = "bluepaid", "live"
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@localhost", "bluepaid-live-test"
_SKIPPED = {"__pycache__", "build", "dist"}
#: An install no run used for this long is deleted; a run takes minutes, so another
#: checkout's run (with another plugin digest) never loses the install it is using.
UNUSED_FOR = timedelta(days=1)


class PretixUnavailable(Exception):
    """pretix could not be installed or started here; the message says which step failed and why."""


def cache_folder() -> Path:
    return Path(os.environ.get("BLUEPAID_TEST_CACHE") or Path.home() / ".cache" / "bluepaid-tests")


def plugin_digest() -> str:
    """A digest of the plugin's files: a changed plugin is installed again."""
    digest = hashlib.sha256()
    for path in sorted(PLUGIN.rglob("*")):
        parts = set(path.relative_to(PLUGIN).parts)
        if path.is_file() and not parts & _SKIPPED and not any(p.endswith(".egg-info") for p in parts):
            digest.update(str(path.relative_to(PLUGIN)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


@dataclass(frozen=True)
class PretixInstall:
    """pretix and the plugin in their own environment, with a migrated database to copy."""

    python: Path
    data: Path


def pretix_install() -> PretixInstall:
    """The cached installation, made first if missing; raises PretixUnavailable saying why not."""
    cache = cache_folder()
    cache.mkdir(parents=True, exist_ok=True)
    folder = cache / f"pretix-{PRETIX_VERSION}-plugin-{plugin_digest()}"
    # Two test runs at once (several checkouts on one machine) install once.
    with (cache / "pretix.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "ready").exists():
            _install(folder)
        (folder / "used").touch()
        prune_installs(cache, keep=folder)
    return PretixInstall(folder / "venv" / "bin" / "python", folder / "data")


def prune_installs(cache: Path, keep: Path, now: float | None = None) -> list[Path]:
    """Delete the installs in ``cache`` (``pretix-*-plugin-*`` folders) other than ``keep``
    that no run used for :data:`UNUSED_FOR` (by their ``used`` stamp, else the folder's
    own time: one an interrupted install left); return the deleted ones."""
    limit = (time.time() if now is None else now) - UNUSED_FOR.total_seconds()
    deleted = []
    for folder in sorted(cache.glob("pretix-*-plugin-*")):
        if folder == keep or not folder.is_dir():
            continue
        stamp = folder / "used"
        if (stamp if stamp.exists() else folder).stat().st_mtime < limit:
            shutil.rmtree(folder, ignore_errors=True)
            deleted.append(folder)
    return deleted


def _install(folder: Path) -> None:
    # What an interrupted run left is made again; "ready" is written last.
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    # Built from a copy, so that building leaves nothing in the repository.
    source = folder / "pretix-bluepaid"
    shutil.copytree(PLUGIN, source, ignore=shutil.ignore_patterns(*_SKIPPED, "*.egg-info"))
    python = folder / "venv" / "bin" / "python"
    _run("create pretix's virtual environment", [sys.executable, "-m", "venv", str(folder / "venv")])
    _run(
        f"pip install pretix=={PRETIX_VERSION} and the plugin",
        [str(python), "-m", "pip", "install", "-q", f"pretix=={PRETIX_VERSION}", str(source)],
        timeout=1500,
    )
    (folder / "data").mkdir()
    config = _write_config(folder, folder / "data", "http://127.0.0.1")
    _run("migrate pretix's SQLite database", [str(python), "-m", "pretix", "migrate", "--noinput"], config)
    (folder / "ready").write_text(f"pretix {PRETIX_VERSION}\n")


def _write_config(folder: Path, data: Path, url: str) -> Path:
    config = folder / "pretix.cfg"
    config.write_text(
        "[pretix]\n"
        "instance_name=Bluepaid live test\n"
        f"url={url}\n"
        f"datadir={data}\n"
        "currency=EUR\n"
        "[django]\n"
        "secret=bluepaid-live-test-not-a-secret-0123456789abcdef\n"
        # Static files served by pretix itself, without a compress step.
        "debug=true\n"
        "[database]\n"
        "backend=sqlite3\n"
        "[mail]\n"
        # Nowhere to send to: pretix's mails are not what is tested.
        "host=127.0.0.1\n"
        "port=9\n",
        encoding="utf-8",
    )
    return config


def _run(
    step: str,
    command: list[str],
    config: Path | None = None,
    *,
    timeout: float = 600,
    stdin: Any = None,
    env: dict[str, str] | None = None,
) -> str:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", **(env or {})}
    if config is not None:
        env["PRETIX_CONFIG_FILE"] = str(config)
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=timeout, stdin=stdin, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PretixUnavailable(f"{step}: {exc}") from None
    if done.returncode != 0:
        lines = [line for line in (done.stderr or done.stdout).splitlines() if not line.startswith("WARNING")]
        raise PretixUnavailable(f"{step} failed ({done.returncode}): {' | '.join(lines[-8:])}")
    return done.stdout


@dataclass
class LivePretix:
    """A pretix served on loopback, with its event and API token."""

    install: PretixInstall
    config: Path
    port: int
    token: str
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def event_url(self) -> str:
        return f"{self.url}/{ORGANIZER}/{EVENT}/"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v1/organizers/{ORGANIZER}/events/{EVENT}"

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """pretix's REST API answer to one call, decoded; fails on an error status."""
        response = requests.request(
            method,
            self.api_url + path,
            headers={"Authorization": f"Token {self.token}"},
            timeout=30,
            **kwargs,
        )
        assert response.status_code < 300, f"pretix answered {response.status_code}: {response.text[:500]}"
        return response.json()

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(self.install.python),
                    "-m",
                    "pretix",
                    "runserver",
                    f"127.0.0.1:{self.port}",
                    "--noreload",
                ],
                env={**os.environ, "PRETIX_CONFIG_FILE": str(self.config)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise PretixUnavailable(f"pretix stopped at start: {self.log.read_text()[-1500:]}")
            try:
                if requests.get(self.event_url, timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise PretixUnavailable(f"pretix did not answer in 90 s: {self.log.read_text()[-1500:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)
        self.process = None


@contextmanager
def running_pretix(
    install: PretixInstall, folder: Path, port: int, token: str, pay_url: str
) -> Iterator[LivePretix]:
    """pretix served on ``port`` until the block ends, on a copy of the migrated database,
    seeded with the event, the plugin (sending buyers to ``pay_url``) and ``token``."""
    data = folder / "pretix-data"
    shutil.copytree(install.data, data)
    config = _write_config(folder, data, f"http://127.0.0.1:{port}")
    seed = {"SEED_PAY_URL": pay_url, "SEED_ADMIN_PASSWORD": ADMIN_PASSWORD, "SEED_TOKEN": token}
    with SEED.open() as script:
        _run("seed pretix", [str(install.python), "-m", "pretix", "shell"], config, stdin=script, env=seed)
    live = LivePretix(install, config, port, token, folder / "pretix.log")
    try:
        live.start()
        yield live
    finally:
        live.stop()
