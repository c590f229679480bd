"""semnet's version (one place; ``semnet.__version__`` reads it)."""

__version__ = "0.1.0"
