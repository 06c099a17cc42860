"""What both request endpoints share: the rules of a variable's value, the check
that applies a table of them, and the URL conventions.

:mod:`~bluepaid_plugins.protocol.request` (``in.php``) and
:mod:`~bluepaid_plugins.protocol.subscription` (``ABOv2/in.php``) build their
tables of rules from the functions here, each under its own spelling of the
variable names.

Our objects take URLs *with* scheme (``https://shop.example/ok``), as every
other part of the project writes them. The platform wants them *without*
scheme plus a flag (``set_secure_return=1`` for https): :func:`split_url` and
:func:`join_url` convert between the two. :func:`origin` is the part of a URL
that browsers compare (the sandbox's referrer check, the hub's form target).

Validation never stops at the first fault: it returns (or raises, in a
:class:`~bluepaid_plugins.errors.ValidationError`) every
:class:`~bluepaid_plugins.errors.Problem` at once, each named after the
protocol variable, with a message a merchant can act on.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from bluepaid_plugins.errors import Problem, ValidationError
from bluepaid_plugins.money import CURRENCIES, Money, check_currency, currency_decimals

#: The platform's address; a sandbox or a test server replaces it.
PLATFORM_URL = "https://paiement-securise.bluepaid.com"

#: Payment page languages the historical modules sent (``langue``, upper case).
LANGUAGES = ("FR", "EN", "DE", "ES", "IT", "NL", "PT")

_ID_BOUTIQUE = re.compile(r"[A-Za-z0-9_-]{1,32}")
_COUNTRY = re.compile(r"[A-Z]{3}")
_EMAIL_DOMAIN = re.compile(r"[^.@]+(?:\.[^.@]+)+")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_WHOLE_NUMBER = re.compile(r"[0-9]{1,6}")
_HOST_END = re.compile(r"[/?#]")
_PORT = re.compile(r"[0-9]{1,5}")
# What Money.parse reads, minus the decimal comma that only confirmations may carry.
_REQUEST_AMOUNT = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,12})?")

#: A rule looks at one non-empty value and returns what is wrong with it, or None.
Rule = Callable[[str], str | None]


def _show(value: str) -> str:
    """A value quoted for a message, cut short: messages must stay readable."""
    return repr(value) if len(value) <= 40 else repr(value[:40]) + "..."


def unprintable(value: str) -> str | None:
    """Name the first control or invisible character of ``value``, if any."""
    for position, char in enumerate(value):
        if not char.isprintable():
            return (
                f"contains the control or invisible character U+{ord(char):04X} at position "
                f"{position}; only printable characters are allowed"
            )
    return None


def text(max_length: int) -> Rule:
    """Printable text (checked for every variable) of at most ``max_length`` characters."""

    def rule(value: str) -> str | None:
        if len(value) > max_length:
            return f"is {len(value)} characters long; at most {max_length} are allowed"
        return None

    return rule


def merchant_id(value: str) -> str | None:
    """1 to 32 ASCII letters, digits, ``_`` or ``-`` (``21573www``)."""
    if _ID_BOUTIQUE.fullmatch(value):
        return None
    return (
        f"{_show(value)} is not a merchant id; expected 1 to 32 characters among "
        "A-Z, a-z, 0-9, '_' and '-', e.g. '21573www'"
    )


def currency_code(value: str) -> str | None:
    """One of :data:`~bluepaid_plugins.money.CURRENCIES`."""
    try:
        check_currency(value)
    except ValidationError as exc:
        return "; ".join(problem.message for problem in exc.problems)
    return None


def language(value: str) -> str | None:
    """One of :data:`LANGUAGES`, upper case."""
    if value in LANGUAGES:
        return None
    if value.upper() in LANGUAGES:
        return f"{_show(value)} must be upper case: {value.upper()!r}"
    return f"unknown language {_show(value)}; use one of {', '.join(LANGUAGES)}"


def email_address(value: str) -> str | None:
    """A plausible address: at most 128 characters, one ``@``, no spaces, a dotted domain."""
    if len(value) > 128:
        return f"is {len(value)} characters long; an e-mail address has at most 128"
    if any(char.isspace() for char in value):
        return f"{_show(value)} contains a space; expected an address like 'buyer@example.com'"
    local, _, domain = value.partition("@")
    if value.count("@") != 1 or not local or not _EMAIL_DOMAIN.fullmatch(domain):
        return (
            f"{_show(value)} is not an e-mail address; expected one '@' between a name and "
            "a domain, like 'buyer@example.com'"
        )
    return None


def url_without_scheme(flag: str) -> Rule:
    """A URL without scheme whose https/http choice travels in ``flag``.

    At most 512 characters, no whitespace, and a host an HTTP client can
    connect to before the first ``/``, ``?`` or ``#``: dot-separated labels of
    1 to 63 characters (``shop.example``, ``127.0.0.1``, ``localhost``; no
    ``a..b`` nor a dot at either end) or a bracketed IPv6 address (``[::1]``),
    then an optional port up to 65535.
    """

    def rule(value: str) -> str | None:
        if _SCHEME.match(value):
            return (
                f"{_show(value)} starts with a scheme; the platform wants URLs without it, "
                f"e.g. 'shop.example/return', and {flag}=1 to use https"
            )
        if len(value) > 512:
            return f"is {len(value)} characters long; at most 512 are allowed"
        if any(char.isspace() for char in value):
            return f"{_show(value)} contains whitespace; encode spaces as %20"
        authority = _HOST_END.split(value, maxsplit=1)[0]
        if not authority:
            return f"{_show(value)} has no host; expected 'host/path', e.g. 'shop.example/return'"
        fault = _host_fault(authority.rpartition("@")[2])
        return f"{_show(value)} {fault}" if fault else None

    return rule


def _host_fault(host_port: str) -> str | None:
    """What is wrong with ``host[:port]`` (the part before the path), if anything.

    A name is dot-separated labels of 1 to 63 characters, an IPv6 address
    goes in brackets, a port is a number up to 65535: what an HTTP client
    needs to open the connection.
    """
    if host_port.startswith("["):
        address, bracket, after = host_port[1:].partition("]")
        if not bracket or not _is_ipv6(address) or after[:1] not in ("", ":"):
            return "has a bracketed host that is not an IPv6 address; expected e.g. '[::1]:8080/return'"
        port = after[1:]
    else:
        host, _, port = host_port.partition(":")
        labels = host.split(".")
        if "" in labels:
            return (
                f"has an empty label in its host {_show(host)} (a dot at either end, or two in a row); "
                "expected e.g. 'shop.example/return'"
            )
        if any(len(label) > 63 for label in labels):
            return f"has a label longer than 63 characters in its host {_show(host)}"
    if port and not (_PORT.fullmatch(port) and int(port) <= 65535):
        return f"has port {_show(port)}; expected a number up to 65535, e.g. 'shop.example:8080/return'"
    return None


def _is_ipv6(address: str) -> bool:
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        return False
    return True


def secure_flag(value: str) -> str | None:
    """``1`` (https) or ``0`` (http)."""
    if value in ("0", "1"):
        return None
    return f"{_show(value)} is not a flag; expected '1' for https or '0' for http"


def country_code(value: str) -> str | None:
    """An ISO 3166 alpha-3 code: three upper-case ASCII letters (``FRA``)."""
    if _COUNTRY.fullmatch(value):
        return None
    return f"{_show(value)} is not a country code; expected 3 upper-case letters, e.g. 'FRA'"


def whole_number(low: int, high: int) -> Rule:
    """ASCII digits only (no sign, no other script's digits), between ``low`` and ``high``."""

    def rule(value: str) -> str | None:
        if _WHOLE_NUMBER.fullmatch(value) and low <= int(value) <= high:
            return None
        return f"{_show(value)} is not allowed; expected a whole number from {low} to {high}"

    return rule


def one_of(allowed: tuple[str, ...], meaning: str) -> Rule:
    """Exactly one of ``allowed``."""

    def rule(value: str) -> str | None:
        if value in allowed:
            return None
        return f"unknown {meaning} {_show(value)}; use one of {', '.join(allowed)}"

    return rule


def _amount(value: str, currency: str | None) -> str | None:
    """An amount above zero in major units with a dot; with a ``currency``, exact to its decimals.

    The form (digits, one dot, not zero) is checked with or without a currency,
    so that a bad currency does not hide a bad amount; the number of decimals
    only once ``currency`` is one the platform takes.
    """
    example = str(Money.from_minor(207, currency or "EUR"))
    if "," in value:
        return (
            f"{_show(value)} uses a decimal comma; requests use a dot, e.g. {example!r} "
            "(only confirmations may carry a comma)"
        )
    if not _REQUEST_AMOUNT.fullmatch(value):
        return f"{_show(value)} is not an amount; expected major units with a dot, e.g. {example!r}"
    if not value.strip("0."):
        return f"{_show(value)} is zero; a payment must be more than 0"
    if currency is None:
        return None
    try:
        Money.parse(value, currency)
    except ValidationError as exc:
        found = "; ".join(problem.message for problem in exc.problems)
        places = currency_decimals(currency)
        return (
            f"{found}; expected major units with a dot and at most {places} decimals "
            f"for {currency}, e.g. {example!r}"
        )
    return None


def check_fields(
    fields: Mapping[str, str],
    order: tuple[str, ...],
    rules: Mapping[str, Rule],
    required: tuple[str, ...],
    amounts: tuple[str, ...],
    currency: str,
) -> list[Problem]:
    """Apply ``rules`` (and the amount rule to ``amounts``) to ``fields``.

    An empty value counts as not given: HTML forms send empty inputs, and the
    sandbox reads them as absent. Problems come in the order of ``order``,
    unknown variables last.
    """
    problems: list[Problem] = []
    devise = fields.get(currency)
    known_currency = devise if isinstance(devise, str) and devise in CURRENCIES else None
    for name in order:
        value = fields.get(name)
        if value is None or value == "":
            if name in required:
                needed = ", ".join(required)
                problems.append(Problem(name, f"is missing; a request must give {needed}"))
            continue
        if not isinstance(value, str):
            # Plugins edit the mapping at run time; a number slipped in is their bug to see.
            problems.append(Problem(name, f"must be text, not {type(value).__name__}"))
            continue
        message = unprintable(value)
        if message is None and name in amounts:
            # Without a valid currency only the decimals cannot be judged; the
            # currency's own problem is reported under its name.
            message = _amount(value, known_currency)
        elif message is None:
            message = rules[name](value)
        if message is not None:
            problems.append(Problem(name, message))
    upper_case = order[0].isupper()
    for name in fields:
        if name in order:
            continue
        shown = name if len(name) <= 40 else name[:40] + "..."
        other = name.upper() if upper_case else name.lower()
        if other in order:
            case = "upper" if upper_case else "lower"
            problems.append(Problem(shown, f"unknown variable; this endpoint's are {case} case: {other!r}"))
        else:
            problems.append(Problem(shown, f"unknown variable; expected one of {', '.join(order)}"))
    return problems


def split_url(url: str, field: str = "url") -> tuple[str, bool]:
    """``https://shop.example/ok`` -> ``("shop.example/ok", True)``.

    The scheme is matched case-insensitively. Raises ValidationError, naming
    ``field``, for any scheme but http and https or for nothing after the scheme.
    The rest of the value is checked by the ``validate_*`` functions.
    """
    scheme, separator, rest = url.partition("://")
    if not separator or scheme.lower() not in ("http", "https"):
        raise ValidationError(Problem(field, f"{_show(url)} must start with https:// or http://"))
    if not rest:
        raise ValidationError(Problem(field, f"{_show(url)} has nothing after the scheme"))
    return rest, scheme.lower() == "https"


def join_url(value: str, secure: bool) -> str:
    """The inverse of :func:`split_url`: ``("shop.example/ok", True)`` -> ``https://shop.example/ok``."""
    return f"{'https' if secure else 'http'}://{value}"


def origin(url: str) -> str | None:
    """``https://Shop.example:443/cart`` -> ``https://shop.example``: scheme, host and port.

    The scheme and host are lower-cased and a default port (80 for http, 443
    for https) is left out, so two spellings of one origin compare equal; an
    IPv6 host keeps its brackets. None for anything but an http(s) URL with a
    host (a relative or unreadable URL, another scheme, a bad port).
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in ("http", "https") or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    default_port = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" if port in (None, default_port) else f"{scheme}://{host}:{port}"


def endpoint_url(platform: str, path: str) -> str:
    """``path`` on the ``platform`` address, e.g. ``{platform}/in.php``."""
    # A trailing slash on the configured platform address must not double the separator.
    return f"{platform.rstrip('/')}/{path}"


def place_urls(
    fields: dict[str, str],
    problems: list[Problem],
    returns: tuple[tuple[str, str], tuple[str, str]],
    confirmation: tuple[str, str],
    flags: tuple[str, str],
) -> None:
    """Add URLs without scheme and their secure flags to ``fields``.

    ``returns`` and ``confirmation`` pair each variable name with the full URL
    given (empty: not sent). Both return URLs share one flag, so their schemes
    must agree. Without a confirmation URL the confirmation flag still goes out,
    as ``1``: it then concerns the URL registered in the merchant area, and the
    logged request shows modules asking for https there.
    """
    return_flag, conf_flag = flags
    secure: dict[str, bool] = {}
    for name, url in (*returns, confirmation):
        if not url:
            continue
        try:
            fields[name], secure[name] = split_url(url, name)
        except ValidationError as exc:
            problems.extend(exc.problems)
    given = [(name, secure[name]) for name, _ in returns if name in secure]
    if given:
        first_name, first_secure = given[0]
        fields[return_flag] = "1" if first_secure else "0"
        for name, is_https in given[1:]:
            if is_https != first_secure:
                problems.append(
                    Problem(
                        name,
                        f"is {'https' if is_https else 'http'} but {first_name} is "
                        f"{'https' if first_secure else 'http'}; both return URLs share "
                        f"{return_flag}, so give them the same scheme",
                    )
                )
    fields[conf_flag] = "1" if secure.get(confirmation[0], True) else "0"


def checked_fields(
    fields: Mapping[str, str],
    problems: list[Problem],
    validate: Callable[[Mapping[str, str]], list[Problem]],
    order: tuple[str, ...],
    summary: str,
) -> dict[str, str]:
    """``fields`` without its empty values, once ``validate`` finds nothing wrong with them.

    Raises ValidationError (``summary``) listing ``problems`` already found and
    those of ``validate``, sorted by variable in ``order``.
    """
    sent = {name: value for name, value in fields.items() if value}
    problems.extend(validate(sent))
    if problems:
        raise ValidationError(_in_order(problems, order), summary)
    return sent


def _in_order(problems: list[Problem], order: tuple[str, ...]) -> list[Problem]:
    """``problems`` sorted by variable in protocol order, each field's own order kept."""
    return sorted(problems, key=lambda p: order.index(p.field) if p.field in order else len(order))
