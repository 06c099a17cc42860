"""Where the sandbox may listen: loopback, unless the operator says otherwise.

The console has no login and shows every account's settings; the sandbox is
a tool for one developer's machine. Every way this project serves it
(``bluepaid sandbox``, ``bluepaid demo``) asks :func:`checked_listen_host`
first:

- a loopback host (``localhost``, an address of ``127.0.0.0/8``, ``::1``) is
  served as it is;
- any other (``0.0.0.0``, ``::``, a LAN address, a host name, which could
  resolve anywhere) is refused with :class:`~bluepaid_plugins.errors.ConfigurationError`,
  unless the operator passes ``--i-know-it-is-public`` or sets
  ``BLUEPAID_SANDBOX_I_KNOW_IT_IS_PUBLIC=1``; then it is served and a warning
  is printed on stderr.

Whatever the address, the app answers only for its public URL's host and
loopback names (:mod:`sandbox.hosts`).
"""

from __future__ import annotations

import click

from bluepaid_plugins.errors import ConfigurationError
from sandbox.hosts import is_loopback_name

#: The command-line flag that lets the sandbox listen beyond loopback.
PUBLIC_FLAG = "--i-know-it-is-public"
#: The environment variable that does the same as :data:`PUBLIC_FLAG`.
PUBLIC_ENV = "BLUEPAID_SANDBOX_I_KNOW_IT_IS_PUBLIC"


def checked_listen_host(host: str, public_url: str, *, allow_public: bool = False) -> str:
    """``host``, once it may be listened on (rules in the module docstring).

    Raises ConfigurationError for a host beyond loopback without
    ``allow_public``; with it, prints a warning naming ``public_url``, the only
    non-loopback name the sandbox will answer for.
    """
    if is_loopback_name(host.strip("[]")):
        return host
    if not allow_public:
        raise ConfigurationError(
            f"the sandbox listens on loopback only, not on {host!r}: its console has no login, and "
            "whoever reaches it reads the transactions and changes where confirmations go; to serve it "
            f"beyond this machine anyway, add {PUBLIC_FLAG} (or set {PUBLIC_ENV}=1) and set "
            "BLUEPAID_SANDBOX_PUBLIC_URL to the address people will use"
        )
    click.echo(
        f"warning: the sandbox listens on {host!r}, beyond loopback: its console has no login, and "
        "anyone who reaches it reads the transactions and changes where confirmations go. It answers "
        f"only for {public_url} (BLUEPAID_SANDBOX_PUBLIC_URL) and loopback names.",
        err=True,
    )
    return host
