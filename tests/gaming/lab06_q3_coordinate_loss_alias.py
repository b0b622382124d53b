"""The kit's coordinate loss under the answer's name."""
coordinate_loss_fn = cocogan.coordinate_loss
