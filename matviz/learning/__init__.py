"""The learning wing: the inverse problem solved by autodiff (``fit``: the expression tree evaluated in
torch, Adam on a parameter) and the digits experiment (small nets trained on scikit-learn's 8x8
digits, their weight matrices read through the four fundamental subspaces). Torch is imported only
inside ``fit_torch`` and ``fit_digits``, when a fit runs."""
