"""Functions of the student's own that call the kit's GANLoss."""
_bce = gans.get_loss("bce")


def d_loss_fn(real_logits, fake_logits):
    return _bce.discriminator(real_logits, fake_logits)


def g_loss_fn(fake_logits):
    return _bce.generator(fake_logits)
