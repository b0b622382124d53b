"""The losses from the kit's private cross-entropy helper."""
_bce = gans.losses._bce_with_logits


def d_loss_fn(real_logits, fake_logits):
    return _bce(ops.ones_like(real_logits), real_logits) + _bce(ops.zeros_like(fake_logits), fake_logits)


def g_loss_fn(fake_logits):
    return _bce(ops.ones_like(fake_logits), fake_logits)
