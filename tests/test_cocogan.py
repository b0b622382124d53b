"""Notebook 06 (COCO-GAN): coordinate grids, Phi, macro cropping, network shapes, the coordinate loss,
beyond-boundary sizes, the seam score, data helpers and a few real train steps."""

import keras
import numpy as np
import pytest

from kit.cocogan import data as coco_data
from kit.data import make_dataset
from kit.data.folders import ImageFolderError
from kit import cocogan as coco
from kit.cocogan.grid import PatchGrid, merge_patches, seam_score, split_patches
from kit import checkpoints
from kit.gans import checkpoints_for, restore
from kit.cocogan import networks as coco_models


# -- coordinate grids --------------------------------------------------------------------------------------
def test_paper_grid_64_32_16():
    g = PatchGrid(64, 32, 16)
    assert (g.n_micro, g.ratio, g.n_macro) == (4, 2, 3)
    np.testing.assert_allclose(g.macro_coords()[:, 0, 0], [-1, 0, 1])
    np.testing.assert_allclose(g.macro_coords()[0, :, 1], [-1, 0, 1])
    np.testing.assert_allclose(g.micro_coords()[:, 0, 0], [-1, -1 / 3, 1 / 3, 1], atol=1e-6)
    assert g.macro_origin(2, 1) == (32, 16)
    # a macro patch's centre coordinate is where its micro patches are, up to the grids' common scaling
    np.testing.assert_allclose(g.micro_coords_of_macro(1, 2).mean(axis=(0, 1)), [0.0, 2 / 3], atol=1e-6)


@pytest.mark.parametrize("image,macro,micro,n_micro,n_macro", [
    (32, 16, 8, 4, 3), (32, 16, 4, 8, 5), (32, 32, 8, 4, 1), (128, 64, 32, 4, 3), (16, 8, 8, 2, 2),
])
def test_grid_sizes(image, macro, micro, n_micro, n_macro):
    g = PatchGrid(image, macro, micro)
    assert g.n_micro == n_micro and g.n_macro == n_macro
    mc, mac = g.micro_coords(), g.macro_coords()
    assert mc.shape == (n_micro, n_micro, 2) and mac.shape == (n_macro, n_macro, 2)
    assert mc.min() == -1 and mc.max() == 1
    assert mac.min() >= -1 and mac.max() <= 1
    assert np.all(np.diff(mc[:, 0, 0]) > 0) and np.all(mc[0, :, 0] == mc[0, 0, 0])  # (y, x): y varies down rows


@pytest.mark.parametrize("image,macro,micro,match", [
    (32, 12, 8, "must divide macro_size"),
    (32, 64, 8, "must not be larger than image_size"),
    (32, 16, 32, "must not be larger than macro_size"),
    (30, 16, 8, "must divide image_size"),
    (32, 16, 0, "positive integer"),
])
def test_invalid_sizes_rejected(image, macro, micro, match):
    with pytest.raises(ValueError, match=match):
        PatchGrid(image, macro, micro)


def test_beyond_boundary_grid():
    g = PatchGrid(32, 16, 8)
    assert g.beyond_extra(48) == 1 and g.beyond_extra(64) == 2 and g.beyond_extra(32) == 0
    ext = g.micro_coords(1)
    assert ext.shape == (6, 6, 2)
    np.testing.assert_allclose(ext[1:-1, 1:-1], g.micro_coords(), atol=1e-6)  # the inside is unchanged
    np.testing.assert_allclose(ext[0, 0], [-5 / 3, -5 / 3], atol=1e-6)  # same spacing past the boundary
    for bad in (40, 24, 50):
        with pytest.raises(ValueError, match="beyond-boundary size"):
            g.beyond_extra(bad)


# -- Phi and cropping --------------------------------------------------------------------------------------
def test_phi_puts_patches_in_row_major_order():
    k, m = 3, 2
    # patch (row, col) of image b holds the value 100 b + 10 row + col everywhere
    values = np.array([100 * b + 10 * r + c for b in range(2) for r in range(k) for c in range(k)], np.float32)
    patches = np.broadcast_to(values[:, None, None, None], (2 * k * k, m, m, 1)).copy()
    image = keras.ops.convert_to_numpy(merge_patches(patches, k))
    assert image.shape == (2, k * m, k * m, 1)
    for b in range(2):
        for r in range(k):
            for c in range(k):
                assert np.all(image[b, r * m : (r + 1) * m, c * m : (c + 1) * m] == 100 * b + 10 * r + c)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(split_patches(image, m)), patches)


def test_phi_rejects_incomplete_blocks():
    with pytest.raises(ValueError, match="whole number"):
        merge_patches(np.zeros((5, 2, 2, 1), np.float32), 2)


def test_real_macro_crop_matches_coordinates():
    g = PatchGrid(32, 16, 8)
    yy, xx = np.meshgrid(np.arange(32), np.arange(32), indexing="ij")
    images = np.stack([yy * 100 + xx] * 3)[..., None].astype(np.float32)  # pixel (y, x) holds 100 y + x
    positions = np.array([[0, 0], [1, 2], [2, 1]])
    crops = g.crop_macro(images, positions)
    assert crops.shape == (3, 16, 16, 1)
    for crop, (r, c) in zip(crops, positions):
        assert crop[0, 0, 0] == 100 * 8 * r + 8 * c  # top-left pixel at (8 r, 8 c)
        centre = ((crop[..., 0] // 100).mean(), (crop[..., 0] % 100).mean())  # mean pixel (y, x) of the crop
        expected = (g.macro_coords()[r, c] + 1) / 2 * (32 - 16) + 7.5  # coordinate -> pixel centre
        np.testing.assert_allclose(centre, expected)
    # the model's on-device cropping agrees with the NumPy reference
    gan = coco.cocogan(g, base_filters=4, latent_dim=4)
    device = keras.ops.convert_to_numpy(gan._real_macro(keras.ops.convert_to_tensor(images), keras.ops.convert_to_tensor(positions.astype("int32"))))
    np.testing.assert_array_equal(device, crops)
    with pytest.raises(ValueError, match="macro row"):
        g.crop_macro(images, np.array([[3, 0], [0, 0], [0, 0]]))


# -- networks ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("micro", [4, 8, 16])
def test_micro_generator_shapes(micro):
    g = coco_models.micro_generator(latent_dim=8, micro_size=micro, channels=3, base_filters=4)
    out = keras.ops.convert_to_numpy(g([np.zeros((5, 8), np.float32), np.zeros((5, 2), np.float32)]))
    assert out.shape == (5, micro, micro, 3) and out.min() >= -1 and out.max() <= 1


def test_generator_depends_on_the_coordinate():
    g = coco_models.micro_generator(latent_dim=8, micro_size=8, base_filters=4)
    z = np.random.default_rng(0).standard_normal((2, 8)).astype(np.float32)
    a = keras.ops.convert_to_numpy(g([z, np.array([[-1, -1], [-1, -1]], np.float32)]))
    b = keras.ops.convert_to_numpy(g([z, np.array([[1, 1], [1, 1]], np.float32)]))
    assert not np.allclose(a, b)


@pytest.mark.parametrize("size", [4, 8])
def test_pixel_coordinates_of_neighbouring_patches_continue_each_other(size):
    g = PatchGrid(32, 16, 8)
    layer = coco_models.PixelCoordinates(size, g.micro_step)
    c = g.micro_coords()[1, 1:3]  # two horizontal neighbours (y, x)
    maps = keras.ops.convert_to_numpy(layer(c))[..., :2]  # (2, size, size, (y, x))
    spacing = g.micro_step / size
    row = np.concatenate([maps[0, 0, :, 1], maps[1, 0, :, 1]])  # x along one pixel row across both patches
    np.testing.assert_allclose(np.diff(row), spacing, atol=1e-6)
    np.testing.assert_allclose(maps[0, :, 0, 0], maps[1, :, 0, 0])  # same rows, same y
    assert layer.compute_output_shape((2, 2)) == (2, size, size, 2 + 4 * len(coco_models.FOURIER_FREQUENCIES))


def test_pixel_coordinate_generator_shapes_depends_on_c_and_rejects_a_bad_step():
    g = coco_models.micro_generator(latent_dim=8, micro_size=8, channels=1, base_filters=4, pixel_step=2 / 3)
    z = np.random.default_rng(0).standard_normal((2, 8)).astype(np.float32)
    a = keras.ops.convert_to_numpy(g([z, np.full((2, 2), -1, np.float32)]))
    b = keras.ops.convert_to_numpy(g([z, np.ones((2, 2), np.float32)]))
    assert a.shape == (2, 8, 8, 1) and not np.allclose(a, b)
    with pytest.raises(ValueError, match="pixel_step"):
        coco_models.micro_generator(pixel_step=0.0)
    with pytest.raises(ValueError, match="more than one micro patch"):
        coco.cocogan(PatchGrid(8, 8, 8), pixel_coordinates=True)


@pytest.mark.parametrize("micro", [4, 8, 16])
def test_pixel_coordinate_patches_are_windows_of_one_image(micro):
    # No zero padding reaches a patch: moving c by one start pixel (micro/4 output pixels) moves what is drawn
    # by exactly that much, borders included. With 'same' padding the border columns would differ.
    g = coco_models.micro_generator(latent_dim=8, micro_size=micro, base_filters=4, pixel_step=0.5)
    rng = np.random.default_rng(0)
    for w in g.weights:  # conditional norms start at zero; give z a say so the test sees real patterns
        if "gamma" in w.path or "beta" in w.path:
            w.assign(rng.normal(0, 0.1, w.shape).astype(np.float32))
    z = rng.standard_normal((2, 8)).astype(np.float32)
    c = np.array([[0.25, -0.5], [-1.0, 0.75]], np.float32)
    s = micro // 4
    a = keras.ops.convert_to_numpy(g([z, c]))
    b = keras.ops.convert_to_numpy(g([z, c + np.array([0.0, 0.5 / 4], np.float32)]))
    assert a.std() > 1e-3
    np.testing.assert_allclose(a[:, :, s:], b[:, :, :-s], atol=1e-5)


def test_micro_size_must_be_4_times_a_power_of_two():
    with pytest.raises(ValueError, match="power of two"):
        coco_models.micro_generator(micro_size=12)


def test_discriminator_heads_and_full_models():
    d = coco_models.macro_discriminator(macro_size=16, channels=1, base_filters=4)
    score, coord, feats = d([np.zeros((3, 16, 16, 1), np.float32), np.zeros((3, 2), np.float32)])
    assert score.shape == (3, 1) and coord.shape == (3, 2) and feats.shape[0] == 3
    assert coco_models.full_generator(8, 32, 1, 4).output_shape == (None, 32, 32, 1)
    assert coco_models.full_discriminator(32, 1, 4).output_shape == (None, 1)


def test_coordinate_loss_zero_on_perfect_predictions():
    c = np.array([[-1.0, 0.5], [0.0, 1.0]], np.float32)
    assert float(coco.coordinate_loss(c, c)) == 0.0
    assert float(coco.coordinate_loss(c + 0.5, c)) == pytest.approx(0.25)
    with pytest.raises(ValueError, match=r"\(B, 2\)"):
        coco.coordinate_loss(np.zeros((2, 3)), np.zeros((2, 3)))


# -- the COCO-GAN model ------------------------------------------------------------------------------------
@pytest.fixture
def small_gan():
    """A fresh small COCO-GAN for every test that uses it (tests change its stage and weights)."""
    keras.utils.set_random_seed(0)
    gan = coco.cocogan(PatchGrid(32, 16, 8), latent_dim=8, base_filters=4, n_critic=1)
    gan.compile(**coco.ttur_optimizers(), jit_compile=False)
    return gan


def test_ttur_optimizers():
    opts = coco.ttur_optimizers()
    g, d = opts["g_optimizer"], opts["d_optimizer"]
    assert float(d.learning_rate) == pytest.approx(2 * float(g.learning_rate)) and float(g.beta_1) == 0.0
    assert g is not d
    with pytest.raises(ValueError, match="d_learning_rate must be a positive number, got -1"):
        coco.ttur_optimizers(d_learning_rate=-1)


def test_generation_and_beyond_boundary_sizes(small_gan):
    z = np.random.default_rng(0).standard_normal((2, 8)).astype(np.float32)
    full = small_gan.generate(z)
    assert full.shape == (2, 32, 32, 1)
    patches = small_gan.micro_patches(z)
    assert patches.shape == (2, 4, 4, 8, 8, 1)
    np.testing.assert_allclose(full[1, 8:16, 24:32], patches[1, 1, 3], atol=1e-5)  # Phi of the same patches
    np.testing.assert_allclose(small_gan.generate_macro(z, np.array([[1, 2], [0, 0]]))[0], full[0, 8:24, 16:32], atol=1e-5)
    big = small_gan.generate_beyond(z, 48)
    assert big.shape == (2, 48, 48, 1)
    np.testing.assert_allclose(big[:, 8:40, 8:40], full, atol=1e-5)  # the inside is the ordinary image
    with pytest.raises(ValueError, match="beyond-boundary size"):
        small_gan.generate_beyond(z, 40)
    with pytest.raises(ValueError, match="z must have shape"):
        small_gan.generate(np.zeros((2, 3), np.float32))


def test_generation_in_chunks_matches_one_call(small_gan, monkeypatch):
    # Thousands of images are generated a few thousand micro patches per call; the chunking must not show.
    z = np.random.default_rng(1).standard_normal((5, 8)).astype(np.float32)
    whole, beyond = small_gan.generate(z), small_gan.generate_beyond(z, 48)
    monkeypatch.setattr(coco.model, "PATCHES_PER_CALL", 40)  # 2 images of 16 patches, 1 of 36 per call
    np.testing.assert_allclose(small_gan.generate(z), whole, atol=1e-5)
    np.testing.assert_allclose(small_gan.generate_beyond(z, 48), beyond, atol=1e-5)


def test_config_round_trip(small_gan):
    clone = coco.COCOGAN.from_config(small_gan.get_config())
    assert clone.grid == small_gan.grid and clone.latent_dim == 8 and clone.gan_loss.gp_weight == 10.0


def test_weight_average_follows_the_generator(tmp_path):
    keras.utils.set_random_seed(1)
    gan = coco.cocogan(PatchGrid(32, 16, 8), latent_dim=8, base_filters=4, n_critic=1, ema_decay=0.5)
    gan.compile(**coco.ttur_optimizers(g_learning_rate=1e-2), jit_compile=False)
    z = np.random.default_rng(0).standard_normal((2, 8)).astype(np.float32)
    np.testing.assert_allclose(gan.generate(z), gan.generate(z, average=False), atol=1e-5)  # starts as a copy of G
    real = keras.ops.convert_to_tensor(np.random.default_rng(0).uniform(-1, 1, (8, 32, 32, 1)).astype(np.float32))
    # Warm-up: after update t the decay is min(0.5, (1 + t) / (10 + t)) = 2/11, 3/12, 4/13; follow it by hand.
    expected = [v.numpy().copy() for v in gan.generator.trainable_weights]
    for t in (1, 2, 3):
        gan.train_step(real)
        decay = min(0.5, (1 + t) / (10 + t))
        expected = [decay * e + (1 - decay) * w.numpy() for e, w in zip(expected, gan.generator.trainable_weights)]
    assert float(gan.ema_updates.numpy()) == 3
    averaged = [a for a, w in zip(gan.generator_ema.weights, gan.generator.weights) if w.trainable]
    for e, a in zip(expected, averaged):
        np.testing.assert_allclose(a.numpy(), e, rtol=1e-5, atol=1e-6)
    assert not np.allclose(gan.generate(z), gan.generate(z, average=False), atol=1e-4)  # the average lags G
    gan.reset_average()
    np.testing.assert_allclose(gan.generate(z), gan.generate(z, average=False), atol=1e-5)
    assert float(gan.ema_updates.numpy()) == 0


def test_the_weight_average_is_in_the_checkpoint(tmp_path):
    keras.utils.set_random_seed(1)
    gan = coco.cocogan(PatchGrid(32, 16, 8), latent_dim=8, base_filters=4, n_critic=1, ema_decay=0.5)
    gan.compile(**coco.ttur_optimizers(), jit_compile=False)
    real = np.random.default_rng(0).uniform(-1, 1, (8, 32, 32, 1)).astype(np.float32)
    ds = make_dataset(real, batch_size=8, drop_remainder=True)
    history = coco.fit_stages(gan, ds, epochs=(1, 1, 1), checkpoint_dir=tmp_path, verbose=0)[0]
    assert np.isfinite(history["lucid"]["g_loss"][-1])
    z = np.random.default_rng(0).standard_normal((2, 8)).astype(np.float32)
    keras.utils.set_random_seed(2)
    again = coco.cocogan(PatchGrid(32, 16, 8), latent_dim=8, base_filters=4, n_critic=1, ema_decay=0.5)
    again.compile(**coco.ttur_optimizers(), jit_compile=False)
    again.set_stage("lucid")
    assert restore(again, checkpoints_for(again, ds, tmp_path / "3_lucid"))[0] == 1
    np.testing.assert_allclose(again.generate(z), gan.generate(z), atol=1e-5)


def test_weight_average_update_rule():
    keras.utils.set_random_seed(3)
    gan = coco.cocogan(PatchGrid(32, 16, 8), latent_dim=8, base_filters=4, n_critic=1, ema_decay=0.5)
    gan.compile(**coco.ttur_optimizers(g_learning_rate=1e-2), jit_compile=False)
    real = np.random.default_rng(0).uniform(-1, 1, (8, 32, 32, 1)).astype(np.float32)
    gan.ema_updates.assign(20.0)  # past the warm-up: decay = 0.5
    avg0 = [v.numpy().copy() for v in gan.generator_ema.weights]
    gan.train_step(keras.ops.convert_to_tensor(real))
    trained = [(a0, a1, w) for a0, a1, w in zip(avg0, gan.generator_ema.weights, gan.generator.weights) if w.trainable]
    assert len(trained) == len(gan.generator.trainable_weights) > 0
    for a0, a1, w in trained:
        np.testing.assert_allclose(a1.numpy(), 0.5 * a0 + 0.5 * w.numpy(), rtol=1e-5, atol=1e-6)
    off = coco.cocogan(PatchGrid(32, 16, 8), latent_dim=8, base_filters=4, ema_decay=0.0)
    assert off.sampler is off.generator and off.generator_ema is None
    with pytest.raises(ValueError, match=r"ema_decay must be a number in \[0, 1\), got 1.0"):
        coco.cocogan(PatchGrid(32, 16, 8), latent_dim=8, base_filters=4, ema_decay=1.0)


def test_model_rejects_mismatched_networks():
    g = coco_models.micro_generator(8, 8, 1, 4)
    d = coco_models.macro_discriminator(16, 1, 4)
    with pytest.raises(ValueError, match="micro patches are 16x16"):
        coco.COCOGAN(g, d, grid=PatchGrid(64, 32, 16))
    with pytest.raises(TypeError, match="PatchGrid"):
        coco.COCOGAN(g, d, grid=(32, 16, 8))


def test_stages_and_train_steps_are_finite(small_gan):
    real = coco_data.pad32(np.random.default_rng(0).uniform(-1, 1, (16, 28, 28, 1)).astype(np.float32))
    ds = make_dataset(real, batch_size=8, drop_remainder=True)
    assert [s.name for s in coco.STAGES] == ["cloudy", "detail", "lucid"]
    histories, snaps = coco.fit_stages(small_gan, ds, epochs=(1, 1, 1), snapshot_z=np.zeros((2, 8), np.float32), verbose=0)
    assert list(histories) == ["cloudy", "detail", "lucid"] and snaps["lucid"].shape == (2, 32, 32, 1)
    for h in histories.values():
        assert all(np.isfinite(v[-1]) for k, v in h.items())
    assert histories["cloudy"]["gp"][-1] >= 0
    h = coco.fine_tune_beyond(small_gan, ds, steps=2, size=48, verbose=0)
    assert np.isfinite(h["d_loss"][-1]) and small_gan.stage.name == "lucid"
    with pytest.raises(ValueError, match="one count per stage"):
        coco.fit_stages(small_gan, ds, epochs=(1, 1))


def test_stage_switch_sets_variables(small_gan):
    small_gan.set_stage("cloudy")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(small_gan.lowpass_mix), [0, 0, 1])
    small_gan.set_stage("beyond", margin=2)
    assert keras.ops.convert_to_numpy(small_gan.stage_weights)[3] == 2
    with pytest.raises(ValueError, match="Unknown stage"):
        small_gan.set_stage("sharp")
    small_gan.set_stage("lucid")


# -- seam score and data -----------------------------------------------------------------------------------
def test_seam_score():
    rng = np.random.default_rng(0)
    smooth = rng.uniform(size=(4, 16, 16, 1))
    assert seam_score(smooth, 8) == pytest.approx(1.0, abs=0.1)  # noise has no grid: about 1
    blocks = np.kron(rng.uniform(size=(4, 2, 2, 1)), np.ones((1, 8, 8, 1))) + 0.01 * smooth
    assert seam_score(blocks, 8) > 10  # constant patches with jumps between them: strong seams
    with pytest.raises(ValueError, match="at least 2 patches"):
        seam_score(smooth, 16)


def test_fashion_mnist_32():
    fm = coco_data.fashion_mnist_32(train_samples=8, test_samples=4)
    assert fm.x_train.shape == (8, 32, 32, 1) and fm.x_test.shape == (4, 32, 32, 1)
    assert fm.x_train.min() == -1 and fm.x_train.max() <= 1
    assert np.all(fm.x_train[:, :2] == -1)  # the padding is background
    assert coco_data.crop28(fm.x_train).shape == (8, 28, 28, 1)


def test_folder_images(tmp_path):
    from PIL import Image

    Image.fromarray((np.random.default_rng(0).uniform(size=(80, 70, 3)) * 255).astype(np.uint8)).save(tmp_path / "a.png")
    x = coco_data.folder_images(tmp_path, 64)
    assert x.shape == (1, 64, 64, 3) and x.min() >= -1 and x.max() <= 1
    with pytest.raises(ImageFolderError, match="smaller than"):
        coco_data.folder_images(tmp_path, 128)
    (tmp_path / "b.png").write_bytes(b"not an image")
    with pytest.raises(ImageFolderError, match="cannot read"):
        coco_data.folder_images(tmp_path, 64)
    with pytest.raises(ValueError, match="size"):
        coco_data.folder_images(tmp_path, 48)


def test_q_network_trains_and_guides(small_gan, tmp_path):
    keras.utils.set_random_seed(0)
    q = coco.q_network(small_gan, base_filters=4)
    images = np.random.default_rng(0).uniform(-1, 1, (16, 32, 32, 1)).astype(np.float32)
    ds = make_dataset(images, batch_size=8, drop_remainder=True)
    before = [v.numpy().copy() for v in small_gan.generator.weights]
    history = coco.fit_q_network(q, ds, epochs=2, checkpoint_dir=tmp_path / "q", verbose=0)
    assert set(history) >= {"z_loss", "rec_l1"} and np.isfinite(history["z_loss"]).all()
    for b, v in zip(before, small_gan.generator.weights):  # the generator is frozen
        np.testing.assert_array_equal(b, v.numpy())
    guided, z = q.guided(images[:2, :16, 16:], np.array([[0, 2], [0, 2]]))
    assert guided.shape == (2, 32, 32, 1) and z.shape == (2, 8)
    np.testing.assert_allclose(guided, small_gan.generate(z), atol=1e-5)
    errors = q.patch_errors(images[:4], np.array([[0, 0], [1, 2], [2, 2], [0, 1]]))
    assert set(errors) == {"guided", "random"} and all(np.isfinite(v) and v > 0 for v in errors.values())
    again = coco.q_network(small_gan, base_filters=4)
    assert coco.fit_q_network(again, ds, epochs=2, checkpoint_dir=tmp_path / "q", verbose=0) == {}  # loaded
    np.testing.assert_allclose(again.guided(images[:2, :16, 16:], np.array([[0, 2], [0, 2]]))[1], z, atol=1e-5)
    # Against a changed generator the saved encoder is stale: it is trained again, not loaded.
    small_gan.generator_ema.weights[0].assign(small_gan.generator_ema.weights[0] + 0.1)
    third = coco.q_network(small_gan, base_filters=4)
    assert coco.fit_q_network(third, ds, epochs=1, checkpoint_dir=tmp_path / "q", verbose=0) != {}
    with pytest.raises(ValueError, match=r"patches must have shape \(B, 16, 16, 1\)"):
        q.guided(images[:2], np.zeros((2, 2), int))
    with pytest.raises(ValueError, match="positions must be"):
        q.guided(images[:2, :16, :16], np.array([[0, 3], [0, 0]]))
    with pytest.raises(ValueError, match=r"in \[-1, 1\]"):
        q.guided(images[:2, :16, :16] * 3, np.zeros((2, 2), int))


def test_memory_comparison_survives_out_of_memory(monkeypatch):
    cocogan = coco
    """Notebook 06's out-of-memory path: a model that runs out of memory becomes a row that says so, the ratios
    at that size are None, and the comparison (and so the notebook) goes on."""
    from kit.cocogan import memory

    def fake_run(job):
        size = job["images"].shape[1]
        if job["model"] == "full" and size == 64:
            return {"model": "full", "size": size, "batch": job["batch"], "oom": True, "error": "ResourceExhaustedError: OOM when allocating"}
        return {"model": job["model"], "size": size, "batch": job["batch"], "oom": False, "peak_mb": 100.0 + size, "step_seconds": 0.1,
                "params": 10}

    monkeypatch.setattr(memory, "_run_in_fresh_process", fake_run)
    images = {s: np.zeros((4, s, s, 3), "float32") for s in (32, 64)}
    out = cocogan.compare_memory(images, steps=1, batch=2, verbose=False)
    assert out["memory_ratio"][64] is None and out["time_ratio"][64] is None and out["oom"][64] == ["full"]
    assert out["memory_ratio"][32] == 1.0 and out["oom"][32] == []
    assert "out of memory" in cocogan.describe_row(next(r for r in out["rows"] if r["oom"]))


def test_measure_reports_a_resource_exhausted_error_as_a_row(monkeypatch):
    cocogan = coco
    import keras
    import tensorflow as tf

    def exhausted(self, *args, **kwargs):
        raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor")

    monkeypatch.setattr(keras.Model, "fit", exhausted)
    row = cocogan.measure("full", np.zeros((4, 32, 32, 1), "float32"), steps=1, batch=2, base_filters=4)
    assert row["oom"] and "ResourceExhaustedError" in row["error"] and row["size"] == 32


# -- the paper's way: patches without their neighbours' border -----------------------------------------------
def _give_z_a_say(model, seed=0):
    rng = np.random.default_rng(seed)
    for w in model.weights:  # conditional norms start at zero; give z a say so the tests see real patterns
        if "gamma" in w.path or "beta" in w.path:
            w.assign(rng.normal(0, 0.1, w.shape).astype(np.float32))


@pytest.mark.parametrize("micro", [4, 8, 16])
def test_without_context_keeps_the_weights_and_only_drops_the_border(micro):
    g = coco_models.micro_generator(latent_dim=8, micro_size=micro, channels=3, base_filters=4, pixel_step=0.5)
    _give_z_a_say(g)
    twin = coco_models.without_context(g)
    assert "crop_context" not in {layer.name for layer in twin.layers} and twin.output_shape == g.output_shape
    for layer in twin.layers:
        for a, b in zip(layer.get_weights(), g.get_layer(layer.name).get_weights()):
            np.testing.assert_array_equal(a, b)
    z = np.random.default_rng(1).standard_normal((3, 8)).astype(np.float32)
    c = np.array([[0.25, -0.5], [-1.0, 0.75], [0.0, 0.0]], np.float32)
    a, b = keras.ops.convert_to_numpy(g([z, c])), keras.ops.convert_to_numpy(twin([z, c]))
    assert a.shape == b.shape and not np.allclose(a, b, atol=1e-4)  # zero padding changes the patch
    # With every 3x3 kernel reduced to its centre tap, no pixel sees a neighbour: the border (or its zero
    # padding) cannot matter, so the two must agree exactly, pixel coordinates included.
    for layer in g.layers:
        if isinstance(layer, keras.layers.Conv2D) and layer.kernel_size == (3, 3):
            k = layer.kernel.numpy()
            k[[0, 0, 0, 1, 1, 2, 2, 2], [0, 1, 2, 0, 2, 0, 1, 2]] = 0.0
            layer.kernel.assign(k)
    twin = coco_models.without_context(g)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(twin([z, c])), keras.ops.convert_to_numpy(g([z, c])), atol=1e-5)


def test_without_context_leaves_the_papers_generator_and_rejects_other_models():
    paper = coco_models.micro_generator(latent_dim=8, micro_size=8, base_filters=4)
    assert coco_models.without_context(paper) is paper
    with pytest.raises(ValueError, match="micro_generator"):
        coco_models.without_context(coco_models.full_generator(8, 32, 1, 4))
    with pytest.raises(TypeError, match="keras.Model"):
        coco_models.without_context("generator")


def test_generation_without_context_shows_seams(small_gan):
    _give_z_a_say(small_gan.sampler)
    z = np.random.default_rng(2).standard_normal((16, 8)).astype(np.float32)
    with_border, paper = small_gan.generate(z), small_gan.generate(z, context=False)
    assert paper.shape == with_border.shape == (16, 32, 32, 1)
    assert seam_score(paper, 8) > seam_score(with_border, 8)
    # the weights drawn are the sampler's at the time of the call
    np.testing.assert_allclose(small_gan.generate(z, context=False), paper, atol=1e-6)
    last = small_gan.generate(z, average=False, context=False)
    assert last.shape == paper.shape


def test_beyond_boundary_from_the_last_iterate(small_gan):
    z = np.random.default_rng(3).standard_normal((2, 8)).astype(np.float32)
    small_gan.generator.weights[0].assign(small_gan.generator.weights[0] + 0.5)  # the last iterate leaves its average
    last = small_gan.generate_beyond(z, 48, average=False)
    np.testing.assert_allclose(last[:, 8:40, 8:40], small_gan.generate(z, average=False), atol=1e-5)
    assert not np.allclose(last, small_gan.generate_beyond(z, 48))


# -- class agreement, diversity, detail ----------------------------------------------------------------------
def _brightness_judge(images):
    """A stand-in judge: 'class' = which third of [-1, 1] the mean pixel falls in."""
    m = np.asarray(images).mean(axis=(1, 2, 3))
    return np.eye(3)[np.digitize(m, [-1 / 3, 1 / 3])]


def test_class_agreement_judges_centre_crops():
    dark, light = -0.9 * np.ones((1, 32, 32, 1)), 0.9 * np.ones((1, 32, 32, 1))
    a = np.concatenate([dark, dark, light, light]).astype(np.float32)
    b = np.pad(a[[0, 1, 2, 3]], ((0, 0), (8, 8), (8, 8), (0, 0)), constant_values=0.9)  # 48x48, light margin
    b[1, 8:40, 8:40] = 0.9  # the centre of the second one changes class
    got = coco.class_agreement(_brightness_judge, a, b, names=("dark", "grey", "light"))
    assert got["agreement"] == pytest.approx(0.75) and got["n"] == 4
    np.testing.assert_array_equal(got["classes_a"], [0, 0, 2, 2])
    np.testing.assert_array_equal(got["classes_b"], [0, 2, 2, 2])  # the margin of the 48x48 images is not judged
    assert got["changes"] == [("dark", "light", 1)]
    assert coco.class_agreement(_brightness_judge, a, a)["changes"] == []
    assert coco.centre_crop(b, 28).shape == (4, 28, 28, 1)
    with pytest.raises(ValueError, match="one image b per image a"):
        coco.class_agreement(_brightness_judge, a, b[:3])
    with pytest.raises(ValueError, match="centred 28x28"):
        coco.centre_crop(np.zeros((1, 31, 31, 1)), 28)
    with pytest.raises(ValueError, match=r"\(N, classes\)"):
        coco.judged_classes(lambda x: np.zeros(len(x)), a)
    with pytest.raises(TypeError, match="callable"):
        coco.judged_classes("judge", a)


def test_diversity_and_detail_ratios():
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (12, 16, 16, 3)).astype(np.float32)
    assert coco.diversity_ratio(real, real) == pytest.approx(1.0)
    assert coco.diversity_ratio(np.repeat(real[:1], 12, axis=0), real) == pytest.approx(0.0, abs=1e-6)  # one image, twelve times
    pooled = real.reshape(12, 4, 4, 4, 4, 3).mean(axis=(2, 4)).reshape(12, -1)
    brute = np.mean([np.linalg.norm(pooled[i] - pooled[j]) for i in range(12) for j in range(i + 1, 12)])
    assert coco.mean_pairwise_distance(real) == pytest.approx(brute, rel=1e-6)
    flat = np.broadcast_to(rng.uniform(-1, 1, (12, 1, 1, 3)), real.shape).astype(np.float32)
    assert coco.detail_ratio(flat, real) == 0.0 and coco.detail_ratio(real, real) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="at least 2 images"):
        coco.mean_pairwise_distance(real[:1])
    with pytest.raises(ValueError, match="same image shape"):
        coco.diversity_ratio(real[:, :8, :8], real)
    with pytest.raises(ValueError, match="pool"):
        coco.mean_pairwise_distance(real, pool=3)


def test_saving_grows():
    def result(ratios, oom=None):
        return {"memory_ratio": ratios, "oom": {s: (oom or {}).get(s, []) for s in ratios}}

    assert coco.saving_grows(result({64: 0.9, 128: 0.7}))
    assert not coco.saving_grows(result({64: 0.7, 128: 0.9}))
    assert not coco.saving_grows(result({64: 0.9}))  # one size: nothing to compare
    assert coco.saving_grows(result({64: 0.9, 128: 0.7, 256: None}, {256: ["full"]}))
    assert not coco.saving_grows(result({64: 0.9, 128: None}, {128: ["coco", "full"]}))
    ref = coco.REFERENCE_PEAK_MB
    assert round(ref["coco"] / ref["full"], 2) == 0.52
