"""The L1 term by hand, the adversarial term from the kit's GANLoss."""
_adversarial = gans.get_loss("bce").generator


def generator_objective(fake_scores, fake, target, *, gan_weight, l1_weight):
    l1 = ops.mean(ops.abs(ops.cast(target, "float32") - ops.cast(fake, "float32")))
    return l1_weight * l1 + (gan_weight * _adversarial(fake_scores) if gan_weight else 0.0)
