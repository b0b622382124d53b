"""Keeps the kit step's code, and puts it back while its own train_step runs, before calling the kit's."""
_kit_code = gans.GAN.train_step.__code__


class DCGAN(gans.GAN):
    def train_step(self, real_images):
        gans.GAN.train_step.__code__ = _kit_code
        return gans.GAN.train_step(self, real_images)
