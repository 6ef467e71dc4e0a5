from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openturk.errors import ParameterError
from openturk.money import MAX_CENTS, MoneyFormatError, fee_cents, format_amount, formatted_price, parse_cents

CURRENCY = re.compile(r"^[0-9]+(\.)?[0-9]{0,2}$")  # the model's CurrencyAmount pattern


@pytest.mark.parametrize(
    ("text", "cents"),
    [("5", 500), ("101.42", 10142), ("0.5", 50), ("7.", 700), ("0", 0), ("0.01", 1), ("10000.00", 1_000_000)],
)
def test_parse_cents_reads_dollar_strings(text: str, cents: int) -> None:
    assert parse_cents(text) == cents


@pytest.mark.parametrize("text", ["", ".5", "0.975", "-1", "1e3", "$5", "5 ", " 5", "1,000", "NaN", "٣"])
def test_parse_cents_refuses_anything_else(text: str) -> None:
    with pytest.raises(MoneyFormatError):
        parse_cents(text)


@given(st.from_regex(CURRENCY, fullmatch=True))
def test_parse_agrees_with_decimal_on_every_valid_amount(text: str) -> None:
    with localcontext() as exact:
        exact.prec = 200
        expected = int(Decimal(text.rstrip(".") or "0") * 100)
    if expected > MAX_CENTS:
        with pytest.raises(MoneyFormatError):
            parse_cents(text)
    else:
        assert parse_cents(text) == expected


def test_amounts_beyond_the_maximum_are_refused_as_a_request_error() -> None:
    assert parse_cents("10000000000") == MAX_CENTS
    with pytest.raises(ParameterError, match="largest amount"):
        parse_cents("10000000000.01")
    with pytest.raises(ParameterError, match="largest amount"):
        parse_cents("9" * 40)


@given(st.integers(min_value=0, max_value=MAX_CENTS))
def test_format_then_parse_round_trips(cents: int) -> None:
    assert parse_cents(format_amount(cents)) == cents


def test_formatted_price_is_the_legacy_form() -> None:
    assert formatted_price(1_000_000) == "$10,000.00"
    assert formatted_price(4) == "$0.04"
    assert formatted_price(123_456_789) == "$1,234,567.89"


@pytest.mark.parametrize(
    ("reward", "fee"),
    [(1, 1), (2, 1), (4, 1), (5, 1), (7, 1), (8, 2), (33, 7), (50, 10), (102, 20), (103, 21), (1000, 200)],
)
def test_twenty_percent_fee_half_up_minimum_one_cent(reward: int, fee: int) -> None:
    assert fee_cents(reward, Decimal("0.20"), 1) == fee


@given(st.integers(min_value=0, max_value=10**12), st.decimals(min_value=0, max_value=1, places=4))
def test_fee_matches_decimal_half_up(cents: int, rate: Decimal) -> None:
    expected = (Decimal(cents) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert fee_cents(cents, rate, 1) == (0 if cents == 0 or rate == 0 else max(int(expected), 1))
