"""Country codes: the platform's ISO 3166 alpha-3 from the alpha-2 most shops keep, and back.

The platform takes the delivery country (``pays_liv``) in alpha-3 (``FRA``), and
:attr:`Customer.country <bluepaid_plugins.domain.Customer.country>` holds that
form; WooCommerce, PrestaShop and most shop software store alpha-2 (``FR``).
The table comes from the Unicode CLDR, through Babel's territory data, so it
follows ISO 3166 as Babel is upgraded rather than as someone last copied it.
"""

from __future__ import annotations

from functools import cache

from babel.core import get_global

# CLDR lists withdrawn alpha-3 codes among the aliases of the country that took
# their place (Burma's BUR beside MMR for MM). These are the withdrawn ones that
# share an alpha-2 code with a current country's alpha-3 code.
_WITHDRAWN = frozenset({"BUR", "DDR", "FXX", "TMP", "YMD", "ZAR"})


def _user_assigned(code: str) -> bool:
    """ISO 3166-1 leaves AAA-AAZ, QMA-QZZ, XAA-XZZ and ZZA-ZZZ to private use: CLDR
    gives such codes to the European Union (QUU), Kosovo (XKK), "unknown" (ZZZ)...,
    none of which is a country code the platform knows."""
    return code[:2] in ("AA", "ZZ") or code[0] == "X" or "QM" <= code[:2] <= "QZ"


@cache
def _alpha3_by_alpha2() -> dict[str, str]:
    table: dict[str, str] = {}
    for alias, replacement in get_global("territory_aliases").items():
        # CLDR writes each current alpha-3 code as an alias ("overlong") of its alpha-2 code;
        # numeric codes and aliases of several countries are something else.
        if len(alias) != 3 or not alias.isalpha() or len(replacement) != 1:
            continue
        if alias not in _WITHDRAWN and not _user_assigned(alias):
            table[replacement[0]] = alias
    return table


def alpha3(code: str) -> str:
    """The ISO 3166 alpha-3 code of the country whose alpha-2 code is ``code``
    (any case, surrounding blanks ignored): ``"fr"`` -> ``"FRA"``.

    An alpha-3 code is returned as it is, upper-cased, when it is one; anything
    else (empty, unknown, a withdrawn code) gives ``""``, so that a connector
    leaves the country out rather than sending the platform a wrong one.
    """
    text = code.strip().upper()
    table = _alpha3_by_alpha2()
    if len(text) == 3:
        return text if text in table.values() else ""
    return table.get(text, "")


def alpha2(code: str) -> str:
    """The ISO 3166 alpha-2 code of the country whose alpha-3 code is ``code`` (any
    case): ``"fra"`` -> ``"FR"``, the form a shop stores; ``""`` for anything else.
    The inverse of :func:`alpha3`, for connectors that write a country to the shop."""
    wanted = code.strip().upper()
    return next((two for two, three in _alpha3_by_alpha2().items() if three == wanted), "")
