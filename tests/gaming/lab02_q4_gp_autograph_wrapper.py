"""A tf.function of the student's own around the kit's gradient penalty: autograph converts the call inside."""
_gp = gans.gradient_penalty


@tf.function
def gradient_penalty(critic, real, fake, alpha):
    return _gp(critic, real, fake, alpha)
