"""``python -m matviz ...`` is the ``matviz`` command (its exit status is main()'s)."""

from matviz.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
