"""``python -m matviz ...`` is the ``matviz`` command."""

import sys

from matviz.cli import main

if __name__ == "__main__":
    sys.exit(main())
