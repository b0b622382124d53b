"""The kit's relativistic losses under the answer's name."""
relativistic_loss_fn = sr.relativistic_losses
