"""The paper "Understanding Neural Network Systems for Image Analysis using Vector Spaces" on
scikit-learn's 8x8 digits, offline (issue 12): a 1-layer net, a 5-layer SELU net and a small CNN
trained on the CPU in seconds; gallery/digits/ gets weights.png, signal_space.png, residuals.png,
conv_kernels.png, ideal_inputs.png (the paper's Fig. 3) and digits.json (accuracies, condition
numbers, losses). Same as: matviz digits -o gallery/digits"""

from matviz.learning.digits import DigitsSpec


def build():
    return DigitsSpec(seed=0)
