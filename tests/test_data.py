import gzip
import urllib.error

import numpy as np
import pytest

import kit
from kit.data import FILES, DataMissingError, load_fashion_mnist, make_dataset, scale_images, take_per_class


def test_shapes_ranges_and_labels(fmnist):
    assert fmnist.x_train.shape == (2048, 28, 28, 1) and fmnist.x_test.shape == (256, 28, 28, 1)
    assert fmnist.x_train.dtype == np.float32 and fmnist.y_train.dtype == np.int32
    assert fmnist.x_train.min() == 0.0 and fmnist.x_train.max() == 1.0
    assert set(np.unique(fmnist.y_train)) == set(range(10))


def test_tanh_scale_and_profile_subset():
    d = load_fashion_mnist("tanh", profile=kit.profile("smoke"))
    assert d.x_train.shape[0] == kit.profile("smoke").train_samples
    assert d.x_test.shape[0] == kit.profile("smoke").test_samples
    assert d.x_train.min() == -1.0 and d.x_train.max() == 1.0


def test_subsets_are_seeded():
    a = load_fashion_mnist(train_samples=100, test_samples=10, seed=3)
    b = load_fashion_mnist(train_samples=100, test_samples=10, seed=3)
    c = load_fashion_mnist(train_samples=100, test_samples=10, seed=4)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.y_train, c.y_train)


def test_full_dataset_sizes():
    d = load_fashion_mnist(train_samples=None, test_samples=None)
    assert len(d.x_train) == 60000 and len(d.x_test) == 10000


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """Point Keras at an empty cache and make every download fail, as on a machine with no network."""
    import keras.src.backend.config as config
    import keras.src.utils.file_utils as file_utils

    monkeypatch.setattr(config, "keras_home", lambda: str(tmp_path))

    def no_network(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(file_utils, "urlretrieve", no_network)
    return tmp_path / "datasets" / "fashion-mnist"


def test_missing_files_error_names_files_and_folder(empty_cache):
    with pytest.raises(DataMissingError) as err:
        load_fashion_mnist()
    msg = str(err.value)
    assert str(empty_cache) in msg
    for f in FILES:
        assert f in msg
    assert "KERAS_HOME" in msg


def test_corrupt_files_are_reported(empty_cache):
    empty_cache.mkdir(parents=True, exist_ok=True)
    for f in FILES:
        (empty_cache / f).write_bytes(b"not a gzip file")
    with pytest.raises(DataMissingError, match="could not be read"):
        load_fashion_mnist()


def test_truncated_gzip_is_reported(empty_cache):
    empty_cache.mkdir(parents=True, exist_ok=True)
    for f in FILES:
        (empty_cache / f).write_bytes(gzip.compress(b"\0" * 64)[:20])
    with pytest.raises(DataMissingError):
        load_fashion_mnist()


def test_scale_images_checks_input():
    x = np.array([[0, 255]], dtype=np.uint8)
    np.testing.assert_allclose(scale_images(x), [[0.0, 1.0]])
    np.testing.assert_allclose(scale_images(x, "tanh"), [[-1.0, 1.0]])
    with pytest.raises(TypeError, match="uint8"):
        scale_images(x.astype(np.float32))
    with pytest.raises(ValueError, match="Unknown scale 'percent'"):
        scale_images(x, "percent")
    with pytest.raises(ValueError, match="Unknown scale"):
        load_fashion_mnist("0-1")


def test_make_dataset(fmnist):
    ds = make_dataset(fmnist.x_train[:100], fmnist.y_train[:100], batch_size=32, seed=0)
    batches = list(ds)
    assert [b[0].shape[0] for b in batches] == [32, 32, 32, 4]
    assert batches[0][0].shape[1:] == (28, 28, 1)
    assert len(list(make_dataset(fmnist.x_train[:100], batch_size=32, drop_remainder=True))) == 3
    with pytest.raises(ValueError, match="same length"):
        make_dataset(fmnist.x_train[:10], fmnist.y_train[:9], batch_size=4)
    with pytest.raises(ValueError, match="batch_size"):
        make_dataset(fmnist.x_train[:10], batch_size=0)


def test_take_per_class(fmnist):
    idx = take_per_class(fmnist.y_train, 3)
    np.testing.assert_array_equal(fmnist.y_train[idx], np.repeat(np.arange(10), 3))
    with pytest.raises(ValueError, match="class"):
        take_per_class(fmnist.y_train[:5], 3)
