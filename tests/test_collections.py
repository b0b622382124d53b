"""Photo collections through tensorflow-datasets (kit.data.collections) and the notebook functions built on
them (kit.sr.photos.load_photo_crops, kit.cocogan.photo_images), all offline: tfds' own mock
(``tfds.testing.mock_data``) stands in for tf_flowers, and every socket connection is refused, so no test
can reach the network.

The default mock makes random photographs of 5 to 49 pixels a side (random per example, fixed across
runs); where a test needs larger or known photographs it passes its own ``as_dataset_fn`` to the mock."""

import functools
import socket
import sys

import numpy as np
import pytest

tfds = pytest.importorskip("tensorflow_datasets")
tf = pytest.importorskip("tensorflow")

from kit.cocogan import photo_images  # noqa: E402
from kit.data import (  # noqa: E402
    COLLECTIONS,
    CollectionMissingError,
    DataMissingError,
    iter_photos,
    load_photos,
    photo_splits,
    square_images,
    tile,
)
from kit.imageops import resize  # noqa: E402
from kit.sr.photos import load_photo_crops  # noqa: E402


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any attempt to open a connection fails at once, as it would offline."""

    def refuse(*args, **kwargs):
        raise OSError("tests/test_collections.py: the network is off in these tests")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def random_photos(sizes, seed=0):
    """Noise photographs uint8 (H, W, 3), one per (H, W) in ``sizes``: every crop has detail, all differ."""
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8) for h, w in sizes]


def mock_flowers(images):
    """tfds' mock of tf_flowers whose photographs are ``images`` (uint8 (H, W, 3)), in this order."""

    def as_dataset(self, split, decoders=None, read_config=None, shuffle_files=False, **kwargs):
        encoded = [tf.io.encode_png(img).numpy() for img in images]
        ds = tf.data.Dataset.from_tensor_slices({"image": encoded, "label": np.arange(len(images), dtype=np.int64) % 5})
        # Encoded as prepared data are; decoded (or not: SkipDecoding) the way tfds decodes them.
        return ds.map(functools.partial(self.info.features.decode_example, decoders=decoders))

    return tfds.testing.mock_data(num_examples=len(images), policy=tfds.testing.MockPolicy.USE_CODE, as_dataset_fn=as_dataset)


def as_set(arrays):
    return {np.asarray(a).tobytes() for a in arrays}


# -- load_photos -------------------------------------------------------------------------------------------------


def test_load_photos_from_the_default_mock_are_rgb_in_unit_range():
    with tfds.testing.mock_data(num_examples=5, policy=tfds.testing.MockPolicy.USE_CODE):
        photos = load_photos("tf_flowers", split="train[:80%]")
        again = load_photos()
    assert len(photos) == 5
    for p, q in zip(photos, again):
        assert p.dtype == np.float32 and p.ndim == 3 and p.shape[-1] == 3
        assert 5 <= min(p.shape[:2]) and max(p.shape[:2]) < 50  # what tfds' random generator makes
        assert 0.0 <= p.min() and p.max() <= 1.0
        np.testing.assert_array_equal(p, q)  # the mock is deterministic


def test_load_photos_returns_the_pixels_scaled_and_large_photos_downscaled():
    images = random_photos([(40, 30), (300, 200), (90, 120)])
    with mock_flowers(images):
        photos = load_photos(max_side=100)
        whole = load_photos(max_side=None)
    np.testing.assert_array_equal(photos[0], images[0] / np.float32(255))  # small enough: untouched
    assert photos[1].shape == (100, 67, 3) and photos[2].shape == (75, 100, 3)  # longer side 100, aspect kept
    np.testing.assert_allclose(photos[1], resize(images[1][None] / np.float32(255), (100, 67), method="area")[0], atol=1e-6)
    assert [p.shape for p in whole] == [(40, 30, 3), (300, 200, 3), (90, 120, 3)]
    assert all(p.dtype == np.float32 and 0 <= p.min() and p.max() <= 1 for p in photos + whole)


def test_limit_reads_a_seeded_sample_named_by_position_in_the_split():
    images = random_photos([(20, 20)] * 12)
    with mock_flowers(images):
        everything = load_photos()
        sample = list(iter_photos(limit=4, seed=3))
        same = list(iter_photos(limit=4, seed=3))
        others = [[i for i, _ in iter_photos(limit=4, seed=s)] for s in range(4, 8)]
        assert len(load_photos(limit=100)) == 12  # a limit above the split's size reads all
    indices = [i for i, _ in sample]
    assert len(indices) == 4 and indices == sorted(indices) and set(indices) <= set(range(12))
    assert indices == [i for i, _ in same]
    assert any(o != indices for o in others)  # another seed, another sample
    for i, photo in sample:
        np.testing.assert_array_equal(photo, everything[i])


def test_load_photos_refuses_bad_arguments(tmp_path):
    (tmp_path / "file").write_text("x")
    bad = [
        (dict(name="imagenet"), ValueError, "photo collection"),
        (dict(split=""), TypeError, "split"),
        (dict(split=["train"]), TypeError, "split"),
        (dict(limit=0), ValueError, "limit"),
        (dict(limit=2.5), TypeError, "limit"),
        (dict(max_side=0), ValueError, "max_side"),
        (dict(seed=-1), ValueError, "seed"),
        (dict(seed=1.5), TypeError, "seed"),
        (dict(download="yes"), TypeError, "download"),
        (dict(data_dir=tmp_path / "file"), ValueError, "not a folder"),
        (dict(data_dir=3), TypeError, "data_dir"),
    ]
    for kwargs, error, words in bad:
        with pytest.raises(error, match=words):
            load_photos(**kwargs)


# -- a collection that is not there --------------------------------------------------------------------------------


def test_missing_collection_says_where_and_how_to_get_it(tmp_path):
    with pytest.raises(CollectionMissingError) as info:
        load_photos("tf_flowers", data_dir=tmp_path, download=False)
    message = str(info.value)
    assert isinstance(info.value, DataMissingError)
    assert "tf_flowers" in message and str(tmp_path) in message
    assert "Colab" in message and f"tfds build tf_flowers --data_dir {tmp_path}" in message
    assert str(tmp_path / "downloads" / "manual") in message and COLLECTIONS["tf_flowers"].archive in message
    with pytest.raises(CollectionMissingError, match="tf_flowers"):
        load_photo_crops(32, collection="tf_flowers", data_dir=tmp_path, download=False)
    with pytest.raises(CollectionMissingError, match="tf_flowers"):
        photo_images(collection="tf_flowers", data_dir=tmp_path, download=False)


def test_a_failed_download_is_a_missing_collection_naming_the_cause(tmp_path, monkeypatch):
    def offline(self, *args, **kwargs):
        raise ConnectionError("network is unreachable")

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", offline)
    with pytest.raises(CollectionMissingError, match="could not be downloaded .ConnectionError: network is unreachable"):
        load_photos(data_dir=tmp_path, download=True)


def test_without_tensorflow_datasets_the_error_names_the_package(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)  # makes the import fail
    with pytest.raises(ImportError, match="pip install tensorflow-datasets"):
        load_photos(data_dir=tmp_path, download=False)


# -- splits by photograph --------------------------------------------------------------------------------------------


def test_photo_splits_are_disjoint_by_photograph_and_seeded():
    images = random_photos([(16, 16)] * 20)
    with mock_flowers(images):
        splits = photo_splits("tf_flowers", seed=1)
        again = photo_splits(seed=1)
        other = photo_splits(seed=2)
    assert [len(splits[s]) for s in ("train", "val", "test")] == [16, 2, 2]
    sets = {s: as_set(v) for s, v in splits.items()}
    assert not (sets["train"] & sets["val"]) and not (sets["train"] & sets["test"]) and not (sets["val"] & sets["test"])
    assert sets["train"] | sets["val"] | sets["test"] == as_set(i / np.float32(255) for i in images)
    assert all(as_set(again[s]) == sets[s] for s in sets)
    assert as_set(other["test"]) != sets["test"]
    given = photo_splits(photos=[i / np.float32(255) for i in images], seed=1)  # photographs already read
    assert all(as_set(given[s]) == sets[s] for s in sets)


def test_photo_splits_refuses_bad_arguments():
    photos = [np.full((8, 8, 3), 0.5, np.float32)] * 5
    with pytest.raises(ValueError, match="3 numbers"):
        photo_splits(photos=photos, fractions=(0.5, 0.5))
    with pytest.raises(ValueError, match="sum to 1"):
        photo_splits(photos=photos, fractions=(0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="too few"):
        photo_splits(photos=photos[:3])  # 0.8/0.1/0.1 of 3 leaves the test split empty
    with pytest.raises(TypeError, match="unused when photos are passed"):
        photo_splits(photos=photos, limit=3)
    with pytest.raises(ValueError, match=r"photo 1 must be rank 3"):
        photo_splits(photos=[photos[0], np.zeros((2, 8, 8, 3), np.float32), photos[0]])
    with pytest.raises(ValueError, match=r"photo 0 values must lie in \[0.0, 1.0\]"):
        photo_splits(photos=[p * 3 for p in photos])


# -- square images (COCO-GAN) ----------------------------------------------------------------------------------------


def test_square_images_centre_crop_resize_and_scale():
    wide = np.zeros((64, 128, 3), np.float32)
    wide[:, 32:96] = 1.0  # the centre square is white, the sides black
    tall = np.random.default_rng(0).random((100, 70, 3)).astype(np.float32)
    x = square_images([wide, tall], 32)
    assert x.shape == (2, 32, 32, 3) and x.dtype == np.float32
    np.testing.assert_allclose(x[0], 1.0)  # only the centre square survives: tanh range, white = 1
    assert -1.0 <= x.min() and x.max() <= 1.0
    unit = square_images(np.stack([wide, wide]), 16, scale="unit")  # a batch works too
    assert unit.shape == (2, 16, 16, 3) and unit.min() >= 0.0 and unit.max() == 1.0
    np.testing.assert_allclose(square_images([tall], 70, scale="unit")[0], tall[15:85])  # no resize at its size


def test_square_images_refuses_small_photos_and_bad_arguments():
    ok, small = np.zeros((64, 64, 3), np.float32), np.zeros((64, 40, 3), np.float32)
    with pytest.raises(ValueError, match=r"photo 1 is 40x64 pixels, smaller than the 64x64"):
        square_images([ok, small], 64)
    with pytest.raises(ValueError, match=r"tf_flowers/7 is 40x64"):
        square_images([small], 64, names=["tf_flowers/7"])
    with pytest.raises(ValueError, match="scale"):
        square_images([ok], 32, scale="minus-one")
    with pytest.raises(ValueError, match="non-empty list"):
        square_images([], 32)
    with pytest.raises(ValueError, match="rank 3"):
        square_images([np.zeros((64, 64), np.float32)], 32)
    with pytest.raises(ValueError, match="3 channel"):
        square_images([np.zeros((64, 64, 4), np.float32)], 32)
    with pytest.raises(TypeError, match="floating point"):
        square_images([np.zeros((64, 64, 3), np.uint8)], 32)
    with pytest.raises(ValueError, match="got shape"):
        square_images(np.zeros((64, 64, 3), np.float32), 32)  # one photograph, not a batch
    with pytest.raises(TypeError, match="positive integer"):
        square_images([ok], 32.0)


def test_photo_images_of_a_collection():
    images = random_photos([(80, 100), (64, 64), (120, 70), (90, 90), (100, 200)])
    with mock_flowers(images):
        x = photo_images(64, collection="tf_flowers", seed=0)
        again = photo_images(64, collection="tf_flowers", seed=0)
        few = photo_images(32, collection="tf_flowers", limit=2)
    assert x.shape == (5, 64, 64, 3) and x.dtype == np.float32 and -1.0 <= x.min() and x.max() <= 1.0
    np.testing.assert_array_equal(x, again)
    expected = square_images([i / np.float32(255) for i in images], 64)
    assert as_set(x) == as_set(expected)  # the same squares, in a seeded order
    assert few.shape == (2, 32, 32, 3)


def test_photo_images_refuses_photographs_smaller_than_the_size():
    with tfds.testing.mock_data(num_examples=3, policy=tfds.testing.MockPolicy.USE_CODE):  # 5 to 49 pixels
        with pytest.raises(ValueError, match=r"tf_flowers/0 is \d+x\d+ pixels, smaller than the 64x64"):
            photo_images(64, collection="tf_flowers")


def test_photo_images_offline_from_the_scikit_image_photographs():
    x = photo_images()
    assert x.ndim == 4 and x.shape[1:] == (64, 64, 3) and len(x) > 300 and x.dtype == np.float32
    assert -1.0 <= x.min() and x.max() <= 1.0 and x.std() > 0.1
    np.testing.assert_array_equal(photo_images(limit=10, seed=1), x_seed1 := photo_images(seed=1)[:10])
    assert not np.array_equal(x_seed1, photo_images(seed=2)[:10])
    with pytest.raises(ValueError, match="limit"):
        photo_images(limit=0)
    with pytest.raises(TypeError, match="size"):
        photo_images(size="64")
    with pytest.raises(ValueError, match="photo collection"):
        photo_images(collection="imagenet")


# -- photo crops (super-resolution) ----------------------------------------------------------------------------------


def test_photo_crops_of_a_collection_are_split_by_photograph():
    sizes = [(64, 96), (96, 96), (64, 64), (128, 64), (96, 64), (64, 128), (32, 200), (100, 70), (64, 64), (70, 130)]
    images = random_photos(sizes, seed=1)
    with mock_flowers(images):
        crops = load_photo_crops(32, collection="tf_flowers", seed=0)
        again = load_photo_crops(32, collection="tf_flowers", seed=0)
        splits = photo_splits(seed=0)
        capped = load_photo_crops(32, collection="tf_flowers", seed=0, limit=12)
        sampled = load_photo_crops(32, collection="tf_flowers", collection_photos=8, seed=0)
    parts = {s: getattr(crops, s) for s in ("train", "val", "test")}
    assert all(v.ndim == 4 and v.shape[1:] == (32, 32, 3) and v.dtype == np.float32 for v in parts.values())
    assert all(0.0 <= v.min() and v.max() <= 1.0 for v in parts.values())
    # Tiling: every whole 32x32 square of every photograph (noise has detail everywhere), ragged edges dropped.
    assert sum(len(v) for v in parts.values()) == sum((h // 32) * (w // 32) for h, w in sizes)
    sources = {s: set(crops.sources[s]) for s in parts}
    assert all(len(crops.sources[s]) == len(parts[s]) for s in parts)
    assert all(name.startswith("tf_flowers/") for names in sources.values() for name in names)
    assert not (sources["train"] & sources["val"]) and not (sources["train"] & sources["test"]) and not (sources["val"] & sources["test"])
    for s in parts:  # the crops of a split are the tiles of photo_splits' photographs of that split
        np.testing.assert_array_equal(getattr(again, s), parts[s])
        assert as_set(parts[s]) == as_set(c for p in splits[s] for c in tile(p, 32))
    for s, names in capped.sources.items():  # limit: fewer crops, each still in its photograph's split
        assert set(names) <= sources[s]
    assert sum(len(getattr(capped, s)) for s in parts) == 12
    assert len(set().union(*sampled.sources.values())) == 8


def test_photo_crops_refuse_mixed_or_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="not both"):
        load_photo_crops(32, folder=tmp_path, collection="tf_flowers")
    with pytest.raises(ValueError, match="pass collection= too"):
        load_photo_crops(32, collection_photos=10)
    with pytest.raises(ValueError, match="photo collection"):
        load_photo_crops(32, collection="imagenet")
    with pytest.raises(ValueError, match="limit"):
        load_photo_crops(32, collection="tf_flowers", limit=0, data_dir=tmp_path, download=False)
    with tfds.testing.mock_data(num_examples=4, policy=tfds.testing.MockPolicy.USE_CODE):
        with pytest.raises(ValueError, match="4 photographs of tf_flowers are too few"):
            load_photo_crops(8, collection="tf_flowers")
    with tfds.testing.mock_data(num_examples=8, policy=tfds.testing.MockPolicy.USE_CODE):  # 5 to 49 pixels
        with pytest.raises(ValueError, match="no 64x64 crop with detail"):
            load_photo_crops(64, collection="tf_flowers")


def test_a_photograph_can_be_kept_out_of_every_split_and_tiled_alone():
    """Notebook 07 keeps the astronaut out of training, validation and test, then tests on its crops alone."""
    from kit.sr.photos import SKIMAGE_PHOTOS, photo_tiles

    crops = load_photo_crops(128, seed=0, exclude=["astronaut"])
    assert all("astronaut" not in names for names in crops.sources.values())
    assert {n for names in crops.sources.values() for n in names} <= set(SKIMAGE_PHOTOS) - {"astronaut"}
    tiles = photo_tiles(["astronaut"], 128)
    assert tiles.shape == (16, 128, 128, 3) and tiles.dtype == np.float32 and 0 <= tiles.min() and tiles.max() <= 1  # 512 x 512
    assert photo_tiles("astronaut", 128, limit=4).shape[0] == 4
    with pytest.raises(ValueError, match=r"cannot exclude \['astronut'\]: no such photograph among \['astronaut'"):
        load_photo_crops(128, exclude=["astronut"])
    with pytest.raises(TypeError, match="exclude must be a list of photograph names"):
        load_photo_crops(128, exclude="astronaut")
    with pytest.raises(ValueError, match="not a collection's"):
        load_photo_crops(128, collection="tf_flowers", exclude=["astronaut"])
    with pytest.raises(ValueError, match="names must name scikit-image's photographs"):
        photo_tiles(["moon"], 128)
