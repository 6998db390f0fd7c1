"""A small matrix expression language: ``softmax(Q @ K.T / sqrt(d)) @ V`` and friends.

Expressions are one line of Python syntax, parsed with :mod:`ast` and walked here; nothing is ever
``eval``-ed. The grammar:

* names bound in ``env`` (2-D matrices or numbers), number literals, parentheses, unary minus;
* ``A @ B``, the matrix product (each ``@`` is one cube in the renderer);
* ``+ - * /`` elementwise: two matrices need equal shapes, a number applies to every entry;
* ``X.T``, the transpose;
* functions ``sqrt(x)`` and ``exp(x)`` (numbers or entrywise), ``normalize(x)`` (min-max to [0, 1]),
  ``signed(x)`` (min-max to [-1, 1]), ``softmax(x, axis=rows, temperature=1.0, causal=False)`` and
  ``norm(x, f="y+1", axis=rows, causal=False)`` (``f(x) / Σ f(x)`` with ``f`` ``"y+1"`` or ``"exp"``).
  The axis is the bare word ``rows`` (each row sums to 1) or ``cols`` (each column sums to 1), or
  the same as a string, given as ``axis=`` or positionally after ``x``; for ``norm`` a positional
  axis word may come before or after a positional ``f`` string. ``causal`` is ``True`` or ``False``.

Image transforms (``matviz.core.transforms`` has the formulas): ``warp(x, amplitude, wavelength,
axis=rows)`` (row i shifted along itself by ``amplitude·sin(2π·i/wavelength)`` pixels, linearly
interpolated, edges clamped; ``cols``: column j shifted down by ``amplitude·sin(2π·j/wavelength)``),
``flip(x, "h"|"v")``, ``rot90(x, k=1)`` (counter-clockwise), ``roll(x, shift, axis=rows)`` (cyclic,
each row along itself, or each column), ``blur(x, sigma)`` (Gaussian, edges clamped),
``resize(x, rows, cols)`` (anti-aliased, as the sources' ``--resize``), ``relu``, ``tanh``, ``selu``
(entrywise; numbers too), slicing ``x[a:b, c:d]`` (Python slices of rows then columns; ``x[a:b]`` is
rows only; a single index is an error) and ``t_product(x)`` = ``normalize(x.T @ x)`` (one product).

The four fundamental subspaces (``matviz.core.subspaces``; ranks with numpy's default tolerance):
``svd(W)`` is W rebuilt from its thin SVD as two products, ``U @ diag(S)`` and then ``… @ Vt``, so
it draws as two linked cubes whose operand faces are named ``U``, ``diag(S)`` and ``Vt`` and whose
result face is W again (named after W); ``pinv(W)`` the Moore-Penrose pseudo-inverse (n×m);
``proj_row(W, x)`` = P·x, the part of the input ``x`` (an n×1 column or an n×k matrix of columns,
n = W's columns) in W's row space, and ``residual(W, x)`` = x − P·x, the part W ignores
(``W @ residual(W, x)`` is 0); each is one product, ``P_row(W) @ x`` and ``(I - P_row(W)) @ x``.

Bindings: ``let X = norm(A, "y+1", cols) in normalize(X.T @ X)`` or, the same,
``X = norm(A, "y+1", cols); normalize(X.T @ X)``. Several may follow each other; a binding may use
the ones before it, must be used, and may not reuse an env name.

Shared nodes: a repeated sub-expression (written twice, or a binding used twice) is one node,
computed once: ``softmax(A @ B, rows) @ softmax(A @ B, cols)`` records ONE product for ``A @ B``.
Sub-expressions are compared as trees with defaults filled in (``softmax(X)`` is
``softmax(X, axis=rows)``; ``t_product(X)`` is ``normalize(X.T @ X)``).

The name ``d``: unless ``env`` binds it, ``d`` is the inner dimension of the first ``@`` evaluated.
Evaluation goes left to right with operands before their product, so for
``softmax(Q @ K.T / sqrt(d)) @ V`` that is ``Q @ K.T`` and ``d`` is d_head (the columns of Q). Using
``d`` inside that first product, or in an expression without ``@``, is an error.

Causal masking (``causal=True``): entry (i, j) of an (m, n) matrix is masked when j > i, i.e. the
top-left aligned lower triangle is kept, as in torch's ``scaled_dot_product_attention(is_causal=True)``.
Softmax sets masked entries to -inf before the exp; ``norm`` gives them f = 0. Either way they end up
exactly 0, and a row (column, for ``axis=cols``) with every entry masked is an error.

Besides the value, :func:`evaluate` records what the renderer draws (:class:`Evaluation`): one
:class:`Product` per ``@`` node in evaluation order, with its two operands (:class:`Term`). A
product's result is followed up the tree while each node is a *unary matrix step* that keeps the
shape (matrix∘number arithmetic, unary minus, ``sqrt``, ``exp``, ``softmax``, ``norm``,
``normalize``, ``signed``, ``relu``, ``tanh``, ``selu``, ``warp``, ``flip``, ``roll``, ``blur``, and
``rot90``/``resize``/a slice when the shape does not change); each step is a :class:`Stage` (a
causal softmax or norm makes two: ``"causal mask"``, with -inf where masked, then the
normalization). If the chain reaches an operand of a later ``@``, that :class:`Term` has ``source``
= the product's index and its values are the last stage's values. A transpose, a step that changes
the shape, or an operation with another matrix ends the chain: the later term has ``source=None``.

Where the stages go: every place a product's result is used (an operand of a later ``@``, the end
of a chain, the final value) is one *use*, with the steps on its way. The product's own
``stages`` (drawn on its result face) are the steps that all its uses share; with one use, that is
all of them, as before shared nodes existed. A use whose steps go further (a shared ``A @ B``
softmaxed over rows for one consumer and over columns for another) keeps the rest on its
:class:`Term` (``Term.stages``): the shared result face shows the common steps (here the raw
product) and each consuming cube's operand face shows its own.

Every error is an :class:`~matviz.errors.ExpressionError` whose first line says what is wrong and
how to fix it, followed by the expression and a line of ``^`` under the offending part (see
:func:`caret`).

The package, one module per seam: ``parser`` (text → tree: :func:`parse`), ``checker`` (the
grammar, names, shapes, budgets: every caret-line error), ``walker`` (:class:`Walker`, the
expression-tree walker both evaluators subclass), ``evaluator`` (numpy: :func:`evaluate`),
``grammar`` (functions, parameters, words, operators), ``spans`` (columns and carets) and
``record`` (what the renderer draws). ``matviz.learning.fit_torch`` walks the same tree in torch.
"""

from matviz.core.expr.evaluator import Evaluator, evaluate
from matviz.core.expr.grammar import ARITHMETIC, AXES, BIND_HINT, FLIPS, FUNCTIONS, GRAMMAR, NORM_FS
from matviz.core.expr.parser import parse
from matviz.core.expr.record import Evaluation, Product, Term, Value
from matviz.core.expr.spans import caret
from matviz.core.expr.walker import Walker, program, slice_parts
from matviz.core.values import Stage  # one Stage type for expressions and cubes (label, values, kind, rowwise)

__all__ = [
    "ARITHMETIC",
    "AXES",
    "BIND_HINT",
    "FLIPS",
    "FUNCTIONS",
    "GRAMMAR",
    "NORM_FS",
    "Evaluation",
    "Evaluator",
    "Product",
    "Stage",
    "Term",
    "Value",
    "Walker",
    "caret",
    "evaluate",
    "parse",
    "program",
    "slice_parts",
]
