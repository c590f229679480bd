"""semnet.data."""
