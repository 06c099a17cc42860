"""The plugin manager factory: hook specs, entry-point loading, connector registry.

Entry points of the ``bluepaid`` group load one by one. A plugin that fails to
import or register is reported and skipped, unless strict mode makes it fatal;
an allow-list restricts which entry points load at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import pluggy

from bluepaid_plugins import hookspecs
from bluepaid_plugins.connector import Connector
from bluepaid_plugins.errors import PluginError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PluginInfo:
    """What ``bluepaid plugins`` reports about one plugin."""

    name: str
    version: str
    hooks: tuple[str, ...]
    connectors: tuple[type[Connector], ...] = ()


@dataclass
class Plugins:
    """A plugin manager with the connectors it registered and what failed to load."""

    manager: pluggy.PluginManager
    connectors: dict[str, type[Connector]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)  # connector id -> plugin name

    @property
    def hook(self) -> Any:
        return self.manager.hook

    def info(self) -> list[PluginInfo]:
        """Name, version and implemented hooks of every registered plugin."""
        result = []
        for name, plugin in sorted(self.manager.list_name_plugin(), key=lambda item: item[0]):
            hooks = tuple(sorted(h.name for h in self.manager.get_hookcallers(plugin) or []))
            mine = tuple(cls for cid, cls in self.connectors.items() if self.owners.get(cid) == name)
            result.append(PluginInfo(name, self.versions.get(name, ""), hooks, mine))
        return result

    def connector(self, connector_id: str) -> type[Connector]:
        try:
            return self.connectors[connector_id]
        except KeyError:
            known = ", ".join(sorted(self.connectors)) or "none"
            raise PluginError(f"no connector {connector_id!r} is installed (installed: {known})") from None


def make_plugins(
    *, allow: frozenset[str] | None = None, strict: bool = False, extra: Iterable[object] = ()
) -> Plugins:
    """Build the plugin manager: load the ``bluepaid`` entry points, then ``extra``.

    ``allow`` is the allow-list of entry-point names (None: all). With
    ``strict``, the first plugin that fails raises PluginError; otherwise it is
    logged, recorded in ``failures`` and skipped. ``extra`` plugin objects
    (tests, embedding applications) are registered after the entry points.
    """
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    plugins = Plugins(manager)
    # Our own distribution first, then by name: a partner's connector can never
    # shadow a built-in id, and the outcome does not depend on sys.path order.
    ordered = sorted(
        entry_points(group=hookspecs.PROJECT),
        key=lambda ep: (ep.dist is None or ep.dist.name != "bluepaid-plugins", ep.name),
    )
    for ep in ordered:
        if allow is not None and ep.name not in allow:
            continue
        try:
            manager.register(ep.load(), name=ep.name)
        except Exception as exc:
            _fail(plugins, ep.name, f"{type(exc).__name__}: {exc}", strict)
            continue
        plugins.versions[ep.name] = ep.dist.version if ep.dist else ""
    for index, plugin in enumerate(extra):
        manager.register(plugin, name=getattr(plugin, "__name__", f"extra-{index}"))
    _collect_connectors(plugins, strict)
    return plugins


def _fail(plugins: Plugins, name: str, reason: str, strict: bool) -> None:
    if strict:
        raise PluginError(f"plugin {name!r} failed to load: {reason}")
    log.warning("plugin %r skipped: %s", name, reason)
    plugins.failures[name] = reason


def _collect_connectors(plugins: Plugins, strict: bool) -> None:
    for impl in plugins.manager.hook.bluepaid_register_connectors.get_hookimpls():

        def register(cls: type[Connector], _plugin: str = impl.plugin_name) -> None:
            if not (isinstance(cls, type) and issubclass(cls, Connector)):
                raise PluginError(f"plugin {_plugin!r} registered {cls!r}, which is not a Connector")
            connector_id = getattr(cls, "id", "")
            if not connector_id or connector_id in plugins.connectors:
                raise PluginError(
                    f"plugin {_plugin!r} registered a connector with a missing"
                    f" or duplicate id {connector_id!r}"
                )
            plugins.connectors[connector_id] = cls
            plugins.owners[connector_id] = _plugin

        try:
            impl.function(register=register)
        except Exception as exc:
            _fail(plugins, impl.plugin_name, f"{type(exc).__name__}: {exc}", strict)
