"""The kit's ACGAN losses under the answers' names."""
d_loss_fn = gans.acgan_discriminator_loss
g_loss_fn = gans.acgan_generator_loss
