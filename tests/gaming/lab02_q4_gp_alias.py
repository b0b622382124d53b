"""The kit's gradient penalty under the answer's name."""
gradient_penalty = gans.gradient_penalty
