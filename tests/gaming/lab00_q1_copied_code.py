"""A function defined in the notebook that runs the kit's own code object (copied, so swapping the kit's does not
reach it)."""


def optimal_discriminator(p_data, p_g):
    pass


optimal_discriminator.__code__ = kit.game2d.theory.optimal_discriminator.__code__
optimal_discriminator.__globals__.update(vars(kit.game2d.theory))
