"""The sandbox's settings, from ``BLUEPAID_SANDBOX_*`` environment variables."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from bluepaid_plugins.errors import ConfigurationError
from bluepaid_plugins.settings import environment_flag


@dataclass(frozen=True)
class SandboxConfig:
    """Every setting of a sandbox process.

    ``country_map`` maps client addresses to ISO 3166 alpha-2 codes before the
    offline database is asked (tests and demos use it to play a buyer abroad).
    Delays are in seconds of the sandbox clock.
    """

    database_url: str = "sqlite:///bluepaid-sandbox.sqlite3"
    public_url: str = "http://127.0.0.1:5001"
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)
    smtp_host: str = ""
    smtp_port: int = 25
    mail_from: str = "sandbox@bluepaid.invalid"
    trust_proxy: bool = False
    country_map: Mapping[str, str] = field(default_factory=dict)
    late_delay: float = 10.0
    pending_delay: float = 5.0
    refund_delay: float = 30.0
    delivery_timeout: float = 10.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> SandboxConfig:
        """Build from the environment; ConfigurationError names the bad variable."""
        values: dict[str, object] = {}
        for attr, name in (
            ("database_url", "BLUEPAID_SANDBOX_DATABASE_URL"),
            ("public_url", "BLUEPAID_SANDBOX_PUBLIC_URL"),
            ("secret_key", "BLUEPAID_SANDBOX_SECRET_KEY"),
            ("smtp_host", "BLUEPAID_SANDBOX_SMTP_HOST"),
            ("mail_from", "BLUEPAID_SANDBOX_MAIL_FROM"),
        ):
            if environ.get(name):
                values[attr] = environ[name].strip()
        for attr, name in (
            ("smtp_port", "BLUEPAID_SANDBOX_SMTP_PORT"),
            ("late_delay", "BLUEPAID_SANDBOX_LATE_DELAY"),
            ("pending_delay", "BLUEPAID_SANDBOX_PENDING_DELAY"),
            ("refund_delay", "BLUEPAID_SANDBOX_REFUND_DELAY"),
        ):
            if environ.get(name):
                try:
                    number = float(environ[name])
                except ValueError as exc:
                    raise ConfigurationError(f"{name} must be a number, not {environ[name]!r}") from exc
                values[attr] = int(number) if attr == "smtp_port" else number
        values["trust_proxy"] = environment_flag(environ, "BLUEPAID_SANDBOX_TRUST_PROXY")
        if environ.get("BLUEPAID_SANDBOX_COUNTRY_MAP"):
            values["country_map"] = parse_country_map(environ["BLUEPAID_SANDBOX_COUNTRY_MAP"])
        return cls(**values)  # type: ignore[arg-type]


def parse_country_map(text: str) -> dict[str, str]:
    """``"127.0.0.2=DE, 127.0.0.3=FR"`` -> ``{"127.0.0.2": "DE", ...}``."""
    mapping = {}
    for item in text.replace(";", ",").split(","):
        if not item.strip():
            continue
        address, sep, country = item.partition("=")
        if not sep or len(country.strip()) != 2 or not country.strip().isalpha():
            raise ConfigurationError(
                f"BLUEPAID_SANDBOX_COUNTRY_MAP: expected ADDRESS=CC, got {item.strip()!r}"
            )
        mapping[address.strip()] = country.strip().upper()
    return mapping
