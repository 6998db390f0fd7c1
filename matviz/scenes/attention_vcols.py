"""Mishka's open question, on a real head: what if V's columns are softmaxed too?

Left: the standard softmax(Q Kᵀ/√d) V. Right: softmax(Q Kᵀ/√d) softmax(V, cols), where every
column of V becomes a distribution over the tokens, so each output entry is a weighted average
of two distributions. all-MiniLM-L6-v2, layer 5, head 11: the head that sends 68% of the attention
of "it" to "cat" and is not an attention sink, the top (non-sink) head of
``matviz heads "The cat sat on the mat because it was tired" --from it --to cat``."""

import matviz as mv

TEXT = "The cat sat on the mat because it was tired"


def build():
    return mv.attention_from_model(TEXT, layer=5, head=11, v_cols=True)
