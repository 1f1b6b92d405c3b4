"""``python -m semantic``: the command line of :mod:`semantic.surfaces.cli`."""

import sys

from semantic.surfaces.cli import main

if __name__ == "__main__":
    sys.exit(main())
