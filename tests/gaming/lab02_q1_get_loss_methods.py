"""The kit's BCE loss: the bound methods of ``gans.get_loss("bce")`` under the answers' names."""
_bce = gans.get_loss("bce")
d_loss_fn = _bce.discriminator
g_loss_fn = _bce.generator
