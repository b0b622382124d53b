"""The two tapes written out, on the kit's loss (``GANLoss``) instead of the student's."""
_bce = gans.get_loss("bce")


class DCGAN(gans.AdversarialModel):
    def train_step(self, real_images):
        batch = ops.shape(real_images)[0]
        z = self.sample_latent(batch)
        with tf.GradientTape() as tape:
            fake = self.generator(z, training=True)
            d_loss = _bce.discriminator(self.discriminator(real_images, training=True), self.discriminator(fake, training=True))
        self.apply_gradients(self.d_optimizer, tape, d_loss, self.discriminator)
        z = self.sample_latent(batch)
        with tf.GradientTape() as tape:
            g_loss = _bce.generator(self.discriminator(self.generator(z, training=True), training=True))
        self.apply_gradients(self.g_optimizer, tape, g_loss, self.generator)
        return self.track(d_loss=d_loss, g_loss=g_loss)
