"""``python -m semnet``: the same command line as the ``semnet`` console script."""

import sys

from semnet.cli import main

if __name__ == "__main__":
    sys.exit(main())
