"""semnet.matrices."""
