"""The kit's reference under the notebook's name."""
optimal_discriminator = kit.game2d.optimal_discriminator
