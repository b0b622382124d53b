"""The kit's private salt-and-pepper degradation, bound before grading."""
_salt_pepper = degrade._salt_pepper


def salt_and_pepper(images, fraction, rng):
    return _salt_pepper(images, np.full(len(images), fraction), rng)[0]
