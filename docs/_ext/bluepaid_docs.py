"""Sphinx helpers of the bluepaid-plugins documentation.

- References to a name re-exported elsewhere resolve to the place it is
  documented: ``bluepaid_plugins.connector.Connector``, documented as
  ``bluepaid_plugins.Connector`` (where partners import it from), and its
  members alike. So do annotations naming a class imported only for type
  checking (``Connector`` in the hook specifications), when one documented
  object of the project has that name.
- Signatures stay valid Python, so Sphinx can read them: a dataclass field
  with a default factory shows what it calls (``Customer()``, ``{}``) instead
  of ``<factory>``; an enum or a protocol shows no constructor signature.
- A constant without a doc comment shows no docstring, rather than the one of
  its type (``str``'s, ``int``'s).
- ``{bluepaid-behaviours}`` lists the behaviours of the conformance suite,
  from the suite itself, with the tests that check each.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import inspect
from typing import Any

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.domains.python import PythonDomain
from sphinx.environment import BuildEnvironment
from sphinx.util.docutils import SphinxDirective

OWN_PACKAGES = ("bluepaid_plugins", "hub", "connectors")


def _import(name: str) -> tuple[Any, list[str]] | None:
    """The longest importable module prefix of ``name`` and the parts left after it."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        try:
            module = importlib.import_module(".".join(parts[:end]))
        except ImportError:
            continue
        return module, parts[end:]
    return None


def canonical(name: str) -> str:
    """``name`` spelt from the module that defines the class or function it goes through."""
    found = _import(name)
    if found is None:
        return name
    current, rest = found
    spelt = current.__name__
    for index, part in enumerate(rest):
        try:
            current = inspect.getattr_static(current, part)
        except AttributeError:
            return ".".join([spelt, *rest[index:]])
        current = getattr(current, "__func__", current)
        if inspect.isclass(current) or inspect.isfunction(current):
            spelt = f"{current.__module__}.{current.__qualname__}"
        else:
            spelt = f"{spelt}.{part}"
    return spelt


def _documented(env: BuildEnvironment) -> dict[str, str]:
    """Canonical spelling -> documented name, for every Python object of the project."""
    cache: dict[str, str] | None = getattr(env, "_bluepaid_canonical", None)
    if cache is None:
        domain: PythonDomain = env.domains.python_domain
        cache = {}
        for name in domain.objects:
            if name.startswith(OWN_PACKAGES):
                cache.setdefault(canonical(name), name)
        env._bluepaid_canonical = cache  # type: ignore[attr-defined]
    return cache


def _reset(app: Sphinx, env: BuildEnvironment, *args: Any) -> None:
    if hasattr(env, "_bluepaid_canonical"):
        del env._bluepaid_canonical


def resolve(app: Sphinx, env: BuildEnvironment, node: pending_xref, contnode: nodes.Element) -> Any:
    if node.get("refdomain") != "py":
        return None
    target: str = node["reftarget"].lstrip("~.")
    module = node.get("py:module") or ""
    klass = node.get("py:class") or ""
    candidates = [f"{module}.{klass}.{target}", f"{module}.{target}", target] if klass else []
    candidates += [f"{module}.{target}", target] if module else [target]
    documented = _documented(env)
    name = next((documented[c] for c in map(canonical, candidates) if c in documented), None)
    if name is None and "." not in target:
        # A class imported only under TYPE_CHECKING: accept one documented object of that name.
        same = {full for full in documented.values() if full.rsplit(".", 1)[-1] == target}
        name = same.pop() if len(same) == 1 else None
    if name is None:
        return None
    domain: PythonDomain = env.domains.python_domain
    return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], name, node, contnode)


def _factory(field: dataclasses.Field[Any]) -> str:
    made = field.default_factory
    shown = {dict: "{}", list: "[]", tuple: "()", set: "set()", frozenset: "frozenset()"}
    if made in shown:
        return shown[made]  # type: ignore[index]
    if inspect.isclass(made):
        return f"{made.__name__}()"
    return "..."


def signature(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, signature: str | None, returns: str | None
) -> tuple[str | None, str | None] | None:
    if inspect.isclass(obj) and (issubclass(obj, enum.Enum) or getattr(obj, "_is_protocol", False)):
        return "", returns
    if signature and "<factory>" in signature and dataclasses.is_dataclass(obj):
        made = [
            _factory(f)
            for f in dataclasses.fields(obj)
            if f.init and f.default_factory is not dataclasses.MISSING
        ]
        for text in made:
            signature = signature.replace("<factory>", text, 1)
        return signature, returns
    return None


def docstring(app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    if what in ("data", "attribute") and not inspect.isclass(obj) and lines:
        borrowed = inspect.cleandoc(type(obj).__doc__ or "")
        if borrowed and "\n".join(lines).strip() == borrowed.strip():
            lines.clear()


class Behaviours(SphinxDirective):
    """The conformance suite's behaviours, in the order of its report."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        from hub.testing.conformance import BEHAVIOURS, ConnectorConformance

        tests: dict[str, list[str]] = {name: [] for name in BEHAVIOURS}
        for attribute, value in vars(ConnectorConformance).items():
            for mark in getattr(value, "pytestmark", []):
                if mark.name == "bluepaid_behaviour":
                    tests[mark.args[0]].append(attribute)
        listing = nodes.bullet_list()
        for name in BEHAVIOURS:
            paragraph = nodes.paragraph()
            paragraph += nodes.strong(text=name)
            if tests[name]:
                paragraph += nodes.Text(": ")
                for index, test in enumerate(tests[name]):
                    if index:
                        paragraph += nodes.Text(", ")
                    paragraph += nodes.literal(text=test)
            listing += nodes.list_item("", paragraph)
        return [listing]


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("missing-reference", resolve)
    app.connect("autodoc-process-signature", signature)
    app.connect("autodoc-process-docstring", docstring)
    app.connect("env-purge-doc", _reset)
    app.connect("env-merge-info", _reset)
    app.add_directive("bluepaid-behaviours", Behaviours)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
