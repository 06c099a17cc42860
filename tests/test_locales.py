"""The catalogs of the pages: complete in every language, in step with the code and
with their compiled form, and open to a third language as docs/translating.md says."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import bluepaid_locales

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "bluepaid_locales"
#: The languages the kit ships complete: a new one is added here (docs/translating.md).
LANGUAGES = ("en", "fr")
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _read_po(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


def _key(message: Message) -> tuple[str, str | None]:
    ident = message.id if isinstance(message.id, str) else message.id[0]
    return ident, message.context


def _keys(catalog: Catalog) -> set[tuple[str, str | None]]:
    return {_key(m) for m in catalog if m.id}


def _texts(message: Message) -> list[str]:
    return [message.string] if isinstance(message.string, str) else list(message.string)


def _ids(message: Message) -> list[str]:
    return [message.id] if isinstance(message.id, str) else list(message.id)


def _po(language: str) -> Catalog:
    return _read_po(CATALOGS / language / "LC_MESSAGES" / "messages.po")


def test_the_languages_shipped_are_those_with_a_catalog() -> None:
    assert bluepaid_locales.languages() == LANGUAGES


def test_the_template_holds_every_message_of_the_code_and_no_other() -> None:
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    in_code = {
        (message if isinstance(message, str) else message[0], context)
        for _, _, message, _, context in extract_from_dir(str(ROOT), method_map, options_map)
    }
    template = _keys(_read_po(CATALOGS / "messages.pot"))

    assert sorted(in_code - template) == [], "run pybabel extract (docs/translating.md)"
    assert sorted(template - in_code) == [], "messages no longer in the code: extract again"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(language: str) -> None:
    template = _keys(_read_po(CATALOGS / "messages.pot"))
    catalog = _po(language)
    by_key = {_key(m): m for m in catalog if m.id}

    missing = sorted(key for key in template if key not in by_key or not all(_texts(by_key[key])))
    fuzzy = sorted(key for key, m in by_key.items() if m.fuzzy)
    obsolete = sorted(key for key in by_key if key not in template)

    assert missing == [], f"untranslated in {language}"
    assert fuzzy == [], f"fuzzy in {language}: check and clear the flag"
    assert obsolete == [], f"no longer in the template: run pybabel update ({language})"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_translation_keeps_the_placeholders_of_its_message(language: str) -> None:
    wrong = []
    for message in _po(language):
        if not message.id:
            continue
        wanted = {name for ident in _ids(message) for name in PLACEHOLDER.findall(ident)}
        found = [set(PLACEHOLDER.findall(text)) for text in _texts(message)]
        # A plural's singular may leave its count out ("every day"), as its English does.
        if set().union(*found) != wanted or any(not names <= wanted for names in found):
            wrong.append((_key(message), _texts(message)))
    assert wrong == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalog_says_what_its_source_says(language: str) -> None:
    folder = CATALOGS / language / "LC_MESSAGES"
    with (folder / "messages.mo").open("rb") as f:
        compiled = {(_key(m), tuple(_texts(m))) for m in read_mo(f) if m.id}
    source = {(_key(m), tuple(_texts(m))) for m in _po(language) if m.id and not m.fuzzy}

    assert compiled == source, "run pybabel compile (docs/translating.md)"


def test_french_punctuation_has_its_no_break_space() -> None:
    # A narrow no-break space before ; ! ?, a no-break space (or a narrow one) before :.
    bad = [
        text
        for message in _po("fr")
        if message.id
        for text in _texts(message)
        if re.search(r"[^\u202f\u00a0][;!?:]", text)
    ]
    assert bad == []


def test_a_third_language_follows_the_documented_steps(tmp_path: Path) -> None:
    copy = tmp_path / "bluepaid_locales"
    shutil.copytree(CATALOGS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    pybabel = Path(sys.executable).with_name("pybabel")
    for step in (
        ["init", "-i", str(copy / "messages.pot"), "-d", str(copy), "-l", "de"],
        ["compile", "-d", str(copy), "-l", "de"],
    ):
        subprocess.run([pybabel, *step], check=True, capture_output=True)
    probe = (
        "import bluepaid_locales, flask\n"
        "app = flask.Flask('probe'); bluepaid_locales.init_app(app)\n"
        "with app.test_request_context(headers={'Accept-Language': 'de-DE,de;q=0.9'}):\n"
        "    print(bluepaid_locales.languages(), bluepaid_locales.current_language())\n"
        "    print(bluepaid_locales.language_name('de'))\n"
    )

    seen = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.splitlines()

    assert seen == ["('de', 'en', 'fr') de", "Deutsch"]
    # The docs show those very commands.
    doc = (ROOT / "docs" / "translating.md").read_text()
    assert "pybabel init -i bluepaid_locales/messages.pot -d bluepaid_locales -l de" in doc
    assert "pybabel compile -d bluepaid_locales -l de" in doc
