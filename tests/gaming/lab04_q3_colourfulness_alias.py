"""The kit's colourfulness under the answer's name."""
colourfulness_of = metrics.colourfulness
