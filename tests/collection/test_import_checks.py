"""What an import row may say about money and contact data: active ISO 4217 currencies only,
and a debtor's phone and e-mail in the shape of a phone number and an e-mail address. A
refused row is reported by its line and column and writes nothing of itself."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.collection.importing import parse_csv
from engine.collection.money import EXPONENTS
from engine.collection.receivables import ImportReceivables, load_account
from engine.erasure import ErasePerson
from engine.errors import ValidationError
from engine.inputs import check_email, check_phone
from engine.store.collection_tables import Customer

from .helpers import csv_text, import_rows, row
from .test_hostile_input import customer, errors_of, keys

CURRENCY_HINT = "not an active ISO 4217 currency code, such as CNY, USD or EUR"
PHONE_HINT = (
    "not a phone number: 5 to 20 digits, with an optional leading + and spaces, dashes or "
    "parentheses"
)
EMAIL_HINT = "not an e-mail address: write name@domain.tld"


def test_a_currency_is_an_active_iso_4217_code_with_its_own_minor_unit(app):
    text = csv_text(
        row("M-1", "10.00", "2026-03-01", currency="ABC"),  # line 2: three letters, no currency
        row("M-2", "10.00", "2026-03-01", currency="XXX"),  # ISO's "no currency involved"
        row("M-3", "10.00", "2026-03-01", currency="XAU"),  # gold: no minor unit
        row("M-4", "10.00", "2026-03-01", currency="HRK"),  # withdrawn (euro since 2023)
        row("M-5", "10.00", "2026-03-01", currency="RMB"),  # what people say, not the code
        row("M-6", "10.00", "2026-03-01", currency="usd"),  # line 7: written as USD
        row("M-7", "1.234", "2026-03-01", currency="KWD"),  # three decimals (fils)
        row("M-8", "1000", "2026-03-01", currency="JPY"),
        row("M-9", "1000.5", "2026-03-01", currency="JPY"),  # line 10: yen have no decimals
        row("M-10", "10.00", "2026-03-01"),  # no currency: CNY
    )
    report = app.execute(ImportReceivables(parse_csv(text), "m.csv"), actor="tester")
    assert [(r.line, r.key, r.error) for r in report.failed] == [
        (2, "M-1", f"currency 'ABC': {CURRENCY_HINT}"),
        (3, "M-2", f"currency 'XXX': {CURRENCY_HINT}"),
        (4, "M-3", f"currency 'XAU': {CURRENCY_HINT}"),
        (5, "M-4", f"currency 'HRK': {CURRENCY_HINT}"),
        (6, "M-5", f"currency 'RMB': {CURRENCY_HINT}"),
        (10, "M-9", "principal: amount 1000.5 has more than 0 decimals for JPY"),
    ]
    assert keys(app) == ["M-10", "M-6", "M-7", "M-8"]
    owed = {key: app.read(lambda s, k=key: load_account(s, k)).receivable for key in keys(app)}
    assert {k: (r.currency, r.principal_minor) for k, r in owed.items()} == {
        "M-6": ("USD", 1000),
        "M-7": ("KWD", 1234),
        "M-8": ("JPY", 1000),
        "M-10": ("CNY", 1000),
    }
    # Nothing of a refused row is written, not even its new customer.
    assert app.read(lambda s: sorted(s.scalars(select(Customer.key)))) == [
        "C-M-10", "C-M-6", "C-M-7", "C-M-8"]  # fmt: skip


def test_the_currency_list_is_iso_4217_list_one():
    assert len(EXPONENTS) == 167  # List One's codes that have a minor unit, and XCG
    assert {c: EXPONENTS[c] for c in ("CNY", "HKD", "JPY", "KRW", "BHD", "CLF", "XCG")} == {
        "CNY": 2, "HKD": 2, "JPY": 0, "KRW": 0, "BHD": 3, "CLF": 4, "XCG": 2}  # fmt: skip
    assert not {"XXX", "XTS", "XAU", "XDR", "HRK", "ZWL", "CNH"} & EXPONENTS.keys()


@pytest.mark.parametrize(
    "phone",
    ["13800138000", "+86 138 0013 8000", "+86-138-0013-8000", "(010) 6552-9988", "+44 20 7946 0958",
     "12345"],
)  # fmt: skip
def test_plausible_phone_numbers_pass(phone):
    assert check_phone(f" {phone} ") == phone


@pytest.mark.parametrize(
    "phone",
    ["138", "call after 6pm", "13800138000 ext 12", "１３８００１３８０００", "++8613800138000",
     "13800138000-", "+", "123456789012345678901", "138 0013 8000 / 139 0013 9000"],
)  # fmt: skip
def test_free_text_phone_numbers_are_refused_at_the_field(phone):
    with pytest.raises(ValidationError) as refused:
        check_phone(phone, "mobile")
    message = f"mobile {phone!r}: {PHONE_HINT}"
    assert (refused.value.message, refused.value.details) == (
        message,
        {"fields": {"mobile": message}},
    )


@pytest.mark.parametrize(
    "email", ["zs@example.com", "zhang.san+debt@mail.example.com.cn", "张三@例子.中国",
              "a@example.xn--fiqs8s"],
)  # fmt: skip
def test_plausible_email_addresses_pass(email):
    assert check_email(email) == email


@pytest.mark.parametrize(
    "email",
    ["zhangsan", "zhangsan@example", "zs@example.c", "zs at example.com", "zs@@example.com",
     "zs@example..com", "zs@-example.com", "zs@exa_mple.com", "zs@example.com; ls@example.com",
     "张三 <zs@example.com>", "zs@example.com."],
)  # fmt: skip
def test_free_text_email_addresses_are_refused_at_the_field(email):
    with pytest.raises(ValidationError) as refused:
        check_email(email)
    assert refused.value.details == {"fields": {"email": f"email {email!r}: {EMAIL_HINT}"}}


def test_empty_contact_data_is_none_and_too_long_is_not_echoed():
    assert (check_phone(None), check_phone("  "), check_email(""), check_email(None)) == (
        None, None, None, None)  # fmt: skip
    with pytest.raises(ValidationError, match=r"^phone is longer than 50 characters$"):
        check_phone("1" * 51)
    with pytest.raises(ValidationError, match=r"^email is longer than 200 characters$"):
        check_email("a" * 190 + "@example.com")


def test_import_rows_with_free_text_contact_data_are_refused_and_write_nothing(app):
    assert errors_of(
        app,
        row("P-1", "10.00", "2026-03-01", phone="+86 138 0013 8000", email="zs@example.com"),
        row("P-2", "10.00", "2026-03-01", phone="13800138000"),
        row("P-3", "10.00", "2026-03-01", phone="138"),
        row("P-4", "10.00", "2026-03-01", phone="见备注"),
        row("P-5", "10.00", "2026-03-01", email="zs at example.com"),
        row("P-6", "10.00", "2026-03-01", email="zs@example"),
    ) == {
        "P-1": None,
        "P-2": None,
        "P-3": f"phone '138': {PHONE_HINT}",
        "P-4": f"phone '见备注': {PHONE_HINT}",
        "P-5": f"email 'zs at example.com': {EMAIL_HINT}",
        "P-6": f"email 'zs@example': {EMAIL_HINT}",
    }
    assert keys(app) == ["P-1", "P-2"]
    assert app.read(lambda s: sorted(s.scalars(select(Customer.key)))) == ["C-P-1", "C-P-2"]
    stored = customer(app, "C-P-1")
    assert (stored.phone, stored.email) == ("+86 138 0013 8000", "zs@example.com")


def test_a_row_meant_to_update_a_customer_cannot_store_free_text_either(app):
    import_rows(app, row("U-1", "10.00", "2026-03-01", customer_key="C-1", phone="13800138000"))
    change = {"customer_key": "C-1", "update_customer": "yes"}
    assert errors_of(
        app,
        row("U-2", "10.00", "2026-03-01", **change, phone="n/a"),
        row("U-3", "10.00", "2026-03-01", **change, phone="139 0013 9000"),
    ) == {"U-2": f"phone 'n/a': {PHONE_HINT}", "U-3": None}
    assert customer(app, "C-1").phone == "139 0013 9000"


def test_an_inactive_collector_is_refused_naming_the_row_and_the_person(org_app):
    """郑催收 left and was erased (PIPL): the person stays, inactive, under their key."""
    org_app.execute(ErasePerson("zheng"), actor="admin")
    text = csv_text(
        row("A-1", "10.00", "2026-03-01", collector="wu"),
        row("A-2", "10.00", "2026-03-01", collector="zheng"),
    )
    report = org_app.execute(ImportReceivables(parse_csv(text), "a.csv"), actor="tester")
    assert [(r.line, r.key, r.error) for r in report.rows] == [
        (2, "A-1", None),
        (3, "A-2", "collector 'zheng' is no longer active in the organisation: name an active "
                   "person"),
    ]  # fmt: skip
    assert keys(org_app) == ["A-1"]
    assert org_app.read(lambda s: sorted(s.scalars(select(Customer.key)))) == ["C-A-1"]
