"""Country codes between the alpha-2 shops keep and the alpha-3 the platform wants."""

from __future__ import annotations

import pytest

from bluepaid_plugins.countries import _alpha3_by_alpha2, alpha2, alpha3


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("FR", "FRA"),
        ("fr", "FRA"),
        (" de ", "DEU"),
        ("GB", "GBR"),
        ("US", "USA"),
        ("MM", "MMR"),
        ("CD", "COD"),
    ],
)
def test_alpha3_of_an_alpha2_code(given: str, expected: str) -> None:
    assert alpha3(given) == expected


@pytest.mark.parametrize("given", ["", "  ", "ZZ", "EU", "XK", "QO", "F", "FRANCE", "12"])
def test_no_alpha3_for_what_is_no_country_code(given: str) -> None:
    assert alpha3(given) == ""


@pytest.mark.parametrize(("given", "expected"), [("FRA", "FRA"), ("usa", "USA"), ("BUR", ""), ("ZZZ", "")])
def test_an_alpha3_code_is_kept_when_it_is_a_current_one(given: str, expected: str) -> None:
    assert alpha3(given) == expected


def test_alpha2_is_the_inverse_of_alpha3_for_every_country() -> None:
    table = _alpha3_by_alpha2()

    assert len(table) > 240
    assert len(set(table.values())) == len(table)
    assert all(alpha2(three) == two and alpha3(two) == three for two, three in table.items())


@pytest.mark.parametrize(
    ("given", "expected"), [("fra", "FR"), ("USA", "US"), ("BUR", ""), ("FR", ""), ("", "")]
)
def test_alpha2_of_an_alpha3_code(given: str, expected: str) -> None:
    assert alpha2(given) == expected
