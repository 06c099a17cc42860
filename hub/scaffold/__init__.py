"""Writing the package of a new connector from the template beside this module.

``template/`` mirrors the package it writes. Every file there ends in
``.tmpl`` (so that neither our own ruff, mypy and pytest runs nor setuptools
take the template's Python files and ``pyproject.toml`` for ours), and the
suffix is dropped when it is written; a leading ``dot-`` becomes ``.``
(package data globs skip dotfiles). Paths and contents may hold the
placeholders of :class:`Names`, written ``{{name}}``, replaced by plain text
substitution: the Python templates have no other ``{{``.
"""

from __future__ import annotations

import keyword
import re
import sys
from dataclasses import asdict, dataclass
from datetime import date
from importlib import resources
from importlib.abc import Traversable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from bluepaid_plugins.errors import Problem, ValidationError

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
#: Import packages of bluepaid-plugins itself: a connector package must not hide them.
_OURS = frozenset({"bluepaid_plugins", "hub", "sandbox", "connectors", "payment_form", "cart"})


@dataclass(frozen=True)
class Names:
    """What the template is filled in with, all derived from the connector's NAME."""

    package: str  # import package and connector id: acme_shop
    distribution: str  # pip name and folder: bluepaid-acme-shop
    label: str  # shown to merchants: Acme Shop
    class_name: str  # AcmeShopConnector
    test_class: str  # TestAcmeShopConformance
    bluepaid_bound: str  # ">=0.1.0": at least the bluepaid-plugins the package was made with
    year: str  # for the licence

    @classmethod
    def of(cls, name: str, label: str = "") -> Names:
        """The names for connector ``name``; ValidationError if it cannot be a package and an id."""
        check_name(name)
        words = [word for word in name.split("_") if word]
        camel = "".join(word[:1].upper() + word[1:] for word in words)
        check_label(label)
        return cls(
            package=name,
            distribution="bluepaid-" + "-".join(words),
            label=" ".join(label.split()) or " ".join(word.capitalize() for word in words),
            class_name=f"{camel}Connector",
            test_class=f"Test{camel}Conformance",
            bluepaid_bound=_bluepaid_bound(),
            year=str(date.today().year),
        )


def check_name(name: str) -> None:
    """Raise ValidationError unless ``name`` can be both a Python package and a connector id."""
    if not _NAME.match(name) or not name.isidentifier() or keyword.iskeyword(name):
        raise ValidationError(
            Problem(
                "NAME",
                f"{name!r} is not a lower-case Python identifier of at most 64 characters"
                " (letters, digits and '_', starting with a letter), like acme_shop",
            )
        )
    if name in sys.stdlib_module_names or name in _OURS:
        raise ValidationError(
            Problem("NAME", f"{name!r} is already a module of Python or of bluepaid-plugins; choose another")
        )


def check_label(label: str) -> None:
    """Raise ValidationError unless ``label`` can go as it is into the package's Python,
    TOML and Markdown: one line, no quote or backslash."""
    if not label.isprintable() or '"' in label or "\\" in label:
        raise ValidationError(Problem("--label", 'must be one line of text without " or \\'))


@dataclass(frozen=True)
class Written:
    """The package just written: its folder, its files (relative, sorted) and its names."""

    folder: Path
    files: tuple[str, ...]
    names: Names


def new_connector(name: str, folder: Path | None = None, *, label: str = "", force: bool = False) -> Written:
    """Write the package of connector ``name`` into ``folder`` (default ``./bluepaid-<name>``).

    Refuses, with a ValidationError and nothing written, a bad name or a folder
    that exists and is not empty, unless ``force``: then the template's files
    are written over whatever has the same path, and other files are left alone.
    """
    names = Names.of(name, label)
    target = folder if folder is not None else Path(names.distribution)
    if target.exists() and not target.is_dir():
        raise ValidationError([], f"{target} exists and is not a folder: choose another --dir")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise ValidationError(
            [], f"{target}/ exists and is not empty: choose another --dir, or --force to write into it"
        )
    rendered = render(names)
    for relative, text in rendered.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return Written(target, tuple(sorted(rendered)), names)


def render(names: Names) -> dict[str, str]:
    """Every file of the package for ``names``: relative path to text."""
    values = {key: str(value) for key, value in asdict(names).items()}
    files: dict[str, str] = {}
    for source, relative in _templates(resources.files(__name__) / "template", ""):
        files[_fill(relative, values, relative)] = _fill(source.read_text("utf-8"), values, relative)
    return files


def _templates(folder: Traversable, prefix: str) -> list[tuple[Traversable, str]]:
    found: list[tuple[Traversable, str]] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        name = "." + entry.name[len("dot-") :] if entry.name.startswith("dot-") else entry.name
        if entry.is_dir():
            found += _templates(entry, f"{prefix}{name}/")
        elif name.endswith(".tmpl"):
            found.append((entry, prefix + name.removesuffix(".tmpl")))
    return found


def _fill(text: str, values: dict[str, str], where: str) -> str:
    def value(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            # A template mistake, caught by the tests before it ships.
            raise KeyError(f"template {where}: unknown placeholder {{{{{key}}}}}")
        return values[key]

    return _PLACEHOLDER.sub(value, text)


def _bluepaid_bound() -> str:
    """The version bound on bluepaid-plugins: at least the one the package was made with."""
    try:
        return ">=" + version("bluepaid-plugins")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return ""
