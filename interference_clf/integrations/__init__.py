"""Optional integrations with other frameworks; each is imported only when used and needs its own extra."""
