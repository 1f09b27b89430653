"""``caseclock user …``: web login accounts (filled in by the web slice)."""
