"""Two photographs multiplied as matrices, after softmax over the rows of the left one and the
columns of the right one (Mishka, "Multiplying monochrome images as matrices", JuliaCon 2021).

Each row of softmax(A) and each column of softmax(B) is a probability distribution, so every
C[i,j] is a weighted average: the product keeps the photographs' structure instead of washing out.
"""

import matviz as mv


def build() -> mv.Cube:
    moon = mv.load("sample:moon", shape=(160, 160))  # grayscale, values in [0, 1]
    coins = mv.load("sample:coins", shape=(160, 160))
    A = mv.transform(moon, "softmax-rows", temperature=0.25)  # each row sums to 1
    B = mv.transform(coins, "softmax-cols", temperature=0.25)  # each column sums to 1
    return mv.matmul(A, B, title="softmax(moon, rows) @ softmax(coins, cols), temperature 0.25")
