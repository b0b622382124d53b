"""Keras model builders (functional models built on ``keras.Input``)."""

from kit.models.classifiers import CLASSIFIERS, build_classifier, dense_classifier, improved_cnn, reference_cnn

__all__ = ["CLASSIFIERS", "build_classifier", "dense_classifier", "improved_cnn", "reference_cnn"]
