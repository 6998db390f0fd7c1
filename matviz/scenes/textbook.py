"""A textbook-small product, (2×3) @ (3×2), with every number written on its cell.

The outline follows C[1,0] = A[1,:] · B[:,0] = 4·1 + 5·3 + 6·5 = 49 through the cube.
"""

import numpy as np

import matviz as mv


def build() -> mv.Cube:
    A = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # (m=2, k=3)
    B = np.array([[1.0, -2.0], [3.0, 4.0], [5.0, 6.0]])  # (k=3, n=2)
    return mv.matmul(A, B, highlight=(1, 0), title="(2x3) @ (3x2): C[1,0] is row 1 of A dot column 0 of B")
