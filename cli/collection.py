"""``caseclock collection …``: receivables, payments and fees (collection slice)."""
