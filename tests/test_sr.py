"""Notebook 07: degradations, RRDBNet, tiled inference, the refiner, the photo crops and the pipeline glue (the
weight port and the PyTorch-file reader are tested in test_port.py)."""

import json

import keras
import numpy as np
import pytest

import kit
from kit.sr import degrade as dg
from kit import sr as esrgan
from kit import sr
from kit.sr.photos import load_photo_crops, skimage_photos, tile
from kit.metrics import image_quality as iq
from kit.sr.refiner import chain, colour_stage, refine, refiner
from kit.sr.rrdbnet import enhance, receptive_radius, rrdbnet, tiled_predict


@pytest.fixture(scope="module")
def photo():
    """Real photograph patches: 4 crops of the astronaut, 48x48, float32 in [0, 1]."""
    img = skimage_photos(["astronaut"])["astronaut"]
    return np.stack([img[100:148, 180:228], img[300:348, 300:348], img[40:88, 400:448], img[420:468, 60:108]])


# -- degradations ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", dg.KINDS)
@pytest.mark.parametrize("level", dg.LEVEL_NAMES)
def test_each_degradation_changes_the_image_within_its_range_and_is_seeded(photo, kind, level):
    cfg = dg.DegradationConfig.level(level).only(kind)
    d = getattr(cfg, kind)
    y, params = dg.degrade(photo, cfg, seed=3, return_params=True)
    assert y.shape == photo.shape and y.dtype == np.float32 and 0 <= y.min() and y.max() <= 1
    p = params[kind]
    assert p["applied"].all()
    assert np.all((p["value"] >= d.low) & (p["value"] <= d.high))
    assert np.abs(y - photo).mean(axis=(1, 2, 3)).min() > 1e-4, "every image must change"
    np.testing.assert_array_equal(y, dg.degrade(photo, cfg, seed=3))
    assert not np.array_equal(y, dg.degrade(photo, cfg, seed=4))
    # The measurable effect matches the drawn strength.
    if kind == "gaussian_noise":
        interior = (photo > 0.15) & (photo < 0.85)  # away from clipping
        std = [np.std((y - photo)[i][interior[i]]) for i in range(len(y))]
        np.testing.assert_allclose(std, p["value"], rtol=0.2)
    elif kind == "salt_pepper":
        hit = np.all((y == 0) | (y == 1), axis=-1) & np.any(y != photo, axis=-1)
        np.testing.assert_allclose(hit.mean(axis=(1, 2)), p["value"], atol=0.01 + 0.5 * p["value"].max())
    elif kind == "colour_shift":
        from skimage.color import rgb2lab

        shift = (rgb2lab(y)[..., 2] - rgb2lab(photo)[..., 2]).mean(axis=(1, 2))
        assert np.all(np.abs(shift) <= d.high + 0.5) and np.all(np.sign(shift) == np.sign(p["b_shift"]))
    elif kind in ("gaussian_blur", "motion_blur", "downscale"):
        # Blurs remove high frequencies: the image's gradient energy drops.
        grad = lambda a: np.abs(np.diff(a, axis=2)).mean(axis=(1, 2, 3))
        assert np.all(grad(y) < grad(photo))


def test_examples_show_every_kind_at_every_level(photo):
    images, captions = dg.examples(photo[0], seed=1)
    assert images.shape == (len(dg.LEVEL_NAMES) * len(dg.KINDS), 48, 48, 3) and len(captions) == len(images)
    assert captions[0].startswith("mild: colour_shift")


def test_levels_get_stronger(photo):
    err = [np.abs(dg.degrade(np.repeat(photo, 4, 0), lv, seed=0) - np.repeat(photo, 4, 0)).mean() for lv in dg.LEVEL_NAMES]
    assert err[0] < err[1] < err[2]
    _, params = dg.degrade(np.repeat(photo, 8, 0), "mild", seed=0, return_params=True)
    assert np.stack([p["applied"] for p in params.values()]).any(axis=0).all(), "every image gets at least one degradation"


def test_degradation_config_from_yaml_and_json(tmp_path):
    spec = {"base": "mild", "name": "mine", "jpeg": {"probability": 1.0, "range": [10, 20]}}
    (tmp_path / "d.json").write_text(json.dumps(spec))
    (tmp_path / "d.yaml").write_text("base: mild\nname: mine\njpeg:\n  probability: 1.0\n  range: [10, 20]\n")
    a, b = dg.DegradationConfig.from_file(tmp_path / "d.json"), dg.DegradationConfig.from_file(tmp_path / "d.yaml")
    assert a == b and a.jpeg == dg.Degradation(1.0, 10.0, 20.0) and a.gaussian_noise == dg.LEVELS["mild"].gaussian_noise
    assert dg.DegradationConfig.from_dict(a.to_dict()) == a
    with pytest.raises(ValueError, match="unknown degradation configuration keys"):
        dg.DegradationConfig.from_dict({"jpg": {}})
    with pytest.raises(ValueError, match="range must satisfy"):
        dg.DegradationConfig(jpeg=dg.Degradation(1.0, 50, 150))
    with pytest.raises(ValueError, match="Unknown degradation level"):
        dg.degrade(np.zeros((1, 16, 16, 3), np.float32), "extreme")
    with pytest.raises(ValueError, match="channel"):
        dg.degrade(np.zeros((1, 16, 16, 1), np.float32))


@pytest.mark.parametrize("name, text, match", [
    ("bad.json", '{"base": "mild", "jpeg": ', r"bad.json is not valid JSON"),
    ("bad.yaml", "base: [mild\n", r"bad.yaml is not valid YAML"),
    ("keys.json", '{"jpg": {}}', r"keys.json: unknown degradation configuration keys"),
])
def test_an_invalid_degradation_config_file_is_named_in_the_error(tmp_path, name, text, match):
    (tmp_path / name).write_text(text)
    with pytest.raises(ValueError, match=match) as err:
        dg.DegradationConfig.from_file(tmp_path / name)
    assert str(tmp_path / name) in str(err.value)


# -- RRDBNet and tiled inference ----------------------------------------------------------------------


def test_rrdbnet_is_real_esrgan_x4plus_and_upscales_4x():
    model = rrdbnet()
    assert model.count_params() == 16_697_987  # RealESRGAN_x4plus
    small = rrdbnet(num_feat=8, num_block=1, num_grow_ch=4)
    y = small.predict(np.random.default_rng(0).random((2, 10, 12, 3), dtype=np.float32), verbose=0)
    assert y.shape == (2, 40, 48, 3)


def test_tiled_inference_equals_untiled():
    model = rrdbnet(num_feat=8, num_block=1, num_grow_ch=4)
    x = np.random.default_rng(2).random((2, 37, 30, 3), dtype=np.float32)
    whole = model.predict(x, verbose=0)
    tiled = tiled_predict(model, x, tile=16, overlap=receptive_radius(model))
    assert tiled.shape == whole.shape == (2, 148, 120, 3)
    np.testing.assert_allclose(tiled, whole, atol=1e-5)
    out = enhance(model, x, tile=16, overlap=2)
    assert out.shape == whole.shape and 0 <= out.min() and out.max() <= 1


# -- refiner -----------------------------------------------------------------------------------------------


def test_refiner_is_the_identity_when_its_residual_head_is_zero(photo):
    model = refiner(base_filters=4, depth=2)
    np.testing.assert_array_equal(model.predict(photo, verbose=0), photo)
    trained = refiner(base_filters=4, depth=2, zero_init=False)
    assert not np.allclose(trained.predict(photo, verbose=0), photo)
    head = trained.get_layer("residual_head")
    head.set_weights([np.zeros_like(w) for w in head.get_weights()])
    np.testing.assert_array_equal(refine(trained, photo[:, :45, :47]), photo[:, :45, :47])
    assert not any("batch_norm" in l.name or "normalization" in type(l).__name__.lower() for l in model.layers)


def test_refiner_training_improves_psnr_and_keeps_the_best_epoch(photo, tmp_path):
    # Seeded, and 6 epochs of 16 steps: unseeded at 3 epochs it once gained only +0.33 dB on Colab's stack (the global
    # RNG left by earlier tests). Seeded, 6 epochs gained +2.45 to +2.95 dB over seeds 0-2 on both stacks (3.11 and
    # 3.13, measured 2026-12-03): the 0.5 dB asked below is a fifth of the smallest.
    keras.utils.set_random_seed(0)
    noisy = dg.degrade(photo, dg.LEVELS["moderate"].only("gaussian_noise"), seed=0)
    model = refiner(base_filters=8, depth=2)
    x, y = np.tile(noisy, (16, 1, 1, 1)), np.tile(photo, (16, 1, 1, 1))  # 16 steps of random patches per epoch
    hist = esrgan.fit_restoration(
        model, x, y, validation_data=(noisy, photo), epochs=6, batch_size=4, patch=32, learning_rate=2e-3,
        loss=esrgan.RestorationLoss(1.0, 1.0), checkpoint=tmp_path / "r.weights.h5", jit_compile=True, verbose=0,
    )
    best = max(hist.history["val_psnr"])
    noisy_psnr = iq.psnr(noisy, photo).mean()  # what the untrained (identity) refiner scores
    assert best > noisy_psnr + 0.5 and (tmp_path / "r.weights.h5").is_file()  # training improved on "no change"
    assert hist.improved and hist.history["val_psnr"][hist.best_epoch - 1] == best  # and says which epoch came back
    np.testing.assert_allclose(iq.psnr(refine(model, noisy), photo).mean(), best, atol=0.05)  # and the best epoch came back


def test_fit_restoration_refuses_a_bad_learning_rate_and_warns_when_nothing_was_learnt(photo, tmp_path):
    noisy = dg.degrade(photo, dg.LEVELS["moderate"].only("gaussian_noise"), seed=0)
    common = dict(validation_data=(noisy, photo), epochs=1, batch_size=4, patch=32, loss=esrgan.RestorationLoss(1.0, 1.0),
                  checkpoint=tmp_path / "r.weights.h5", jit_compile=False, verbose=0)
    with pytest.raises(ValueError, match="learning_rate must be > 0.0, got -0.001"):
        esrgan.fit_restoration(refiner(base_filters=4, depth=2), noisy, photo, learning_rate=-1e-3, **common)
    model = refiner(base_filters=4, depth=2)
    with pytest.warns(UserWarning, match="no epoch beat the untrained model.*untrained weights were returned"):
        hist = esrgan.fit_restoration(model, noisy, photo, learning_rate=50.0, **common)
    np.testing.assert_array_equal(refine(model, noisy), noisy)  # the identity it started as, not a broken model
    assert hist.best_epoch == 0 and not hist.improved and hist.initial_val_psnr == pytest.approx(iq.psnr(noisy, photo).mean(), abs=0.05)


def test_fit_restoration_restores_the_best_weights_after_a_nan_loss(photo, tmp_path):
    import keras

    from kit.callbacks import NonFiniteLossError

    class Poison(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if self._epoch == 1:
                for v in self.model.trainable_variables:
                    v.assign(np.full(v.shape, np.nan, np.float32))

        def on_epoch_begin(self, epoch, logs=None):
            self._epoch = epoch

    noisy = dg.degrade(photo, dg.LEVELS["moderate"].only("gaussian_noise"), seed=0)
    model = refiner(base_filters=4, depth=2)
    with pytest.raises(NonFiniteLossError, match="holds its best weights so far again"):
        esrgan.fit_restoration(model, noisy, photo, validation_data=(noisy, photo), epochs=3, batch_size=4, patch=32, learning_rate=1e-3,
                               loss=esrgan.RestorationLoss(1.0, 1.0), checkpoint=tmp_path / "r.weights.h5", jit_compile=False,
                               verbose=0, callbacks=[Poison()])
    assert all(np.all(np.isfinite(np.asarray(v))) for v in model.weights)


def test_colour_stage_starts_as_the_identity_and_moves_every_pixel_alike(photo):
    x = photo * 0.8 + 0.1  # away from 0 and 1, so no pixel is clipped
    np.testing.assert_array_equal(colour_stage(base_filters=4).predict(x, verbose=0), x)
    moved = colour_stage(base_filters=4, zero_init=False).predict(x, verbose=0) - x
    assert np.abs(moved).max() > 1e-4 and np.abs(moved).max() <= 0.15 + 1e-6
    # one offset per image and channel: the same at every pixel
    np.testing.assert_allclose(moved, np.broadcast_to(moved[:, :1, :1], moved.shape), atol=1e-6)
    with pytest.raises(ValueError, match=r"scale must lie in \(0, 1\]"):
        colour_stage(offset_scale=2.0)


def test_chained_refiner_round_trips_through_the_keras_format(photo, tmp_path):
    import keras

    model = chain(colour_stage(base_filters=4, zero_init=False), refiner(base_filters=4, depth=2, zero_init=False))
    model.save(tmp_path / "refiner.keras")
    again = keras.saving.load_model(tmp_path / "refiner.keras")
    np.testing.assert_allclose(refine(again, photo), refine(model, photo), atol=1e-6)


def test_colour_stage_learns_to_remove_a_colour_cast(photo, tmp_path):
    """A constant cast (+0.06 red, -0.06 blue) on every image: a few epochs of the colour stage undo most of it."""
    raw = photo * 0.8 + 0.1
    cast = np.clip(raw + np.float32([0.06, 0.0, -0.06]), 0, 1)
    stage = colour_stage(base_filters=4)
    esrgan.fit_restoration(stage, cast, raw, validation_data=(cast, raw), epochs=20, batch_size=4, patch=None, learning_rate=1e-2,
                           loss=esrgan.RestorationLoss(0.0, 1.0), checkpoint=tmp_path / "c.weights.h5", jit_compile=False, verbose=0)
    before, after = iq.psnr(cast, raw).mean(), iq.psnr(refine(stage, cast), raw).mean()
    assert after > before + 6, (before, after)


def test_train_refiner_chains_the_colour_stage_and_the_unet(tmp_path):
    import dataclasses

    import kit

    P = kit.profile("smoke")
    crops = load_photo_crops(32, limit=30)
    train, val = (esrgan.enhance_split(esrgan.Enhancer("bicubic", "bicubic"), esrgan.degrade_split(c, ("mild",), seed=i))
                  for i, c in enumerate((crops.train, crops.val)))
    model, histories = esrgan.train_refiner(P, train, val, level="mild", checkpoint_dir=tmp_path, verbose=0)
    assert set(histories) == {"colour", "unet"} and [l.name for l in model.layers[1:]] == ["colour_stage", "unet"]
    out = refine(model, val.degraded["mild"])
    np.testing.assert_allclose(out, refine(model.get_layer("unet"), refine(model.get_layer("colour_stage"), val.degraded["mild"])), atol=1e-6)
    assert set(esrgan.colour_stage_gain(model, val, "mild")) == {"psnr_gain_db", "ssim_gain"}
    plain = P.replace(esrgan=dataclasses.replace(P.esrgan, colour_epochs=0))
    model, histories = esrgan.train_refiner(plain, train, val, level="mild", checkpoint_dir=tmp_path, verbose=0)
    assert set(histories) == {"unet"} and esrgan.colour_stage_gain(model, val, "mild") is None
    with pytest.raises(ValueError, match="at least one stage"):
        chain()


# -- data and pipeline ---------------------------------------------------------------------------------------


def test_photo_crops_are_split_without_overlap():
    crops = load_photo_crops(128, seed=0)
    n = [len(crops.train), len(crops.val), len(crops.test)]
    assert min(n) > 0 and abs(n[0] / sum(n) - 0.8) < 0.02
    flat = {s: {c.tobytes() for c in getattr(crops, s)} for s in ("train", "val", "test")}
    assert not (flat["train"] & flat["val"]) and not (flat["train"] & flat["test"]) and not (flat["val"] & flat["test"])
    again = load_photo_crops(128, seed=0)
    np.testing.assert_array_equal(again.test, crops.test)
    assert tile(np.zeros((64, 64, 3), np.float32), 32).shape == (0, 32, 32, 3)  # flat crops are dropped


def test_photo_crops_from_a_user_folder(tmp_path):
    from skimage import io as skio

    img = (skimage_photos(["coffee"])["coffee"] * 255).astype(np.uint8)
    for i in range(3):
        skio.imsave(tmp_path / f"ring_{i}.png", np.roll(img, 40 * i, axis=1), check_contrast=False)
    crops = load_photo_crops(64, folder=tmp_path)
    assert crops.train.shape[1:] == (64, 64, 3) and set(crops.sources["train"]) <= {f"ring_{i}.png" for i in range(3)}
    with pytest.raises(Exception, match="does not exist"):
        load_photo_crops(64, folder=tmp_path / "nope")


def test_pipeline_end_to_end_with_the_bicubic_stand_in(tmp_path):
    import kit

    P = kit.profile("smoke")
    crops = load_photo_crops(32, limit=30)
    test = esrgan.degrade_split(crops.test, draws=2, seed=5)
    assert test.degraded["mild"].shape == (2 * len(crops.test), 8, 8, 3)
    base = esrgan.choose_baseline(P, checkpoint_dir=tmp_path)
    assert base.kind == "bicubic" and "STAND-IN" in base.label
    enhanced = esrgan.enhance_split(base, test)
    identity = refiner(base_filters=4, depth=2)
    rows = esrgan.evaluate(enhanced, esrgan.refine_split(identity, enhanced))
    assert len(rows) == 3 * 3 * 2
    g = esrgan.gains(rows, "mild")
    assert g["psnr_gain_db"] == pytest.approx(0.0, abs=1e-4) and len(g["mean_channel_error"]) == 3
    assert "| mild | refined | raw |" in esrgan.metrics_table(rows)
    per_level = {lv: refiner(base_filters=4, depth=2, name=f"r_{lv}") for lv in ("mild", "moderate")}
    with pytest.raises(ValueError, match="no refiner for the levels"):
        esrgan.refine_split(per_level, enhanced)
    per_level["severe"] = identity
    np.testing.assert_array_equal(esrgan.refine_split(per_level, enhanced)["mild"], enhanced.degraded["mild"])


def test_cosine_schedule_warms_up_then_decays():
    lr = esrgan.cosine_schedule(1e-3, 100)
    values = [float(lr(step)) for step in (0, 5, 50, 100)]
    assert values[0] == pytest.approx(1e-4) and values[1] == pytest.approx(1e-3)
    assert values[1] > values[2] > values[3] == pytest.approx(1e-5)
    with pytest.raises(ValueError, match="learning-rate schedule"):
        esrgan.fit_restoration(
            refiner(base_filters=4, depth=2), np.zeros((2, 8, 8, 3), np.float32), np.zeros((2, 8, 8, 3), np.float32),
            validation_data=(np.zeros((2, 8, 8, 3), np.float32),) * 2, epochs=1, batch_size=2, patch=None, learning_rate=1e-3,
            loss=esrgan.RestorationLoss(), checkpoint="unused.weights.h5", jit_compile=False, schedule="linear",
        )


def test_colour_oracle_gain_measures_only_the_global_colour_part(photo):
    """The oracle removes each image's mean colour error: large gain for a pure colour cast, none for
    zero-mean noise, and unknown levels are refused."""
    raw = photo[:2, :32, :32].astype(np.float32) * 0.8 + 0.1
    source = esrgan.DegradedSet(hr=raw, raw=raw, degraded={}, draws=1)
    noise = np.random.default_rng(0).normal(0, 0.02, raw.shape).astype(np.float32)
    noise -= noise.mean(axis=(1, 2), keepdims=True)
    cast = esrgan.EnhancedSet(source, raw, {"mild": np.clip(raw + np.float32([0.05, 0.0, -0.05]), 0, 1), "moderate": raw + noise})
    assert esrgan.colour_oracle_gain(cast, "mild")["psnr_gain_db"] > 10
    assert esrgan.colour_oracle_gain(cast, "moderate")["psnr_gain_db"] == pytest.approx(0.0, abs=0.05)
    with pytest.raises(ValueError, match="level"):
        esrgan.colour_oracle_gain(cast, "extreme")


def test_demo_restore_degrades_enhances_and_refines():
    photo = sr.demo.example("astronaut", 64)
    assert photo.dtype == np.uint8 and photo.shape == (64, 64, 3)
    identity = sr.refiner(base_filters=4, depth=1)  # zero-initialised: the identity
    out = sr.demo.restore(photo, "moderate", lambda x: sr.bicubic(x), {"moderate": identity}, seed=3)
    assert {k: out[k].shape for k in ("photo", "degraded", "enhanced", "refined")} == {k: (64, 64, 3) for k in ("photo", "degraded", "enhanced", "refined")}
    np.testing.assert_allclose(out["refined"], out["enhanced"], atol=1e-5)
    assert set(out["psnr"]) == {"degraded", "enhanced", "refined"} and all(np.isfinite(v) for v in out["psnr"].values())
    with pytest.raises(ValueError, match="no refiner for the 'mild' level"):
        sr.demo.restore(photo, "mild", lambda x: sr.bicubic(x), {"moderate": identity})
    with pytest.raises(ValueError, match="degradation level"):
        sr.demo.restore(photo, "awful", lambda x: sr.bicubic(x), identity)


def test_demo_interface_builds_with_gradio():
    gr = pytest.importorskip("gradio")
    app = sr.demo.interface(lambda x: sr.bicubic(x), sr.refiner(base_filters=4, depth=1))
    assert isinstance(app, gr.Blocks)


def test_official_weights_fall_back_to_none_when_the_download_fails(tmp_path, monkeypatch, capsys):
    """Offline (here: a port nothing listens on) the official weights are None with the reason printed, so
    choose_baseline falls back to the stand-in; nothing is left in the folder."""
    import importlib

    enh = importlib.import_module("kit.sr.enhance")  # the module (kit.sr.enhance the name is a function)

    monkeypatch.setattr(enh, "OFFICIAL_URL", "http://127.0.0.1:9/RealESRGAN_x4plus.pth")
    assert enh.official_weights(download=True, folder=tmp_path, timeout=2.0) is None
    assert "download failed" in capsys.readouterr().out
    assert not any(tmp_path.iterdir())
    assert enh.official_weights(download=False, folder=tmp_path) is None


def test_transfer_gains_of_identity_refiners_are_zero_at_every_level(photo):
    """Refiners that return their input leave E(degraded) as it was: a gain of exactly 0 dB at each level asked for."""
    identity = refiner(base_filters=4, depth=2)  # zero-initialised residual head: the identity
    crops = np.concatenate([photo, photo[:, ::-1]])  # 48x48, divisible by 4
    out = sr.transfer_gains(crops, sr.Enhancer("bicubic", "bicubic"), {"mild": identity, "severe": identity})
    assert set(out) == {"mild", "severe"}
    for g in out.values():
        assert g["psnr_gain_db"] == pytest.approx(0.0, abs=1e-5) and g["ssim_gain"] == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="no refiner for the levels"):
        sr.transfer_gains(crops, sr.Enhancer("bicubic", "bicubic"), {"mild": identity}, levels=["moderate"])


def test_detailed_picks_the_most_detailed_different_crops(rng):
    """Crops ranked by detail; a crop repeated once per degradation draw counts once."""
    flat = np.full((16, 16, 3), 0.5, np.float32)
    noisy = rng.uniform(0, 1, (16, 16, 3)).astype(np.float32)
    edge = np.zeros((16, 16, 3), np.float32)
    edge[:, 8:] = 1.0
    refs = np.stack([flat, noisy, edge, noisy, edge, noisy])  # as E(raw) of 3 crops x 2 draws, drawn out of order
    assert list(sr.detailed(refs, 2)) == [1, 2]
    assert list(sr.detailed(refs, 5)) == [1, 2, 0]  # only 3 different crops
    with pytest.raises(ValueError, match="n"):
        sr.detailed(refs, 0)


def test_every_enhancer_takes_rgb_only_bicubic_included():
    """A folder of grayscale photos (N, H, W, 1) is refused by the bicubic stand-in too, as the RRDBNets refuse it."""
    with pytest.raises(ValueError, match=r"images must have 3 channel\(s\) \(NHWC\), got shape \(2, 8, 8, 1\)"):
        sr.Enhancer("bicubic", "bicubic")(np.zeros((2, 8, 8, 1), np.float32))
    assert sr.Enhancer("bicubic", "bicubic")(np.zeros((2, 8, 8, 3), np.float32)).shape == (2, 32, 32, 3)


def test_the_cpu_profile_never_runs_the_official_rrdbnet(tmp_path, monkeypatch):
    """At cpu the full RRDBNet over every crop would take about an hour on 2 cores: even with its weights at hand,
    choose_baseline does not look for them, and takes the stand-in."""
    import importlib

    enh = importlib.import_module("kit.sr.enhance")  # the module (kit.sr.enhance the name is a function)
    looked = []
    monkeypatch.setattr(enh, "official_weights", lambda **kw: looked.append(kw) or tmp_path / "x.weights.h5")
    P = kit.profile("cpu").replace(esrgan=kit.profile("cpu").esrgan.replace(standin_epochs=0))
    assert not P.esrgan.official_rrdbnet and kit.profile("t4").esrgan.official_rrdbnet
    assert esrgan.choose_baseline(P, checkpoint_dir=tmp_path).kind == "bicubic" and not looked


def test_refinement_figure_shows_the_crops_where_the_rows_differ_with_their_psnr():
    rng = np.random.default_rng(0)
    ref = rng.uniform(0.2, 0.8, (6, 48, 48, 3)).astype(np.float32)
    before = np.clip(ref + 0.05, 0, 1).astype(np.float32)
    after = before.copy()
    after[4, 10:30, 12:32] = ref[4, 10:30, 12:32]  # refinement repaired one window of crop 4, nothing else
    fig = esrgan.refinement_figure({"E(degraded)": before, "refined": after}, ref, n=1, zoom=16, show=False)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert any(t.startswith("crop 4: ") for t in titles), titles  # the crop the rows differ on
    assert f"{float(kit.metrics.psnr(after[4:5], ref[4:5])[0]):.2f} dB" in titles
