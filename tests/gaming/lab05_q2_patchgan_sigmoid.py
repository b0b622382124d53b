"""The PatchGAN with a sigmoid at the end: probabilities, not the logits the loss expects."""


def build_patchgan(condition_shape, image_channels, *, num_classes, base_filters, n_layers):
    layers = keras.layers
    h, w, c = condition_shape
    condition, image = keras.Input((h, w, c), name="condition"), keras.Input((h, w, image_channels), name="image")
    label = keras.Input((), dtype="int32", name="label")
    label_map = layers.Reshape((h, w, 1))(layers.Embedding(num_classes, h * w)(label))
    x = layers.Concatenate()([condition, image, label_map])
    for i in range(n_layers):
        x = layers.Conv2D(base_filters * 2**i, 4, strides=2, padding="same")(x)
        if i:
            x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Conv2D(base_filters * 2**n_layers, 4, padding="same", use_bias=False)(x)
    x = layers.LeakyReLU(0.2)(layers.BatchNormalization()(x))
    scores = layers.Conv2D(1, 4, padding="same", activation="sigmoid", dtype="float32")(x)
    return keras.Model([condition, image, label], scores, name="my_patchgan")
