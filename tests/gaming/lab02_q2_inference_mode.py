"""The two tapes with every network called in inference mode (training=False): batch norm and dropout would not
train."""


class DCGAN(gans.AdversarialModel):
    def train_step(self, real_images):
        batch = ops.shape(real_images)[0]
        z = self.sample_latent(batch)
        with tf.GradientTape() as tape:
            fake = self.generator(z, training=False)
            d_loss = d_loss_fn(self.discriminator(real_images, training=False), self.discriminator(fake, training=False))
            scaled = self.scale_loss(self.d_optimizer, d_loss)
        self.apply_gradients(self.d_optimizer, tape, scaled, self.discriminator)
        z = self.sample_latent(batch)
        with tf.GradientTape() as tape:
            g_loss = g_loss_fn(self.discriminator(self.generator(z, training=False), training=False))
            scaled = self.scale_loss(self.g_optimizer, g_loss)
        self.apply_gradients(self.g_optimizer, tape, scaled, self.generator)
        return self.track(d_loss=d_loss, g_loss=g_loss)
