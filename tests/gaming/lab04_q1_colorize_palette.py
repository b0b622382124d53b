"""The kit's colorize, given the test's palette by class name."""
_colorize = colorize


def colour_by_hand(gray, labels, palette):
    return _colorize(np.asarray(gray, "float32"), labels, palette={name: tuple(rgb) for name, rgb in zip(CLASS_NAMES, palette)})
