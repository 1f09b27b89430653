"""amounts in each currency's ISO 4217 minor unit: refuse to upgrade past stored amounts
that the new scale would misread

Until this revision every currency but JPY and KRW was kept in hundredths. From it on,
``engine.collection.money`` keeps each active ISO 4217 currency in its own minor unit
(KWD in thousandths, CLP in whole units, ...). Amounts already stored in one of the
currencies whose scale changes would be read wrongly, so the upgrade stops and names
them instead; rescaling needs a decision (rounding CLP cents away) that belongs to an
operator, not a migration. No schema change.

Revision ID: c3e5a7d9f1b2
Revises: a1b9f325948f
Create Date: 2026-11-29 15:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.errors import CaseClockError

revision = "c3e5a7d9f1b2"
down_revision = "a1b9f325948f"
branch_labels = None
depends_on = None

# The codes whose minor unit is not the hundredths they were stored in (frozen here: a
# migration must not follow later edits of the application's list).
RESCALED = [
    *("BIF", "CLP", "DJF", "GNF", "ISK", "KMF", "PYG", "RWF", "UGX", "UYI", "VND", "VUV"),
    *("XAF", "XOF", "XPF"),  # no minor unit
    *("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"),  # thousandths
    *("CLF", "UYW"),  # ten-thousandths
]


def upgrade() -> None:
    found = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT upper(currency), count(*) FROM receivable WHERE upper(currency) IN :codes "
                "GROUP BY upper(currency) UNION ALL "
                "SELECT upper(credit_currency), count(*) FROM customer "
                "WHERE upper(credit_currency) IN :codes AND credit_limit_minor IS NOT NULL "
                "GROUP BY upper(credit_currency)"
            ).bindparams(sa.bindparam("codes", expanding=True)),
            {"codes": RESCALED},
        )
        .all()
    )
    if found:
        listed = ", ".join(f"{code} ({count})" for code, count in sorted(found))
        raise CaseClockError(
            f"cannot upgrade: amounts in {listed} are stored in hundredths, and this "
            "version keeps each currency in its ISO 4217 minor unit; rescale those rows "
            "(or remove them) with the previous version, then upgrade"
        )


def downgrade() -> None:
    pass
