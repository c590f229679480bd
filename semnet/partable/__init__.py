"""semnet.partable."""
