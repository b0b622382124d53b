"""The kit's gradient penalty compiled by tf.function: autograph would convert the kit's function from its source."""
gradient_penalty = tf.function(gans.gradient_penalty)
