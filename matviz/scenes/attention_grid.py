"""Every head of all-MiniLM-L6-v2 on one sentence: 6 layers × 12 heads, each head's attention
probabilities as a flat heatmap (query tokens down, key tokens across) on one colour scale shared by
all heads, so heads can be compared at a glance: the diagonal heads (each token looks at itself or
its neighbour), the [CLS]/[SEP] sinks, and the few heads that link words across the sentence.
Needs ``pip install 'matviz3d[models]'``."""

from matviz.chain import model_heads

TEXT = "The cat sat on the mat because it was tired"


def build():
    return model_heads(TEXT, None, "all", "all")
