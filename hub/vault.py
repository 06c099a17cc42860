"""Connector secrets at rest: sealed with Fernet under keys from the configuration.

``BLUEPAID_SETTINGS_KEYS`` lists Fernet keys, newest first. New secrets are
sealed with the first; any listed key opens them (``cryptography``'s
MultiFernet), so a key is rotated by putting a new one first, running
``bluepaid keys rotate`` (which seals every stored secret again with it), then
removing the old one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bluepaid_plugins.errors import ConfigurationError
from bluepaid_plugins.settings import Secret

KEYS_VARIABLE = "BLUEPAID_SETTINGS_KEYS"


def new_key() -> str:
    """A fresh key to put in :data:`KEYS_VARIABLE`."""
    return Fernet.generate_key().decode()


class Vault:
    """Seals and opens the secret settings of shops. Built once per hub."""

    def __init__(self, keys: Sequence[str]) -> None:
        fernets = []
        for index, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.encode()))
            except (ValueError, TypeError):
                # The key itself is never repeated in the message.
                raise ConfigurationError(
                    f"{KEYS_VARIABLE}: key number {index} is not a Fernet key"
                    " (`bluepaid keys new` prints one)"
                ) from None
        self._fernet = MultiFernet(fernets) if fernets else None

    @property
    def ready(self) -> bool:
        return self._fernet is not None

    def seal(self, secrets: Mapping[str, Secret]) -> str:
        """One token holding every value of ``secrets``; empty when there are none."""
        if not secrets:
            return ""
        return self._need().encrypt(json.dumps({k: v.reveal() for k, v in secrets.items()}).encode()).decode()

    def open(self, token: str, owner: str) -> dict[str, Secret]:
        """The secrets sealed in ``token``; ``owner`` names the shop in errors."""
        if not token:
            return {}
        try:
            data = json.loads(self._need().decrypt(token.encode()))
        except InvalidToken:
            raise _unknown_key(owner) from None
        return {str(k): Secret(str(v)) for k, v in data.items()}

    def rotate(self, token: str, owner: str) -> str:
        """``token`` sealed again with the newest key; ``owner`` names the shop in errors."""
        if not token:
            return token
        try:
            return self._need().rotate(token.encode()).decode()
        except InvalidToken:
            raise _unknown_key(owner) from None

    def _need(self) -> MultiFernet:
        if self._fernet is None:
            raise ConfigurationError(
                f"connector secrets are kept encrypted: set {KEYS_VARIABLE}"
                " (`bluepaid keys new` prints a key)"
            )
        return self._fernet


def _unknown_key(owner: str) -> ConfigurationError:
    return ConfigurationError(
        f"the connector secrets of {owner} were sealed with a key that is not in {KEYS_VARIABLE}"
    )
