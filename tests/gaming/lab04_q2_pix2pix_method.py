"""The kit's Pix2Pix.generator_loss, called on a stand-in for the model."""
import types

_generator_loss = gans.Pix2Pix.generator_loss
_bce = gans.get_loss("bce")


def generator_objective(fake_scores, fake, target, *, gan_weight, l1_weight):
    model = types.SimpleNamespace(gan_weight=gan_weight, l1_weight=l1_weight, gan_loss=_bce, generator_loss_fn=None)
    return _generator_loss(model, fake_scores, fake, target)[0]
