"""Text to tree: one line of Python syntax, parsed with :mod:`ast` (never ``eval``-ed), with
``let X = ... in ...`` read as ``X = ...; ...``, and checked against the grammar before it is
returned (``matviz.core.expr.checker``)."""

from __future__ import annotations

import ast
import io
import tokenize

from matviz.core.expr.checker import Checker
from matviz.core.expr.spans import caret, error, nested_too_deeply
from matviz.errors import ExpressionError

__all__ = ["parse"]


def parse(text: str) -> ast.Expression | ast.Module:
    """Parse ``text`` and check it uses only the grammar (names are checked by evaluate).

    A plain expression comes back as an ``ast.Expression``; one with bindings (``let X = ... in
    ...`` or ``X = ...; ...``) as an ``ast.Module``: ``Assign`` statements, one name each, then one
    ``Expr``. ``let``/``in`` are read as ``=``/``;`` (same columns), so node positions refer to
    ``text`` itself, even when it starts with spaces.
    """
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be a string, not {type(text).__name__}")
    _reject_control_characters(text)
    if not text.strip():
        raise ExpressionError(
            "the expression is empty: write e.g. softmax(Q @ K.T / sqrt(d)) @ V\n" + caret(text, 0, 1)
        )
    source, program = _desugar_let(text)
    body = source.lstrip(" \t")
    lead = len(source) - len(body)  # ASCII spaces: as many bytes as characters
    try:
        tree = ast.parse(body, mode="exec" if program else "eval")
    except SyntaxError as err:
        raise _syntax_error(text, err, lead) from None
    except (ValueError, RecursionError, MemoryError) as err:  # absurd nesting
        raise ExpressionError(f"the expression cannot be parsed ({err}): simplify it\n" + caret(text, 0, len(text)))
    if lead:
        _shift_columns(tree, lead)
    try:
        if program:
            Checker(text).program(tree)
        else:
            Checker(text).check(tree.body)
    except RecursionError:
        raise nested_too_deeply(text) from None
    return tree


def _desugar_let(text: str) -> tuple[str, bool]:
    """``(source, program)``: ``text`` with each top-level ``let`` blanked and its ``in`` made ``;``
    (same length, so columns are kept), and whether it has bindings (a top-level ``=`` or ``;``).
    Text that does not tokenize is returned as it is (the parser reports it)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return text, False
    chars, depth, pending, program = list(text), 0, [], False
    for i, tok in enumerate(tokens):
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
        elif depth == 0 and tok.type == tokenize.OP and tok.string in ("=", ";"):
            program = True
        elif depth == 0 and tok.type == tokenize.NAME and tok.string == "let":
            after = tokens[i + 1 : i + 3]
            if len(after) == 2 and after[0].type == tokenize.NAME and after[1].string == "=":
                col = tok.start[1]
                chars[col : col + 3] = "   "
                pending.append(tok)
                program = True
        elif depth == 0 and tok.type == tokenize.NAME and tok.string == "in" and pending:
            col = tok.start[1]
            chars[col : col + 2] = "; "
            pending.pop()
    if pending:
        col = pending[-1].start[1]
        raise error(
            text, (col, col + 3), "let without in: write let X = ... in EXPR, e.g. let X = A @ B in X.T @ X"
        )
    return "".join(chars), program


def _reject_control_characters(text: str) -> None:
    """Expressions are one line of printable text (a tab counts as a space)."""
    bad = [i for i, ch in enumerate(text) if (ch < " " and ch != "\t") or ch == "\x7f"]
    if not bad:
        return
    i = bad[0]
    shown = "".join(" " if j in bad else ch for j, ch in enumerate(text))
    if text[i] in "\r\n":
        raise error(shown, (i, i + 1), "the expression has a line break: write it on one line")
    raise error(shown, (i, i + 1), f"the expression has a control character {text[i]!r} at column {i}: remove it")


def _syntax_error(text: str, err: SyntaxError, lead: int) -> ExpressionError:
    """Caret at the SyntaxError's offset (1-based characters; 0 or missing means the end)."""
    end_of_text = len(text.rstrip())
    start = lead + err.offset - 1 if err.offset else end_of_text
    if start >= end_of_text:
        where = "at the end of the expression: something is missing"
        start, end = end_of_text, end_of_text + 1
    else:
        end = lead + err.end_offset - 1 if err.end_offset and err.end_offset > err.offset else start + 1
        where = f"at {text[start:end]!r}"
    example = "e.g. softmax(Q @ K.T / sqrt(d)) @ V"
    return error(text, (start, end), f"syntax error {where} ({err.msg}); expressions use Python syntax, {example}")


def _shift_columns(tree: ast.AST, by: int) -> None:
    for node in ast.walk(tree):
        if hasattr(node, "col_offset"):
            node.col_offset += by
            node.end_col_offset += by
