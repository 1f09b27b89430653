"""Login accounts and roles for the web application (filled in by the web slice)."""
