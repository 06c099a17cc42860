"""The documentation builds without a single warning, and says what the code says.

Sphinx runs as a partner would run it (``-W``, nitpicky: every name of ours must
resolve), in a subprocess, once for the module; the tests then read the HTML.
"""

from __future__ import annotations

import html
import inspect
import re
import subprocess
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

import bluepaid_plugins
from bluepaid_plugins import errors, hookspecs
from hub.config import HubConfig
from hub.testing import pytest_plugin
from hub.testing.conformance import BEHAVIOURS

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [
    "overview",
    "tutorial",
    "reference/hooks",
    "reference/connector",
    "reference/testkit",
    "protocol",
    "production",
    "checklist",
    "guides/payment-form",
]
HOOKS = [name for name, value in vars(hookspecs).items() if hasattr(value, f"{hookspecs.PROJECT}_spec")]

_ROLE = re.compile(r":[a-z]+:`(?P<short>~?)(?P<target>[^`]+)`")


@dataclass(frozen=True)
class Build:
    returncode: int
    output: str
    folder: Path

    def html(self, page: str) -> str:
        return (self.folder / f"{page}.html").read_text(encoding="utf-8")

    def text(self, page: str) -> str:
        """The words of the page's body, quotes and dots as typed rather than as typeset."""
        reader = _Text()
        reader.feed(self.html(page))
        text = " ".join("".join(reader.parts).split())
        for typeset, typed in (("’", "'"), ("‘", "'"), ("“", '"'), ("”", '"'), ("…", "...")):
            text = text.replace(typeset, typed)
        return text


_BLOCKS = frozenset({"p", "div", "pre", "li", "dt", "dd", "td", "th", "tr", "h1", "h2", "h3", "h4", "br"})


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._hidden += tag in ("script", "style")
        if tag in _BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        self._hidden -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(html.unescape(data))


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    folder = tmp_path_factory.mktemp("html")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-E",
            "-q",
            "-b",
            "html",
            str(DOCS),
            str(folder),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Build(result.returncode, result.stdout + result.stderr, folder)


def shown(docstring: str) -> list[str]:
    """The paragraphs of a docstring as the page shows them: roles and literals as plain words."""

    def role(match: re.Match[str]) -> str:
        target = match["target"]
        return target.rsplit(".", 1)[-1] if match["short"] else target

    text = _ROLE.sub(role, inspect.cleandoc(docstring)).replace("``", "")
    return [" ".join(paragraph.split()) for paragraph in text.split("\n\n") if paragraph.strip()]


def test_the_docs_build_without_a_warning(build: Build) -> None:
    assert build.returncode == 0, build.output
    assert "WARNING" not in build.output and "ERROR" not in build.output, build.output


@pytest.mark.parametrize("page", PAGES)
def test_every_page_is_built_and_in_the_table_of_contents(build: Build, page: str) -> None:
    assert (build.folder / f"{page}.html").is_file()
    assert f'href="{page}.html"' in build.html("index")


@pytest.mark.parametrize("name", HOOKS)
def test_each_hook_is_on_the_hooks_page_with_its_docstring(build: Build, name: str) -> None:
    page = build.html("reference/hooks")
    text = build.text("reference/hooks")

    assert f'id="bluepaid_plugins.hookspecs.{name}"' in page
    for paragraph in shown(getattr(hookspecs, name).__doc__ or ""):
        assert paragraph in text, f"the hooks page lacks, for {name}: {paragraph}"


@pytest.mark.parametrize("name", HOOKS)
def test_each_hook_has_its_example_on_the_page(build: Build, name: str) -> None:
    blocks = re.findall(
        r'<div class="highlight-python[^"]*">(.*?)</pre>', build.html("reference/hooks"), re.DOTALL
    )
    code = [html.unescape(re.sub(r"<[^>]+>", "", block)) for block in blocks]

    assert any(f"def {name}(" in block and "@hookimpl" in block for block in code)


@pytest.mark.parametrize("name", bluepaid_plugins.__all__)
def test_the_connector_reference_documents_what_the_package_exports(build: Build, name: str) -> None:
    page = build.html("reference/connector") + build.html("reference/hooks")

    assert f'id="bluepaid_plugins.{name}"' in page


@pytest.mark.parametrize(
    "name",
    [
        *(
            f"errors.{n}"
            for n, v in vars(errors).items()
            if inspect.isclass(v) and v.__module__ == errors.__name__
        ),
        "http.call_shop",
        "http.shop_session",
        "paylink.sign_pay_token",
        "paylink.check_pay_token",
        "Connector.fetch_order",
        "Connector.apply_event",
        "PaymentEvent.note",
    ],
)
def test_the_connector_reference_documents_errors_http_and_paylinks(build: Build, name: str) -> None:
    assert f'id="bluepaid_plugins.{name}"' in build.html("reference/connector")


def test_the_test_kit_reference_lists_every_fixture_and_behaviour(build: Build) -> None:
    text = build.text("reference/testkit")
    fixtures = [name for name in vars(pytest_plugin) if name.startswith("bluepaid_")]

    assert fixtures, "the pytest plugin defines no fixture"
    assert [name for name in fixtures if name not in text] == []
    assert [name for name in BEHAVIOURS if name not in text] == []
    assert "--bluepaid-report DIR" in text


@pytest.mark.parametrize(
    "anchor",
    [
        "hub.testing.conformance.ConnectorConformance",
        "hub.testing.conformance.ConnectorConformance.given_order",
        "hub.testing.shop_double.ShopDouble",
        "hub.testing.shop_double.ShopDouble.fail_next",
        "hub.testing.kit.connector_kit",
        "hub.testing.report.Report",
        "bluepaid_plugins.testing.Confirmations",
        "bluepaid_plugins.testing.Confirmations.accepted",
    ],
)
def test_the_test_kit_reference_documents_the_kit(build: Build, anchor: str) -> None:
    assert f'id="{anchor}"' in build.html("reference/testkit")


def test_the_production_page_names_every_setting(build: Build) -> None:
    text = build.text("production")

    assert [name for name in HubConfig().as_mapping() if name not in text] == []
    for command in (
        "bluepaid db upgrade",
        "gunicorn 'hub.wsgi:app'",
        "bluepaid worker",
        "FOR UPDATE SKIP LOCKED",
        "bluepaid keys new",
        "bluepaid keys rotate",
        "pg_dump",
        ".backup",
        "bluepaid outbox list --state dead",
        "bluepaid outbox show",
        "bluepaid outbox replay",
    ):
        assert command in text, command


def test_the_overview_states_the_import_rule(build: Build) -> None:
    text = build.text("overview")

    assert (
        "bluepaid_plugins imports only the standard library, pluggy, requests, babel and, "
        "in its database helpers (db.py) only, SQLAlchemy, "
        "and in its shop HTTP client (http.py) only, urllib3"
    ) in text
    assert "sandbox imports bluepaid_plugins, never hub" in text
    assert "connectors, cart and payment_form never import hub or sandbox" in text


def test_the_protocol_page_documents_the_protocol_modules(build: Build) -> None:
    page = build.html("protocol")

    for module in ("request", "subscription", "fields", "confirmation", "token"):
        assert f'id="module-bluepaid_plugins.protocol.{module}"' in page


#: The partner checklist's points, as the issue lists them, and a pattern of the heading that covers each.
CHECKLIST_POINTS = {
    "no card data": r"\bno card data\b",
    "confirmations untrusted until checked": r"\bconfirmations are untrusted until\b.*\bchecked\b",
    "idempotent effects": r"\beffects are idempotent\b",
    "refunds": r"\brefunds\b",
    "translations": r"\btranslations\b",
    "tests": r"\btests\b",
}


def checklist_sections() -> dict[str, str]:
    """Each ``##`` heading of the partner checklist (lower case) and the text under it."""
    sections: dict[str, list[str]] = {}
    current: list[str] = []
    for line in (DOCS / "checklist.md").read_text("utf-8").splitlines():
        if line.startswith("## "):
            current = sections.setdefault(line[3:].strip().lower(), [])
        else:
            current.append(line)
    return {heading: "\n".join(lines) for heading, lines in sections.items()}


@pytest.mark.parametrize(("point", "pattern"), CHECKLIST_POINTS.items())
def test_the_partner_checklist_has_a_section_on_each_point_of_the_issue(point: str, pattern: str) -> None:
    sections = checklist_sections()
    covering = [heading for heading in sections if re.search(pattern, heading)]

    assert covering, f"docs/checklist.md has no section on {point!r}; its headings: {list(sections)}"
    words = len(sections[covering[0]].split())
    assert words >= 40, f"the checklist's section {covering[0]!r} says too little ({words} words)"
