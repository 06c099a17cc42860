"""The ``bluepaid`` command. Our errors become one line on stderr and exit code 1.

One module per command group; this one assembles them, adds the plugins'
commands and turns every failure into a line a person can act on.
"""

from __future__ import annotations

import copy
import logging
import os
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from bluepaid_plugins.errors import BluepaidError, PluginError
from hub import redaction
from hub.cli import api_tokens, catalog, keys, links, payments, plugins, scaffold, serve, shops, users
from hub.cli.base import HubHolder, cli
from hub.config import HubConfig
from hub.plugins import Plugins, make_plugins
from sandbox.cli import sandbox

# The command groups register themselves on ``cli`` when imported.
_GROUPS = (api_tokens, catalog, keys, links, payments, plugins, scaffold, serve, shops, users)

cli.add_command(sandbox)


def _register_plugin_commands(group: click.Group, loaded: Plugins) -> None:
    def register(command: Any) -> None:
        if not isinstance(command, click.Command) or not command.name:
            raise PluginError(f"{command!r} is not a named click command")
        if command.name in group.commands:
            click.echo(
                f"warning: plugin command {command.name!r} clashes with an existing one; skipped", err=True
            )
            return
        group.add_command(command)

    loaded.hook.bluepaid_register_commands(register=register)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    redaction.install()
    try:
        config = HubConfig.from_env(os.environ)
        redaction.install(config.secret_values())
        # A command table of its own per run: plugin commands must not outlive the run that loaded them.
        group = copy.copy(cli)
        group.commands = dict(cli.commands)
        # Loaded once: for the plugins' commands, then for the hub the command uses.
        loaded = make_plugins(
            allow=config.load_plugins, strict=config.strict_plugins, trace=config.trace_plugins
        )
        _register_plugin_commands(group, loaded)
        group.main(args=argv, prog_name="bluepaid", standalone_mode=False, obj=HubHolder(config, loaded))
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        click.echo("aborted", err=True)
        return 1
    except BluepaidError as exc:
        click.echo(f"error: {redaction.redact(str(exc))}", err=True)
        return 1
    except SQLAlchemyError as exc:
        click.echo(
            f"error: database: {redaction.redact(str(exc).splitlines()[0])}"
            " (is the schema up to date? run `bluepaid db upgrade`)",
            err=True,
        )
        return 1
    except OSError as exc:
        click.echo(f"error: {redaction.redact(str(exc))}", err=True)
        return 1
    except Exception as exc:
        if os.environ.get("BLUEPAID_DEBUG"):
            raise
        problem = redaction.redact(f"unexpected {type(exc).__name__}: {exc}")
        click.echo(f"error: {problem} (BLUEPAID_DEBUG=1 shows the details)", err=True)
        return 1
    return 0
