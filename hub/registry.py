"""What the hub checks of a connector class before it accepts it.

A partner's class is refused at registration, naming the plugin and every
problem at once, rather than failing later while a buyer or the platform waits.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from bluepaid_plugins import CONTRACT_VERSION
from bluepaid_plugins.connector import Capability, Connector, Ownership
from bluepaid_plugins.domain import StatusEvent
from bluepaid_plugins.settings import SettingField

_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def connector_problems(cls: object) -> list[str]:
    """Every reason the hub cannot use ``cls`` as a connector (empty: it can)."""
    if not (isinstance(cls, type) and issubclass(cls, Connector)) or cls is Connector:
        return [f"{cls!r} is not a subclass of bluepaid_plugins.Connector"]
    problems: list[str] = []
    connector_id = getattr(cls, "id", None)
    if not isinstance(connector_id, str) or not _ID.match(connector_id):
        problems.append("id is missing or not lower-case letters, digits and '_' (at most 64)")
    if not isinstance(getattr(cls, "label", None), str) or not cls.label.strip():
        problems.append("label is missing")
    for method in ("fetch_order", "apply_event"):
        if getattr(cls, method) is getattr(Connector, method):
            problems.append(f"{method}() is not implemented")
    problems += _signature_problems(cls)
    problems += _contract_problems(getattr(cls, "contract", None))
    problems += _declaration_problems(cls)
    return problems


def _signature_problems(cls: type[Connector]) -> list[str]:
    problems = []
    for method, arity in (("fetch_order", 1), ("apply_event", 1)):
        function = getattr(cls, method)
        try:
            parameters = list(inspect.signature(function).parameters.values())[1:]
        except (TypeError, ValueError):
            continue
        positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        required = [p for p in parameters if p.default is p.empty and p.kind in positional]
        if len(required) != arity:
            wanted = "(self, ref)" if method == "fetch_order" else "(self, event)"
            problems.append(f"{method} must take {wanted} in contract {CONTRACT_VERSION}")
    return problems


def _contract_problems(contract: object) -> list[str]:
    if not isinstance(contract, str) or not contract.strip():
        major = Version(CONTRACT_VERSION).major
        return [
            "contract is not declared: the contract versions it was written for,"
            f" like '>={major},<{major + 1}'"
        ]
    try:
        supported = SpecifierSet(contract)
    except InvalidSpecifier:
        return [f"contract {contract!r} is not a version specifier such as '>=1,<2'"]
    if Version(CONTRACT_VERSION) not in supported:
        return [
            f"it was written for contract {contract}, and this hub speaks contract {CONTRACT_VERSION}: "
            "install a version of the connector made for it"
        ]
    return []


def _declaration_problems(cls: type[Connector]) -> list[str]:
    problems: list[str] = []
    schema: Any = cls.settings_schema
    if not isinstance(schema, tuple) or not all(isinstance(f, SettingField) for f in schema):
        problems.append("settings_schema must be a tuple of SettingField")
    else:
        names = [f.name for f in schema]
        twice = sorted({name for name in names if names.count(name) > 1})
        problems += [f"setting {name!r} is declared twice" for name in twice]
    capabilities: Any = cls.capabilities
    if not isinstance(capabilities, frozenset) or not all(isinstance(c, Capability) for c in capabilities):
        problems.append("capabilities must be a frozenset of Capability")
        capabilities = frozenset()
    if Capability.PARTIAL_REFUNDS in capabilities and Capability.REFUNDS not in capabilities:
        problems.append("partial_refunds needs refunds among the capabilities")
    if Capability.WEBHOOKS in capabilities:
        problems += [
            f"the webhooks capability needs {method}()"
            for method in ("verify_webhook", "read_webhook")
            if getattr(cls, method) is getattr(Connector, method)
        ]
    if not isinstance(cls.ownership, Ownership):
        problems.append("ownership must be an Ownership")
    problems += mapping_problems(cls, cls.default_status_mapping, "default_status_mapping")
    return problems


def mapping_problems(cls: type[Connector], mapping: Mapping[Any, Any], where: str) -> list[str]:
    """Problems of a status mapping of ``cls``: unknown events, statuses it does not know."""
    statuses: Any = cls.statuses
    if not isinstance(statuses, Mapping):
        return ["statuses must map status codes to labels"]
    custom = _custom_statuses(cls)
    if isinstance(custom, str):
        return [custom]
    problems = []
    for event, status in mapping.items():
        if event not in set(StatusEvent):
            problems.append(f"{where}: {event!r} is not an event ({', '.join(StatusEvent)})")
        elif status is not None and status not in statuses and not (custom and custom.fullmatch(status)):
            known = ", ".join(statuses) or "none"
            if custom:
                known += f", or a status of the shop's own matching {custom.pattern}"
            problems.append(f"{where}: {event} -> {status!r} is not a status of {cls.label} (known: {known})")
    return problems


def _custom_statuses(cls: type[Connector]) -> re.Pattern[str] | str | None:
    """``cls.custom_statuses`` compiled (None when empty), or the problem with it."""
    pattern: Any = cls.custom_statuses
    if not isinstance(pattern, str):
        return "custom_statuses must be a regular expression (a str)"
    if not pattern:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        return f"custom_statuses {pattern!r} is not a regular expression: {exc}"
