"""Typed connector settings: what a merchant fills in for one shop.

A connector declares its settings as a tuple of :class:`SettingField`; the hub
validates what the merchant gives (CLI, back office) against it, stores secret
values encrypted, and hands the connector clean, typed values. Secret values
reach the connector as :class:`Secret` objects, which never print themselves:
a secret put in a log line, an error message or a page by mistake shows as
``********``. Call :meth:`Secret.reveal` only where the value goes to the shop.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, NoReturn

from bluepaid_plugins.errors import ConfigurationError, Problem, ValidationError

SettingType = Literal["str", "int", "bool", "url", "choice", "secret", "mapping"]
MASK = "********"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def parse_yes_no(raw: object) -> bool | None:
    """``True`` or ``False`` for the usual yes/no words (and booleans, 0 and 1); else None."""
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def environment_flag(environ: Mapping[str, str], name: str) -> bool:
    """The yes/no environment variable ``name`` (unset or empty: no); ConfigurationError
    for any other word, so that a typo never silently switches a safety off."""
    value = environ.get(name, "").strip()
    flag = parse_yes_no(value) if value else False
    if flag is None:
        raise ConfigurationError(f"{name} must be 1 or 0, not {value!r}")
    return flag


class Secret:
    """A secret setting value (API key, password, signing secret).

    ``str()``, ``repr()`` and formatting all give ``********``; equality is
    compared in constant time. :meth:`reveal` returns the real text: call it
    only to hand the value to the shop (an ``Authorization`` header, a
    signature key), never to build a message.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("a Secret holds text")
        self._value = value

    def reveal(self) -> str:
        """The secret text itself."""
        return self._value

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __format__(self, spec: str) -> str:
        return MASK

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __reduce__(self) -> NoReturn:
        # Pickling would write the clear value somewhere we do not control.
        raise TypeError("a Secret cannot be pickled")


SettingValue = str | int | bool | dict[str, str] | Secret | None


@dataclass(frozen=True)
class SettingField:
    """One setting of a connector.

    ``type``: ``str``, ``int``, ``bool``, ``url`` (http or https), ``choice``
    (one of ``choices``), ``secret`` (text kept encrypted, given to the
    connector as :class:`Secret`) or ``mapping`` (names to texts, written
    ``a=b,c=d`` on a command line). Any text type (``str``, ``url``,
    ``choice``) can be made secret with ``secret=True``; a number, a yes/no
    or a mapping cannot be held as a :class:`Secret`, so cannot be secret.
    ``minimum`` and ``maximum`` bound an ``int``. ``help`` is shown to the
    merchant by ``bluepaid connector show``: say where in the shop's admin
    the value is found.
    """

    name: str
    label: str
    type: SettingType = "str"
    required: bool = True
    secret: bool = False
    default: str | int | bool | None = None
    help: str = ""
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    def __post_init__(self) -> None:
        if self.type == "secret":
            object.__setattr__(self, "secret", True)
        if self.secret and self.type in ("int", "bool", "mapping"):
            # It would reach the connector as a plain value and be stored in clear.
            raise ValueError(f"setting {self.name!r}: only text settings can be secret, not {self.type}")
        if self.type == "choice" and not self.choices:
            raise ValueError(f"setting {self.name!r} is a choice without choices")
        if self.type == "choice" and self.default is not None and self.default not in self.choices:
            raise ValueError(f"setting {self.name!r}: default {self.default!r} is not one of its choices")
        if (self.minimum is not None or self.maximum is not None) and self.type != "int":
            raise ValueError(f"setting {self.name!r}: only an int setting has a minimum or a maximum")

    def coerce(self, raw: Any) -> SettingValue:
        """Return ``raw`` as this field's type; raise ValidationError if it cannot be."""
        if isinstance(raw, Secret):
            raw = raw.reveal()
        if isinstance(raw, str):
            # Blanks typed in a form or a --setting NAME=" " are no value, not an empty one.
            raw = raw.strip()
        if raw is None or raw == "" or raw == {}:
            if self.required and self.default is None:
                raise ValidationError(Problem(self.name, "is required"))
            return self._wrap(self.default)
        return self._wrap(self._typed(raw))

    def _wrap(self, value: SettingValue) -> SettingValue:
        if self.secret and isinstance(value, str) and value:
            return Secret(value)
        return value

    def _typed(self, raw: Any) -> str | int | bool | dict[str, str]:
        if self.type == "bool":
            value = parse_yes_no(raw) if not isinstance(raw, int) or raw in (0, 1) else None
            if value is None:
                raise ValidationError(Problem(self.name, f"expected yes or no, got {self._shown(raw)}"))
            return value
        if self.type == "int":
            if isinstance(raw, bool):
                raise ValidationError(Problem(self.name, f"expected a number, got {self._shown(raw)}"))
            try:
                number = int(str(raw))
            except ValueError:
                raise ValidationError(
                    Problem(self.name, f"expected a number, got {self._shown(raw)}")
                ) from None
            low = self.minimum if self.minimum is not None else number
            high = self.maximum if self.maximum is not None else number
            if not low <= number <= high:
                raise ValidationError(Problem(self.name, f"expected {self.range_text()}, got {number}"))
            return number
        if self.type == "mapping":
            return self._mapping(raw)
        text = str(raw).strip()
        if self.type == "url" and not text.startswith(("https://", "http://")):
            raise ValidationError(Problem(self.name, "expected an http:// or https:// URL"))
        if self.type == "choice" and text not in self.choices:
            raise ValidationError(
                Problem(self.name, f"expected one of {', '.join(self.choices)}, got {self._shown(text)}")
            )
        return text

    def range_text(self) -> str:
        """The bounds of an ``int`` for people: "1 to 60", "at least 1"; empty without bounds."""
        if self.minimum is not None and self.maximum is not None:
            return f"{self.minimum} to {self.maximum}"
        if self.minimum is not None:
            return f"at least {self.minimum}"
        return f"at most {self.maximum}" if self.maximum is not None else ""

    def _mapping(self, raw: Any) -> dict[str, str]:
        if isinstance(raw, Mapping):
            items = [(str(k).strip(), str(v).strip()) for k, v in raw.items()]
        else:
            items = []
            for part in str(raw).split(","):
                key, sep, value = part.partition("=")
                if not sep or not key.strip():
                    raise ValidationError(
                        Problem(self.name, f"expected name=value pairs separated by commas, got {part!r}")
                    )
                items.append((key.strip(), value.strip()))
        return dict(items)

    def _shown(self, raw: object) -> str:
        """``raw`` for an error message: never a secret's value."""
        return "a value that is not" if self.secret else repr(raw)


def validate_settings(schema: tuple[SettingField, ...], raw: Mapping[str, Any], owner: str) -> dict[str, Any]:
    """Check and coerce ``raw`` against ``schema``; ValidationError lists every problem.

    Unknown names are refused too, so a typo never passes silently. ``owner``
    names the connector in the summary of the error.
    """
    problems: list[Problem] = []
    known = {f.name for f in schema}
    problems += [Problem(name, "unknown setting") for name in raw if name not in known]
    clean: dict[str, Any] = {}
    for spec in schema:
        try:
            clean[spec.name] = spec.coerce(raw.get(spec.name))
        except ValidationError as exc:
            problems += exc.problems
    if problems:
        raise ValidationError(problems, f"settings of connector {owner}")
    return clean


def public_settings(schema: tuple[SettingField, ...], settings: Mapping[str, Any]) -> dict[str, Any]:
    """``settings`` with every secret value masked, for display and logs."""
    secret = {f.name for f in schema if f.secret}
    return {k: (MASK if (k in secret or isinstance(v, Secret)) and v else v) for k, v in settings.items()}


#: The two settings every connector that calls a shop over HTTP offers, as the
#: merchant sees them: how long each answer may take, and whether the shop's TLS
#: certificate is checked. Put them in a ``settings_schema``:
#: ``(SettingField("base_url", ...), *SHOP_CALL_SETTINGS)``.
SHOP_CALL_SETTINGS: tuple[SettingField, ...] = (
    SettingField(
        "timeout",
        "Timeout (seconds)",
        type="int",
        required=False,
        default=15,
        minimum=1,
        maximum=60,
        help="How long to wait for each answer of the shop.",
    ),
    SettingField(
        "verify_tls",
        "Check the shop's TLS certificate",
        type="bool",
        required=False,
        default=True,
        help="Turn it off only for a test shop with a self-signed certificate.",
    ),
)
