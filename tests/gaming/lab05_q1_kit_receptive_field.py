"""A conv stack built from the layer list, measured with the kit's receptive_field."""
_measure = models.receptive_field


def receptive_field_of(layers):
    stack = keras.Sequential([keras.Input((None, None, 1))] + [keras.layers.Conv2D(1, k, strides=s) for k, s in layers])
    return _measure(stack)
