"""Where a node is in the text, and the errors that point at it.

Every :class:`~matviz.errors.ExpressionError` is one line saying what is wrong and how to fix it,
then the expression and a line of ``^`` under the offending part (:func:`caret`). The helpers
here turn a node into its columns and its source text, and word the hints ("did you mean K.T?").
"""

from __future__ import annotations

import ast
import difflib

import numpy as np

from matviz.errors import ExpressionError

__all__ = [
    "atom",
    "caret",
    "count",
    "dims",
    "error",
    "nested_too_deeply",
    "source",
    "span",
    "suggest",
    "transposed",
]


def caret(text: str, start: int, end: int) -> str:
    """The last two lines of every ExpressionError: the expression, and ``^`` under columns
    ``start:end`` (at least one ``^``; ``start == len(text)`` points just past the end)."""
    start = min(max(start, 0), len(text))
    width = max(end - start, 1)
    shown = text.replace("\t", " ")  # one column per character, so the marks line up
    return f"  {shown}\n  {' ' * start}{'^' * width}"


def error(text: str, where: ast.AST | tuple[int, int], message: str) -> ExpressionError:
    """An ExpressionError: ``message`` (one line), then the expression with a caret under ``where``."""
    start, end = where if isinstance(where, tuple) else span(text, where)
    return ExpressionError(f"{message}\n{caret(text, start, end)}")


def nested_too_deeply(text: str) -> ExpressionError:
    return error(text, (0, len(text)), "the expression is nested too deeply: split it into smaller ones")


def span(text: str, node: ast.AST) -> tuple[int, int]:
    """Character columns of ``node`` (ast counts UTF-8 bytes)."""
    raw = text.encode()
    return (
        len(raw[: node.col_offset].decode(errors="ignore")),
        len(raw[: node.end_col_offset].decode(errors="ignore")),
    )


def source(text: str, node: ast.AST) -> str:
    """The source text of ``node`` (without the parentheses around it)."""
    start, end = span(text, node)
    return text[start:end]


def atom(text: str, node: ast.AST) -> str:
    """The source of ``node``, parenthesized unless it is a name, number, call or attribute."""
    src = source(text, node)
    return src if isinstance(node, (ast.Name, ast.Constant, ast.Call, ast.Attribute)) else f"({src})"


def transposed(text: str, node: ast.AST) -> str:
    """How to write ``node`` transposed, for a "did you mean" hint: ``K`` -> ``K.T``, ``K.T`` -> ``K``."""
    if isinstance(node, ast.Attribute) and node.attr == "T":
        return atom(text, node.value)
    return atom(text, node) + ".T"


def dims(a: np.ndarray) -> str:
    return f"{a.shape[0]}×{a.shape[1]}"


def count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]}?)" if close else ""
