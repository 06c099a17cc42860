"""The hub's configuration, read from ``BLUEPAID_*`` environment variables."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bluepaid_plugins.errors import ConfigurationError
from bluepaid_plugins.protocol import PLATFORM_URL
from bluepaid_plugins.settings import MASK, environment_flag


@dataclass(frozen=True)
class HubConfig:
    """Every setting of a hub process. See the README's configuration table."""

    database_url: str = "sqlite:///bluepaid.sqlite3"
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)
    public_url: str = "http://127.0.0.1:5000"
    platform_url: str = PLATFORM_URL
    load_plugins: frozenset[str] | None = None
    strict_plugins: bool = False
    trust_proxy: bool = False
    smtp_host: str = ""
    smtp_port: int = 25
    mail_from: str = "bluepaid-hub@localhost"
    allow_private_addresses: bool = False
    settings_keys: tuple[str, ...] = field(default=(), repr=False)
    trace_plugins: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> HubConfig:
        """Build from an environment mapping; ConfigurationError names the bad variable."""
        values: dict[str, Any] = {}
        text = {
            "database_url": "BLUEPAID_DATABASE_URL",
            "secret_key": "BLUEPAID_SECRET_KEY",
            "public_url": "BLUEPAID_PUBLIC_URL",
            "platform_url": "BLUEPAID_PLATFORM_URL",
            "smtp_host": "BLUEPAID_SMTP_HOST",
            "mail_from": "BLUEPAID_MAIL_FROM",
        }
        for attr, name in text.items():
            if environ.get(name):
                values[attr] = environ[name].strip()
        if environ.get("BLUEPAID_SMTP_PORT"):
            try:
                values["smtp_port"] = int(environ["BLUEPAID_SMTP_PORT"])
            except ValueError as exc:
                raise ConfigurationError("BLUEPAID_SMTP_PORT must be a port number") from exc
        if "BLUEPAID_LOAD_PLUGINS" in environ:
            names = environ["BLUEPAID_LOAD_PLUGINS"].replace(",", " ").split()
            values["load_plugins"] = frozenset(names)
        values["strict_plugins"] = environment_flag(environ, "BLUEPAID_STRICT_PLUGINS")
        values["trust_proxy"] = environment_flag(environ, "BLUEPAID_TRUST_PROXY")
        # The variable's name before shop calls were checked on every connection, still read.
        values["allow_private_addresses"] = any(
            environment_flag(environ, name)
            for name in ("BLUEPAID_ALLOW_PRIVATE_ADDRESSES", "BLUEPAID_ALLOW_PRIVATE_REDIRECTS")
        )
        values["trace_plugins"] = environment_flag(environ, "BLUEPAID_TRACE_PLUGINS")
        values["settings_keys"] = tuple(environ.get("BLUEPAID_SETTINGS_KEYS", "").replace(",", " ").split())
        config = cls(**values)
        config.check()
        return config

    def check(self) -> None:
        """Raise ConfigurationError for settings that cannot work."""
        for name, url in (
            ("BLUEPAID_PUBLIC_URL", self.public_url),
            ("BLUEPAID_PLATFORM_URL", self.platform_url),
        ):
            if not url.startswith(("http://", "https://")):
                raise ConfigurationError(f"{name} must start with http:// or https://, got {url!r}")
        if len(self.secret_key) < 16:
            raise ConfigurationError("BLUEPAID_SECRET_KEY must be at least 16 characters")

    def as_mapping(self) -> dict[str, Any]:
        """The settings by their environment names, for the settings-validation hook
        (printed, in a log or a hook trace, with its secrets masked)."""
        return SettingsMapping(
            {
                "BLUEPAID_DATABASE_URL": self.database_url,
                "BLUEPAID_SECRET_KEY": self.secret_key,
                "BLUEPAID_PUBLIC_URL": self.public_url,
                "BLUEPAID_PLATFORM_URL": self.platform_url,
                "BLUEPAID_LOAD_PLUGINS": sorted(self.load_plugins) if self.load_plugins is not None else None,
                "BLUEPAID_STRICT_PLUGINS": self.strict_plugins,
                "BLUEPAID_TRUST_PROXY": self.trust_proxy,
                "BLUEPAID_SMTP_HOST": self.smtp_host,
                "BLUEPAID_SMTP_PORT": self.smtp_port,
                "BLUEPAID_MAIL_FROM": self.mail_from,
                "BLUEPAID_SETTINGS_KEYS": list(self.settings_keys),
                "BLUEPAID_TRACE_PLUGINS": self.trace_plugins,
                "BLUEPAID_ALLOW_PRIVATE_ADDRESSES": self.allow_private_addresses,
            }
        )

    def secret_values(self) -> list[str]:
        """The values of this configuration that must never be written anywhere:
        the secret key, the settings keys and the database URL's password."""
        values = [self.secret_key, *self.settings_keys]
        try:
            password = make_url(self.database_url).password
        except ArgumentError:
            password = None
        if password:
            values.append(str(password))
        return values


#: The configuration values that must never be printed.
SECRET_VARIABLES = frozenset({"BLUEPAID_SECRET_KEY", "BLUEPAID_SETTINGS_KEYS"})


class SettingsMapping(dict[str, Any]):
    """The configuration by variable name; its text masks the secrets (and a database password)."""

    def __repr__(self) -> str:
        shown = {name: MASK if name in SECRET_VARIABLES and value else value for name, value in self.items()}
        url = shown.get("BLUEPAID_DATABASE_URL")
        if isinstance(url, str):
            try:
                shown["BLUEPAID_DATABASE_URL"] = make_url(url).render_as_string(hide_password=True)
            except ArgumentError:
                shown["BLUEPAID_DATABASE_URL"] = MASK
        return repr(shown)

    __str__ = __repr__
