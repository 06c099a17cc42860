"""``bluepaid sandbox`` listens on loopback; beyond it only when the operator says so, with a warning."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bluepaid_plugins.errors import ConfigurationError
from hub.cli import main
from sandbox.serving import PUBLIC_ENV, PUBLIC_FLAG, checked_listen_host
from tests.sandbox.backoffice_fixtures import free_port

#: The ``bluepaid`` command, from the code of this checkout.
BLUEPAID = [sys.executable, "-c", "import sys; from hub.cli import main; sys.exit(main(sys.argv[1:]))"]


def listening(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port``."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_a_loopback_host_needs_no_flag(host: str) -> None:
    assert checked_listen_host(host, "http://127.0.0.1:5001") == host


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "::", "", "192.168.1.10", "sandbox.example", "localhost.example"]
)
def test_a_host_beyond_loopback_is_refused_without_the_flag(host: str) -> None:
    with pytest.raises(ConfigurationError, match=PUBLIC_FLAG):
        checked_listen_host(host, "http://127.0.0.1:5001")


def test_a_host_beyond_loopback_with_the_flag_is_allowed_with_a_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert checked_listen_host("0.0.0.0", "http://sandbox.example:5001", allow_public=True) == "0.0.0.0"

    warning = capsys.readouterr().err
    assert warning.startswith("warning: the sandbox listens on '0.0.0.0', beyond loopback")
    assert "http://sandbox.example:5001" in warning


def test_bluepaid_sandbox_on_all_interfaces_is_refused_in_one_line_and_serves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BLUEPAID_SANDBOX_DATABASE_URL", f"sqlite:///{tmp_path / 'sandbox.sqlite3'}")
    monkeypatch.delenv(PUBLIC_ENV, raising=False)
    port = free_port()

    code = main(["sandbox", "--host", "0.0.0.0", "--port", str(port)])

    out, err = capsys.readouterr()
    assert code == 1
    assert err.startswith("error: the sandbox listens on loopback only, not on '0.0.0.0'")
    assert err.count("\n") == 1
    assert out == ""  # not even the test cards: nothing started
    assert not listening(port)


@pytest.fixture
def public_sandbox(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[int, str]]:
    """``bluepaid sandbox --host 0.0.0.0`` made public by ``request.param`` (flag or env), in
    its own process; the port and what it printed on stderr before serving."""
    port = free_port()
    env = {
        **os.environ,
        "BLUEPAID_SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'sandbox.sqlite3'}",
        "BLUEPAID_SANDBOX_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    env.pop(PUBLIC_ENV, None)
    args = [*BLUEPAID, "sandbox", "--host", "0.0.0.0", "--port", str(port)]
    if request.param == "flag":
        args.append(PUBLIC_FLAG)
    else:
        env[PUBLIC_ENV] = "1"
    process = subprocess.Popen(
        args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp_path
    )
    assert process.stderr is not None
    printed = []
    try:
        # It prints "sandbox platform on ..." just before serving; the pipe closes if it dies.
        for line in process.stderr:
            printed.append(line)
            if line.startswith("sandbox platform on"):
                break
        yield port, "".join(printed)
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stderr.close()


@pytest.mark.parametrize("public_sandbox", ["flag", "env"], indirect=True)
def test_the_operator_can_serve_the_sandbox_beyond_loopback_and_is_warned(
    public_sandbox: tuple[int, str],
) -> None:
    port, printed = public_sandbox

    assert "warning: the sandbox listens on '0.0.0.0', beyond loopback" in printed
    assert requests.get(f"http://127.0.0.1:{port}/console/", timeout=10).status_code == 200
