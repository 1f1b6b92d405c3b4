"""``python -m semantic``: the command line of :mod:`semantic.cli`."""

import sys

from semantic.cli import main

sys.exit(main())
