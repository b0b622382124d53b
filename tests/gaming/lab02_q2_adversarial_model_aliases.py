"""An AdversarialModel of the student's, whose step and loss are the kit's GAN's, attribute by attribute."""


class DCGAN(gans.AdversarialModel):
    gan_loss = gans.get_loss("bce")
    _check_real = gans.GAN._check_real
    discriminator_loss = gans.GAN.discriminator_loss
    train_step = gans.GAN.train_step
