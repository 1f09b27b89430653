"""Exact money: integer minor units (分) in the database, :class:`~decimal.Decimal` in Python.

Floats never touch an amount. SQLite's ``Numeric`` is a float underneath (it read
12345678901234567.89 back as ...568.00), so amounts are stored as BIGINT counts of
the currency's minor unit and summed by the database as integers.
"""

from __future__ import annotations

import decimal
import re
from decimal import Decimal

from ..errors import ValidationError, at_field

# The active currencies of ISO 4217 ("Codes for the representation of currencies") by
# the digits of their minor unit: List One as published by its maintenance agency (SIX)
# on 2024-06-25, plus XCG (Caribbean guilder, in use since 2025-03-31). The list's codes
# without a minor unit (XAU and the other metals, XDR, XSU, XUA, the bond-market units
# XBA-XBD, XTS for testing, XXX for "no currency") are not money a debt is owed in.
_MINOR_UNITS = {
    0: "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF",
    2: "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN "
    "BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB "
    "EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR "
    "KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR "
    "MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK "
    "SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU "
    "UZS VED VES WST XCD XCG YER ZAR ZMW ZWG",
    3: "BHD IQD JOD KWD LYD OMR TND",
    4: "CLF UYW",
}
# Currency code -> digits of its minor unit; the one list of currencies CaseClock accepts.
EXPONENTS = {code: digits for digits, codes in _MINOR_UNITS.items() for code in codes.split()}

ROUNDING_MODES = {
    "half_up": decimal.ROUND_HALF_UP,  # 四舍五入, the usual contract wording
    "half_even": decimal.ROUND_HALF_EVEN,  # banker's rounding
    "down": decimal.ROUND_DOWN,  # truncate towards zero: never charge a fraction
    "up": decimal.ROUND_UP,
    "floor": decimal.ROUND_FLOOR,
    "ceiling": decimal.ROUND_CEILING,
}

# Enough digits that no intermediate product of an amount and a rate is ever rounded.
_PRECISION = 60
# An amount as text: ASCII digits, plain or in comma-separated groups of three.
AMOUNT = re.compile(r"-?(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.[0-9]+)?")
# 9,223,372,036,854,775,807: the largest BIGINT.
MAX_MINOR = 2**63 - 1


def exponent(currency: str) -> int:
    # A code stored before imports checked it (:func:`check_currency`) still counts in
    # hundredths, as every code did then.
    return EXPONENTS.get(currency.upper(), 2)


def check_currency(text: str, field: str = "currency") -> str:
    """``text`` as an active ISO 4217 code (upper case), or a :class:`ValidationError`
    at ``field``: three letters alone ("ABC", "XXX") say nothing about the money owed."""
    code = text.strip().upper()
    if code not in EXPONENTS:
        raise at_field(field, f"{field} {text.strip()!r}: not an active ISO 4217 currency "
                       "code, such as CNY, USD or EUR")  # fmt: skip
    return code


def context() -> decimal.Context:
    """A context for intermediate arithmetic: wide, and loud on anything inexact."""
    return decimal.Context(prec=_PRECISION, traps=[decimal.InvalidOperation])


def parse_amount(text: str | Decimal | int, currency: str = "CNY") -> int:
    """``"1234.50"`` → 123450 minor units. Refuses more decimals than the currency has.

    Text is a plain decimal (:data:`AMOUNT`): digits, an optional leading minus (callers
    refuse what their field cannot be), an optional decimal part. Thousands separators
    are accepted in groups of three (``1,234.50``) because spreadsheets write them;
    ``1,2`` (was it 1.2 or 12?) and exponents (``1e3``) are refused, not guessed at.
    """
    if isinstance(text, (bool, float)):
        raise ValidationError(f"amount {text!r}: give a decimal string, never a float")
    if isinstance(text, str):
        raw = text.strip()
        if not AMOUNT.fullmatch(raw):
            raise ValidationError(
                f"amount {text!r} is not a plain decimal: write e.g. 1234.50 or 1,234.50"
            )
        value = Decimal(raw.replace(",", ""))
    else:
        value = Decimal(text)
    if not value.is_finite():
        raise ValidationError(f"amount {text!r} is not a finite number")
    return to_minor(value, currency)


def to_minor(value: Decimal, currency: str = "CNY", rounding: str | None = None) -> int:
    """Decimal amount → minor units; exact unless a ``rounding`` mode is given."""
    scaled = value.scaleb(exponent(currency), context())
    if rounding is None:
        if scaled != scaled.to_integral_value():
            raise ValidationError(
                f"amount {value} has more than {exponent(currency)} decimals for {currency}"
            )
        minor = int(scaled)
    else:
        minor = int(round_minor(scaled, rounding))
    if abs(minor) > MAX_MINOR:
        raise ValidationError(f"amount {value} is too large to store")
    return minor


def from_minor(minor: int, currency: str = "CNY") -> Decimal:
    """123450 → Decimal('1234.50'), always with the currency's number of decimals."""
    places = exponent(currency)
    return (
        Decimal(minor)
        .scaleb(-places, context())
        .quantize(Decimal(1).scaleb(-places), context=context())
    )


def format_amount(minor: int, currency: str = "CNY") -> str:
    return str(from_minor(minor, currency))


def round_minor(value: Decimal, mode: str) -> Decimal:
    """Round a (fractional) count of minor units to a whole one by a contract's mode."""
    try:
        rounding = ROUNDING_MODES[mode]
    except KeyError:
        known = ", ".join(ROUNDING_MODES)
        raise ValidationError(f"rounding {mode!r} unknown; use one of {known}") from None
    return value.quantize(Decimal(1), rounding=rounding, context=context())
