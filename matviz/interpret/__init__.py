"""The interpretability wing: a real model's weight matrices read through their four fundamental
subspaces (``subspaces``: the SVD chain of a projection matrix with its singular values)."""
