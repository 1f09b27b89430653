"""Changing a customer's details outside the CSV import: the language of their notices."""

from __future__ import annotations

from sqlalchemy import select

from .. import audit
from ..errors import NotFound
from ..executor import CommandContext
from ..notices import parse_locale
from ..store.collection_tables import Customer


class SetCustomerLocale:
    """The language (zh-CN or en) the debtor's notices and letters are written in from now
    on; notices already recorded keep the language they were sent in."""

    name = "collection_customer_locale"

    def __init__(self, customer: str, locale: str) -> None:
        self.customer, self.locale = customer, locale

    def __call__(self, ctx: CommandContext) -> Customer:
        locale = parse_locale(self.locale)
        customer = ctx.session.scalars(
            select(Customer).where(Customer.key == self.customer)
        ).first()
        if customer is None:
            raise NotFound(f"no customer {self.customer!r}")
        old, customer.locale = customer.locale, locale
        ctx.session.flush()
        payload = {"customer": customer.key, "old": old, "new": locale}
        audit.append(ctx, "collection.customer_locale", payload=payload, chain=audit.COLLECTION)
        return customer
