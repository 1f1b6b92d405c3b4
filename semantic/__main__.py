"""``python -m semantic``: the command line of :mod:`semantic.surfaces.cli`."""

import sys

from semantic.surfaces.cli import main

sys.exit(main())
