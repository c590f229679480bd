"""semnet.estimation."""
