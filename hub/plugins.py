"""The plugin manager factory: hook specs, entry-point loading, connector registry.

Entry points of the ``bluepaid`` group load one by one. A plugin that fails to
import, implements a hook that does not exist (a misspelling), or registers a
connector the hub cannot use, is reported and skipped, unless strict mode makes
it fatal; an allow-list restricts which entry points load at all. Every hook
is called through pluggy, so an implementation may take fewer arguments than
the specification offers.
"""

from __future__ import annotations

import difflib
import logging
import sys
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, entry_points, version
from typing import Any

import pluggy
from sqlalchemy.exc import SQLAlchemyError

from bluepaid_plugins import hookspecs
from bluepaid_plugins.connector import Connector
from bluepaid_plugins.errors import BluepaidError, PluginBug, PluginError
from hub import merchant_mail
from hub.registry import connector_problems

log = logging.getLogger(__name__)

#: The name of this distribution: its plugins load first.
OWN_DISTRIBUTION = "bluepaid-plugins"


@dataclass(frozen=True)
class PluginInfo:
    """What ``bluepaid plugins`` reports about one plugin."""

    name: str
    version: str
    hooks: tuple[str, ...]
    connectors: tuple[type[Connector], ...] = ()
    builtin: bool = False


@dataclass
class Plugins:
    """A plugin manager with the connectors it registered and what failed to load."""

    manager: pluggy.PluginManager
    connectors: dict[str, type[Connector]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)  # connector id -> plugin name
    builtin: set[str] = field(default_factory=set)

    @property
    def hook(self) -> Any:
        return self.manager.hook

    def implementers(self, hook_name: str) -> list[str]:
        """Names of the plugins implementing ``hook_name``, in registration order
        (built-in plugins first, then the others by entry-point name)."""
        caller = getattr(self.manager.hook, hook_name)
        return [impl.plugin_name for impl in caller.get_hookimpls()]

    def call_one(self, hook_name: str, plugin_name: str, **kwargs: Any) -> list[Any]:
        """Call ``hook_name`` on one plugin only, through pluggy (so its
        implementation may take fewer arguments); PluginError if it is gone."""
        plugin = self.manager.get_plugin(plugin_name)
        if plugin is None or plugin_name not in self.implementers(hook_name):
            raise PluginError(f"plugin {plugin_name!r} no longer implements {hook_name}")
        others = [p for name, p in self.manager.list_name_plugin() if name != plugin_name and p is not None]
        result: list[Any] = self.manager.subset_hook_caller(hook_name, remove_plugins=others)(**kwargs)
        return result

    def call_each(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call ``hook_name`` on each plugin in turn; return ``(plugin, result)`` pairs.
        An exception that is not one of ours becomes a :class:`PluginBug` naming the plugin."""
        results: list[tuple[str, Any]] = []
        for name in self.implementers(hook_name):
            with guarded(name, hook_name):
                results += [(name, result) for result in self.call_one(hook_name, name, **kwargs)]
        return results

    def owner(self, connector_id: str) -> str:
        """The plugin that registered connector ``connector_id``."""
        return self.owners.get(connector_id, connector_id)

    def info(self) -> list[PluginInfo]:
        """Name, version and implemented hooks of every registered plugin."""
        result = []
        for name, plugin in sorted(self.manager.list_name_plugin(), key=lambda item: item[0]):
            hooks = tuple(sorted(h.name for h in self.manager.get_hookcallers(plugin) or []))
            mine = tuple(cls for cid, cls in self.connectors.items() if self.owners.get(cid) == name)
            result.append(PluginInfo(name, self.versions.get(name, ""), hooks, mine, name in self.builtin))
        return result

    def connector(self, connector_id: str) -> type[Connector]:
        try:
            return self.connectors[connector_id]
        except KeyError:
            known = ", ".join(sorted(self.connectors)) or "none"
            raise PluginError(f"no connector {connector_id!r} is installed (installed: {known})") from None


@contextmanager
def guarded(plugin: str, what: str) -> Iterator[None]:
    """Run plugin code: our errors pass through, anything else is the plugin's bug.

    Errors of the hub's own database pass too (they are the hub's), and so
    do OSError and its kin (a network or SMTP failure, requests' own errors):
    all of these are worth retrying. The bug keeps the traceback and names the
    plugin and what it was doing; its message holds the exception's type and
    text, nothing more.
    """
    try:
        yield
    except (BluepaidError, SQLAlchemyError, OSError):
        raise
    except Exception as exc:
        raise PluginBug(
            f"plugin {plugin!r} failed in {what}: {type(exc).__name__}: {exc}"[:1000],
            traceback="".join(traceback.format_exception(exc)),
        ) from exc


def make_plugins(
    *,
    allow: frozenset[str] | None = None,
    strict: bool = False,
    extra: Iterable[object] = (),
    trace: bool = False,
) -> Plugins:
    """Build the plugin manager: load the ``bluepaid`` entry points, then ``extra``.

    ``allow`` is the allow-list of entry-point names (None: all). With
    ``strict``, the first plugin that fails raises PluginError; otherwise it is
    logged, recorded in ``failures`` and skipped. ``extra`` plugin objects
    (tests, embedding applications) are registered after the entry points;
    their failures always raise PluginError. ``trace`` prints every hook call and its
    result on stderr (pluggy's own tracing).
    """
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    plugins = Plugins(manager)
    # The hub's own plugin, before every entry point and outside the allow-list:
    # an allow-list written for partners must not silence the merchant's mails.
    _register(manager, merchant_mail, merchant_mail.NAME)
    plugins.versions[merchant_mail.NAME] = _own_version()
    plugins.builtin.add(merchant_mail.NAME)
    # Our own distribution first, then by name: a partner's connector can never
    # shadow a built-in id, and the outcome does not depend on sys.path order.
    ordered = sorted(
        entry_points(group=hookspecs.PROJECT),
        key=lambda ep: (ep.dist is None or ep.dist.name != OWN_DISTRIBUTION, ep.name),
    )
    for ep in ordered:
        if allow is not None and ep.name not in allow:
            continue
        try:
            _register(manager, ep.load(), ep.name)
        except Exception as exc:
            _fail(plugins, ep.name, _reason(exc), strict)
            continue
        plugins.versions[ep.name] = ep.dist.version if ep.dist else ""
        if ep.dist is not None and ep.dist.name == OWN_DISTRIBUTION:
            plugins.builtin.add(ep.name)
    extras = set()
    for index, plugin in enumerate(extra):
        name = getattr(plugin, "__name__", f"extra-{index}")
        _register(manager, plugin, name)
        extras.add(name)
    _collect_connectors(plugins, strict, extras)
    manager.check_pending()
    if trace:
        manager.trace.root.setwriter(lambda text: sys.stderr.write(f"[bluepaid plugins] {text}"))
        manager.enable_tracing()
    return plugins


def _own_version() -> str:
    try:
        return version(OWN_DISTRIBUTION)
    except PackageNotFoundError:  # run from a source tree that was never installed
        return ""


def _register(manager: pluggy.PluginManager, plugin: object, name: str) -> None:
    """Register ``plugin``; PluginError (and nothing registered) if it implements a
    hook that is not ours or does not match its specification."""
    try:
        manager.register(plugin, name=name)
    except pluggy.PluginValidationError as exc:
        raise PluginError(str(exc)) from None
    unknown = sorted(
        caller.name
        for caller in manager.get_hookcallers(plugin) or []
        if not caller.has_spec()
        and any(impl.plugin is plugin and not impl.optionalhook for impl in caller.get_hookimpls())
    )
    if unknown:
        manager.unregister(plugin)
        known = [name for name in dir(hookspecs) if name.startswith(f"{hookspecs.PROJECT}_")]
        hints = []
        for hook in unknown:
            close = difflib.get_close_matches(hook, known, n=1)
            hints.append(f"{hook} (did you mean {close[0]}?)" if close else hook)
        raise PluginError(f"implements hooks that do not exist: {', '.join(hints)}")


def _fail(plugins: Plugins, name: str, reason: str, strict: bool) -> None:
    if strict:
        raise PluginError(f"plugin {name!r} failed to load: {reason}")
    log.warning("plugin %r skipped: %s", name, reason)
    plugins.failures[name] = reason


def _reason(exc: Exception) -> str:
    return str(exc) if isinstance(exc, PluginError) else f"{type(exc).__name__}: {exc}"


def _collect_connectors(plugins: Plugins, strict: bool, extras: set[str]) -> None:
    """Ask each plugin for its connectors, one plugin at a time, checking each class.

    A plugin that registers an unusable class is unregistered whole: half a
    plugin would be harder to understand than none.
    """
    for name in plugins.implementers("bluepaid_register_connectors"):
        mine: dict[str, type[Connector]] = {}

        def register(cls: type[Connector], _plugin: str = name, _mine: dict[str, Any] = mine) -> None:
            problems = connector_problems(cls)
            if problems:
                what = getattr(cls, "__name__", repr(cls))
                raise PluginError(f"connector {what} refused: {'; '.join(problems)}")
            if cls.id in plugins.connectors or cls.id in _mine:
                owner = plugins.owners.get(cls.id, _plugin)
                raise PluginError(f"connector id {cls.id!r} is already registered by plugin {owner!r}")
            _mine[cls.id] = cls

        try:
            plugins.call_one("bluepaid_register_connectors", name, register=register)
        except Exception as exc:
            plugin = plugins.manager.get_plugin(name)
            if plugin is not None:
                plugins.manager.unregister(plugin)
            plugins.versions.pop(name, None)
            plugins.builtin.discard(name)
            _fail(plugins, name, _reason(exc), strict or name in extras)
            continue
        plugins.connectors.update(mine)
        plugins.owners.update(dict.fromkeys(mine, name))
