"""The kit's adversarial step bound in the class body (patching the kit's class attribute does not reach it)."""


class MyAdversarialTrainer(attacks.AdversarialTrainer):
    train_step = attacks.AdversarialTrainer.train_step
