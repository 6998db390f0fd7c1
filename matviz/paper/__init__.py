"""The paper wing: Mishka's experiments (JuliaCon 2021) as flat figures: contact sheets of one
expression over a grid of parameters (``poster``), temperature sweeps, and the result matrix alone as a
full-resolution gray image (``flat``)."""
