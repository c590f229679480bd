"""semnet.report."""
