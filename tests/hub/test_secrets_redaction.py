"""What the hub writes masks its secrets: texts, every log record, gunicorn's access atoms,
the outbox's error texts."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config  # type: ignore[import-untyped]
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bluepaid_plugins.db import Database
from hub import redaction
from hub.gunicorn_config import RedactingLogger
from hub.outbox import describe

TOKEN = "cT0k3n-of-the-shop-AAAAAAAAAAAAAAAA"


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        (f"POST /confirm/demo/{TOKEN} HTTP/1.1", "POST /confirm/demo/*** HTTP/1.1"),
        (f"https://hub.example/webhooks/demo/{TOKEN}?x=1", "https://hub.example/webhooks/demo/***?x=***"),
        (f"GET /pay/demo/A1?key={TOKEN}&lang=fr", "GET /pay/demo/A1?key=***&lang=***"),
        (f"GET /wc/orders?consumer_key=ck_{TOKEN} 200", "GET /wc/orders?consumer_key=*** 200"),
        (f"postgresql+psycopg://hub:{TOKEN}@db/hub", "postgresql+psycopg://hub:***@db/hub"),
        (f"{{'Authorization': 'Bearer {TOKEN}'}}", "{'Authorization': '***'}"),
        (f"Proxy-Authorization: Basic {TOKEN}", "Proxy-Authorization: ***"),
    ],
)
def test_a_text_loses_its_secrets_and_keeps_its_shape(written: str, shown: str) -> None:
    assert redaction.Redactor()(written) == shown


#: What a client may put in a request target around a secret: gunicorn logs the
#: target as received, and accepts every printable character but a space in it.
RAW_TARGETS = {
    "bare": f"/pay/demo/A1?{TOKEN}",
    "bare-after-another": f"/pay/demo/A1?lang=fr&{TOKEN}",
    "quote": f'/pay/demo/A1?key=ab"{TOKEN}',
    "apostrophe": f"/pay/demo/A1?key=ab'{TOKEN}",
    "angle-brackets": f"/pay/demo/A1?key=ab<{TOKEN}>",
    "hash": f"/pay/demo/A1?key=ab#{TOKEN}",
    "absolute-form": f"https://hub.example?{TOKEN}",
}


@pytest.mark.parametrize("target", RAW_TARGETS.values(), ids=RAW_TARGETS.keys())
def test_a_request_line_keeps_nothing_of_its_query(
    stream_logger: tuple[logging.Logger, io.StringIO], target: str
) -> None:
    logger, written = stream_logger

    logger.warning('%s - - "GET %s HTTP/1.1" 200 10', "203.0.113.9", target)

    path = target.partition("?")[0]
    assert TOKEN not in written.getvalue()
    assert written.getvalue().startswith(f'203.0.113.9 - - "GET {path}?')
    assert written.getvalue().endswith(' HTTP/1.1" 200 10\n')


@pytest.mark.parametrize("target", RAW_TARGETS.values(), ids=RAW_TARGETS.keys())
def test_gunicorns_access_log_line_keeps_nothing_of_the_query(tmp_path: Path, target: str) -> None:
    config = Config()
    config.set("accesslog", str(tmp_path / "access.log"))
    logger = RedactingLogger(config)
    path, _, query = target.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": target,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
    }
    response = SimpleNamespace(status="200 OK", headers=[], sent=10)
    request = SimpleNamespace(headers=[])

    logger.access(response, request, environ, timedelta(milliseconds=5))
    for handler in logger.access_log.handlers:
        handler.close()

    (line,) = (tmp_path / "access.log").read_text().splitlines()
    assert TOKEN not in line
    assert f'"GET {path}?' in line
    assert ' HTTP/1.1" 200 10 ' in line


def test_gunicorns_invalid_request_line_warning_keeps_nothing_of_the_query(
    stream_logger: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, written = stream_logger

    refused = f"GET /x?{TOKEN}"

    # gunicorn's warning for a request line it refuses (gunicorn/workers/base.py, handle_error,
    # with the text of gunicorn/http/errors.py, InvalidRequestLine): the line in quotes.
    logger.warning("Invalid request from ip=203.0.113.9: %s", f"Invalid HTTP request line: {refused!r}")

    assert TOKEN not in written.getvalue()
    assert written.getvalue().endswith("Invalid HTTP request line: 'GET /x?***'\n")


@pytest.mark.parametrize(
    "ordinary",
    [
        "R&D asked AT&T for a Q&A",
        "sure? (really?) Vraiment ? Oui.",
        "[SQL: SELECT id FROM payment WHERE shop_id = ? AND state IN (?, ?, ?)]",
        "GET /pay/demo/A1 HTTP/1.1",
        "see https://hub.example/docs/production.html#secrets",
        "GET /pay/demo/A1? HTTP/1.1",
    ],
)
def test_ordinary_text_is_left_as_written(ordinary: str) -> None:
    assert redaction.Redactor()(ordinary) == ordinary


def test_a_values_closing_punctuation_is_kept_around_its_mask() -> None:
    redactor = redaction.Redactor()

    shown = redactor(f"{{'url': '/pay/demo/A1?key={TOKEN}'}} and /x?{TOKEN}.")

    assert shown == "{'url': '/pay/demo/A1?key=***'} and /x?***."


def test_values_the_redactor_was_told_are_masked_as_given_and_percent_encoded() -> None:
    redactor = redaction.Redactor()
    redactor.remember(["settings/key+1==", "short"])

    assert redactor("keys settings/key+1== and settings%2Fkey%2B1%3D%3D, short") == "keys *** and ***, short"


@pytest.fixture
def stream_logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger of its own writing to a text buffer through a plain handler."""
    redaction.install()
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    logger = logging.getLogger("tests.redaction")
    logger.propagate = False
    logger.addHandler(handler)
    yield logger, written
    logger.removeHandler(handler)
    logger.propagate = True


def test_a_log_record_is_masked_in_its_message_arguments_exception_and_stack(
    stream_logger: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, written = stream_logger
    try:
        raise RuntimeError(f"write failed for /confirm/demo/{TOKEN}")
    except RuntimeError:
        logger.error("Exception on %s [%s]", f"/confirm/demo/{TOKEN}", "POST", exc_info=True, stack_info=True)

    output = written.getvalue()
    assert TOKEN not in output
    assert "Exception on /confirm/demo/*** [POST]" in output
    assert "RuntimeError: write failed for /confirm/demo/***" in output


def test_the_configurations_secrets_are_masked_in_records(
    stream_logger: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, written = stream_logger
    redaction.install(["flask-secret-of-this-test-0001"])

    logger.warning("starting with %s", {"key": "flask-secret-of-this-test-0001"})

    assert "flask-secret-of-this-test-0001" not in written.getvalue()


def test_a_record_written_by_pythons_last_resort_handler_is_masked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    redaction.install()
    logger = logging.getLogger("tests.redaction.unhandled")
    logger.propagate = False

    logger.warning("token %s", TOKEN.join(["/confirm/demo/", ""]))

    assert capsys.readouterr().err == "token /confirm/demo/***\n"


def test_a_broken_format_string_does_not_break_the_caller(
    stream_logger: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, written = stream_logger

    logger.warning("%d items at /confirm/demo/%s", "many", TOKEN)

    assert written.getvalue() == (
        "%d items at /confirm/demo/*** [arguments not shown: they do not fit this format]\n"
    )


def test_install_wraps_the_record_factory_once() -> None:
    redaction.install()
    factory = logging.getLogRecordFactory()

    redaction.install()

    assert logging.getLogRecordFactory() is factory


def test_gunicorn_access_atoms_are_masked() -> None:
    logger = RedactingLogger(Config())
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/pay/demo/A1?key={TOKEN}",
        "PATH_INFO": "/pay/demo/A1",
        "QUERY_STRING": f"key={TOKEN}&lang=fr",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"https://hub.example/confirm/demo/{TOKEN}",
    }
    response = SimpleNamespace(status="200 OK", headers=[("Set-Cookie", f"session={TOKEN}")], sent=10)
    request = SimpleNamespace(headers=[("AUTHORIZATION", f"Bearer {TOKEN}")])

    atoms = logger.atoms(response, request, environ, timedelta(milliseconds=5))

    assert [name for name, value in atoms.items() if TOKEN in str(value)] == []
    assert atoms["q"] == "key=***&lang=***"
    assert atoms["r"] == "GET /pay/demo/A1?key=*** HTTP/1.1"


def test_a_database_error_is_described_without_its_statement_or_parameters() -> None:
    db = Database("sqlite://")
    try:
        with db.engine.connect() as connection, pytest.raises(SQLAlchemyError) as raised:
            connection.execute(text("select :token from nowhere"), {"token": TOKEN})
    finally:
        db.dispose()

    assert describe(raised.value) == "OperationalError: (sqlite3.OperationalError) no such table: nowhere"


def test_an_error_is_described_with_its_secrets_masked() -> None:
    described = describe(ConnectionError(f"Max retries exceeded with url: /orders?consumer_secret={TOKEN}"))

    assert described == "ConnectionError: Max retries exceeded with url: /orders?consumer_secret=***"
