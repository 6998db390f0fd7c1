"""The SVD of a real weight matrix: the query projection of layer 0 of all-MiniLM-L6-v2 (the model
that ships offline), drawn as the chain U @ diag(S) @ Vt whose last face is W again, with W flat,
its 384 singular values and the condition number sigma_1/sigma_r beside it (issue 12).
Same as: matviz subspaces --model --layer 0 --matrix query -o subspaces_query.png"""

from matviz.interpret.subspaces import SubspacesSpec


def build():
    return SubspacesSpec(layer=0, matrix="query")
