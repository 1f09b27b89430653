"""Customers, receivables, contract terms and payments (filled in by the collection slice)."""
