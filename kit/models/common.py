"""Layers every model builder of the kit shares."""

from __future__ import annotations

import tensorflow as tf
from keras import layers


def batch_norm(**kwargs) -> layers.BatchNormalization:
    """``keras.layers.BatchNormalization``, synchronised across replicas when built inside a ``tf.distribute``
    strategy's scope, so that N replicas normalise with the statistics of the whole global batch, as one replica
    would (``kit.distribute``). Outside any strategy it is the ordinary layer: the synchronised one computes the
    variance as E[x^2] - E[x]^2 (a sum it can all-reduce), a little less precisely and a little more slowly, so it
    is used under every explicit strategy, a one-device one included, and only there."""
    return layers.BatchNormalization(synchronized=tf.distribute.has_strategy(), **kwargs)
