"""Pure numpy: normalizations, products and their exact block aggregates, layout geometry.

Nothing here imports pyvista, torch or rich (a test asserts it), so the maths can be used and
tested without a renderer.
"""

from matviz.core.ops import (
    axis_number,
    check_matrix,
    generalized_normalize,
    minmax,
    signed_minmax,
    softmax,
)
from matviz.core.products import (
    DEFAULT_BUDGET,
    Blocks,
    block_means,
    block_reduce,
    block_sums,
    partial_result,
    plan_blocks,
)

__all__ = [
    "DEFAULT_BUDGET",
    "Blocks",
    "axis_number",
    "block_means",
    "block_reduce",
    "block_sums",
    "check_matrix",
    "generalized_normalize",
    "minmax",
    "partial_result",
    "plan_blocks",
    "signed_minmax",
    "softmax",
]
