"""Small helpers shared by test modules (importable because pytest puts tests/ on sys.path)."""

import os


def listing(directory) -> list[str]:
    """Every entry below ``directory``, hidden files included (to prove nothing was left behind)."""
    out = []
    for root, dirs, files in os.walk(directory):
        for name in dirs + files:
            out.append(os.path.relpath(os.path.join(root, name), directory))
    return sorted(out)
