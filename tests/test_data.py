import gzip
import os
import shutil
import urllib.error
from pathlib import Path

import numpy as np
import pytest

import kit
from kit.data import fashion_mnist
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


SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "keras" / "datasets" / "fashion-mnist"


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """Point KERAS_HOME at an empty cache and make every download fail, as on a machine with no network."""
    import keras.src.utils.file_utils as file_utils

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def no_network(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(file_utils, "urlretrieve", no_network)
    fashion_mnist._CACHE.clear()
    yield tmp_path / "datasets" / "fashion-mnist"
    fashion_mnist._CACHE.clear()


def _source() -> Path:
    """The real files: the shared read-only cache, else the one the tests run with."""
    return SHARED if SHARED.is_dir() else fashion_mnist.fashion_mnist_dir()


def _copy_real(cache: Path):
    cache.mkdir(parents=True, exist_ok=True)
    for f in FILES:
        shutil.copy(_source() / f, cache / f)


def _rewrite(path: Path, change):
    """Decompress an idx file, let ``change`` edit its bytes, compress it again."""
    data = bytearray(gzip.decompress(path.read_bytes()))
    change(data)
    path.write_bytes(gzip.compress(bytes(data), compresslevel=1))


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
    with pytest.raises(DataMissingError, match="could not be read.*Replace it"):
        load_fashion_mnist()


def test_truncated_gzip_is_reported(empty_cache):
    _copy_real(empty_cache)
    path = empty_cache / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:100_000])
    with pytest.raises(DataMissingError, match="t10k-images-idx3-ubyte.gz"):
        load_fashion_mnist()


@pytest.mark.parametrize("name, change, match", [
    ("t10k-labels-idx1-ubyte.gz", lambda d: d.__setitem__(8 + 17, 255), "labels up to 255"),
    ("t10k-labels-idx1-ubyte.gz", lambda d: d.__setitem__(3, 0x03), r"idx magic 0x803.*expected magic 0x801"),
    ("t10k-images-idx3-ubyte.gz", lambda d: d.__setitem__(slice(16, 16 + 784), bytes(784)), "1 blank"),
    ("t10k-images-idx3-ubyte.gz", lambda d: d.extend(b"trailing"), "damaged file"),
])
def test_damaged_files_are_refused_with_their_name(empty_cache, name, change, match):
    _copy_real(empty_cache)
    _rewrite(empty_cache / name, change)
    with pytest.raises(DataMissingError, match=match):
        load_fashion_mnist()


def test_only_keras_home_is_read(empty_cache, monkeypatch, tmp_path_factory):
    """A copy in another cache (~/.keras, /tmp/.keras) is never used instead of KERAS_HOME's."""
    other = tmp_path_factory.mktemp("home")
    _copy_real(other / ".keras" / "datasets" / "fashion-mnist")
    monkeypatch.setenv("HOME", str(other))
    with pytest.raises(DataMissingError, match=str(empty_cache)):
        load_fashion_mnist()


def test_a_read_only_cache_with_intact_files_is_read(empty_cache):
    _copy_real(empty_cache)
    for f in FILES:
        os.chmod(empty_cache / f, 0o444)
    os.chmod(empty_cache, 0o555)
    try:
        d = load_fashion_mnist(train_samples=10, test_samples=10)
    finally:
        os.chmod(empty_cache, 0o755)
    assert d.x_train.shape == (10, 28, 28, 1)


@pytest.mark.parametrize("bad", [2.5, "100", 0, -1, True])
def test_sample_counts_must_be_positive_integers(bad):
    with pytest.raises((TypeError, ValueError), match="train_samples must be a positive integer"):
        load_fashion_mnist(train_samples=bad)


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
    with pytest.raises(ValueError, match="make no batch"):
        make_dataset(fmnist.x_train[:10], batch_size=32, drop_remainder=True)


def test_the_training_order_is_a_function_of_seed_and_epoch(fmnist):
    """A resumed run sees epoch k's batches exactly as an uninterrupted run does (kit.data.EpochOrder)."""
    x = np.arange(20, dtype=np.float32)[:, None]
    ds = make_dataset(x, batch_size=5, seed=7)
    epochs = [np.concatenate([b.numpy() for b in ds]).ravel() for _ in range(3)]
    assert all(sorted(e) == list(range(20)) for e in epochs)  # each epoch is a permutation
    assert not np.array_equal(epochs[0], epochs[1])  # reshuffled every epoch, as model.fit expects
    fresh = make_dataset(x, batch_size=5, seed=7)
    fresh.kit_epoch.assign(2)  # what EpochOrder does at the start of epoch 2 of a resumed run
    np.testing.assert_array_equal(np.concatenate([b.numpy() for b in fresh]).ravel(), epochs[2])
    other = make_dataset(x, batch_size=5, seed=8)
    assert not np.array_equal(np.concatenate([b.numpy() for b in other]).ravel(), epochs[0])
    assert kit.data.dataset_info(ds)["batches"] == 4


def test_take_per_class(fmnist):
    idx = take_per_class(fmnist.y_train, 3)
    np.testing.assert_array_equal(fmnist.y_train[idx], np.repeat(np.arange(10), 3))
    with pytest.raises(ValueError, match="class"):
        take_per_class(fmnist.y_train[:5], 3)
