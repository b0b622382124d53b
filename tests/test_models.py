import keras
import numpy as np
import pytest

from kit import attacks
from kit.models import CLASSIFIERS, build_classifier
from kit.training import fit_classifier


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_classifier_shapes(name):
    model = CLASSIFIERS[name]()
    assert model.input_shape == (None, 28, 28, 1)
    assert model(np.zeros((2, 28, 28, 1), np.float32)).shape == (2, 10)
    assert model.get_layer("features") is not None  # later notebooks extract features here


def test_reference_cnn_matches_the_report():
    convs = [l for l in CLASSIFIERS["reference_cnn"]().layers if isinstance(l, keras.layers.Conv2D)]
    assert [(c.filters, c.kernel_size) for c in convs] == [(64, (5, 5)), (128, (5, 5))]


def test_unknown_classifier():
    with pytest.raises(ValueError, match=r"Unknown classifier 'resnet'.*dense"):
        build_classifier("resnet", jit_compile=False)


def test_fit_lowers_loss_on_real_data(fmnist):
    keras.utils.set_random_seed(0)
    model = build_classifier("dense", jit_compile=False)
    hist = fit_classifier(model, fmnist.x_train, fmnist.y_train, epochs=2, batch_size=64, verbose=0,
                          validation_data=(fmnist.x_test, fmnist.y_test))
    assert hist.history["loss"][1] < hist.history["loss"][0]
    assert len(hist.history["epoch_seconds"]) == 2 and "val_accuracy" in hist.history
    assert hist.improved and hist.history["val_loss"][-1] < hist.initial_val_loss


def test_a_run_that_ends_no_better_than_it_started_says_so(fmnist):
    keras.utils.set_random_seed(0)
    model = build_classifier("dense", jit_compile=False, optimizer=keras.optimizers.SGD(0.0))  # learns nothing
    with pytest.warns(UserWarning, match=r"ended no better than it started \(validation loss .* before training"):
        hist = fit_classifier(model, fmnist.x_train[:256], fmnist.y_train[:256], epochs=1, batch_size=64, verbose=0,
                              validation_data=(fmnist.x_test[:256], fmnist.y_test[:256]))
    assert not hist.improved and hist.history["val_loss"][-1] == pytest.approx(hist.initial_val_loss)


@pytest.mark.ci_only  # the XLA path (the t4 profile's jit_compile) on a CPU: ~1 min; make ci runs it
@pytest.mark.parametrize("name", ["improved_cnn", "adversarial"])
def test_xla_path_trains(fmnist, name):
    """The full (GPU) profile compiles with jit_compile=True; CI exercises that path here on CPU."""
    keras.utils.set_random_seed(0)
    if name == "adversarial":
        model = attacks.adversarial_trainer(CLASSIFIERS["reference_cnn"](), jit_compile=True)
    else:
        model = build_classifier(name, jit_compile=True)
    hist = fit_classifier(model, fmnist.x_train[:128], fmnist.y_train[:128], epochs=1, batch_size=64, verbose=0)
    assert np.isfinite(hist.history["loss"][0])


def test_fit_rejects_bad_input(fmnist):
    model = build_classifier("dense", jit_compile=False)
    with pytest.raises(TypeError, match="uint8"):
        fit_classifier(model, (fmnist.x_train[:8] * 255).astype(np.uint8), fmnist.y_train[:8], epochs=1, batch_size=4)
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        fit_classifier(model, fmnist.x_train[:8], fmnist.y_train[:8], epochs=0, batch_size=4)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 9\]"):
        fit_classifier(model, fmnist.x_train[:2], np.array([3, 12]), epochs=1, batch_size=4)


def test_nan_guard_names_the_loss():
    from kit.callbacks import NaNGuard, NonFiniteLossError

    guard = NaNGuard()
    guard.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    guard.on_train_batch_end(0, {"loss": 0.5})
    with pytest.raises(NonFiniteLossError, match=r"batch 3: d_loss=nan"):
        guard.on_train_batch_end(3, {"d_loss": float("nan"), "g_loss": 1.0})


def test_nan_guard_watches_losses_only_and_lets_an_infinite_metric_pass():
    from kit.callbacks import NaNGuard, NonFiniteLossError

    guard = NaNGuard()
    guard.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    guard.on_train_batch_end(0, {"loss": 0.5, "psnr": float("inf"), "val_psnr": float("inf")})  # a perfect reconstruction
    assert not getattr(guard.model, "stop_training", False)
    with pytest.raises(NonFiniteLossError, match=r"batch 1: loss=inf"):
        guard.on_train_batch_end(1, {"loss": float("inf"), "psnr": float("inf")})


def test_nan_guard_stops_real_training(fmnist):
    model = build_classifier("dense", learning_rate=1e30, jit_compile=False)
    from kit.callbacks import NonFiniteLossError

    x = fmnist.x_train[:256].copy()
    with pytest.raises(NonFiniteLossError, match="loss"):
        fit_classifier(model, x, fmnist.y_train[:256], epochs=3, batch_size=32, verbose=0)
