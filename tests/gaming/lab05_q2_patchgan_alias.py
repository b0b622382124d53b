"""The kit's PatchGAN under the answer's name."""
build_patchgan = models.patchgan_discriminator
