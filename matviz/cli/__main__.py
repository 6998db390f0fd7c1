"""``python -m matviz.cli ...`` is the ``matviz`` command, as ``python -m matviz`` is."""

from matviz.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
