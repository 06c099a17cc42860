"""docs/hooks.md documents every hook spec, with its signature and its docstring.

The reference partners read must say what the code does: a spec added, renamed,
re-typed or re-explained without the docs (or the other way round) fails here.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pluggy
import pytest

from bluepaid_plugins import hookspecs

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "hooks.md"
SPECS = Path(hookspecs.__file__)

_HOOK_HEADING = re.compile(r"^## `(?P<name>[^`]+)`\s*$", re.MULTILINE)
_ANY_HEADING = re.compile(r"^#{1,2} ", re.MULTILINE)
_PYTHON_BLOCK = re.compile(r"```python\n(?P<code>.*?)```", re.DOTALL)
_ROLE = re.compile(r":[a-z]+:`(?P<short>~?)(?P<target>[^`]+)`")


@dataclass(frozen=True)
class Hook:
    name: str
    args: str
    returns: str
    text: str


def words(text: str) -> str:
    return " ".join(text.split())


def plain(docstring: str) -> str:
    """A docstring as the docs show it: Sphinx roles become code, ``~`` keeps the last name."""

    def code(match: re.Match[str]) -> str:
        target = match["target"]
        return f"`{target.rsplit('.', 1)[-1] if match['short'] else target}`"

    return _ROLE.sub(code, docstring)


def signature(function: ast.FunctionDef) -> tuple[str, str]:
    return ast.unparse(function.args), ast.unparse(function.returns) if function.returns else ""


def specified() -> dict[str, Hook]:
    """The hook specs, read from the source so annotations stay as written."""
    hooks = {}
    for node in ast.parse(SPECS.read_text()).body:
        if isinstance(node, ast.FunctionDef) and any(
            ast.unparse(d) == "hookspec" for d in node.decorator_list
        ):
            args, returns = signature(node)
            hooks[node.name] = Hook(node.name, args, returns, plain(ast.get_docstring(node) or ""))
    return hooks


def documented() -> dict[str, Hook]:
    """The hook sections of docs/hooks.md: a heading, a python signature, the text."""
    text = DOC.read_text()
    hooks = {}
    for match in _HOOK_HEADING.finditer(text):
        name = match["name"]
        rest = text[match.end() :]
        following = _ANY_HEADING.search(rest)
        section = rest[: following.start()] if following else rest
        block = _PYTHON_BLOCK.search(section)
        assert block is not None, f"section {name} has no python signature block"
        functions = [n for n in ast.parse(block["code"]).body if isinstance(n, ast.FunctionDef)]
        assert [f.name for f in functions] == [name], f"section {name} must show exactly its own def"
        args, returns = signature(functions[0])
        prose = section[: block.start()] + section[block.end() :]
        assert name not in hooks, f"{name} is documented twice"
        hooks[name] = Hook(name, args, returns, prose)
    return hooks


def test_the_specs_are_the_ones_pluggy_sees() -> None:
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)

    registered = {name for name in dir(manager.hook) if name.startswith("bluepaid_")}

    assert registered == set(specified())


def test_every_spec_is_documented() -> None:
    assert sorted(set(specified()) - set(documented())) == []


def test_every_documented_hook_is_a_spec() -> None:
    assert sorted(set(documented()) - set(specified())) == []


def test_hooks_are_documented_in_the_order_of_the_specs() -> None:
    assert list(documented()) == list(specified())


@pytest.mark.parametrize("name", list(specified()))
def test_documented_signature_is_the_specs(name: str) -> None:
    spec, doc = specified()[name], documented().get(name)

    assert doc is not None
    assert (doc.args, doc.returns) == (spec.args, spec.returns)


@pytest.mark.parametrize("name", list(specified()))
def test_documented_text_is_the_specs_docstring(name: str) -> None:
    spec, doc = specified()[name], documented().get(name)

    assert doc is not None
    assert spec.text, f"the spec {name} has no docstring"
    assert words(spec.text) in words(doc.text)


def test_sphinx_roles_are_shown_as_code() -> None:
    assert plain("raise :class:`~a.errors.PaymentVetoed` or :data:`b.X`") == (
        "raise `PaymentVetoed` or `b.X`"
    )
    assert ":class:" not in DOC.read_text()
