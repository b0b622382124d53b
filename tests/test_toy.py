"""kit.game2d (notebook 00): the 2-D targets, the mode-coverage metric, the optimal discriminator, the JS
divergence and the value of the game on hand-made inputs whose answers are known, input validation, and one
tiny training run end to end."""

import keras
import numpy as np
import pytest

import kit
from kit import game2d

LOG2 = float(np.log(2.0))


def test_the_ring_and_the_grid():
    ring, grid = game2d.ring(), game2d.grid()
    assert ring.centers.shape == (8, 2) and grid.centers.shape == (25, 2)
    assert np.allclose(np.linalg.norm(ring.centers, axis=1), 2.0) and ring.sigma == 0.02
    assert np.allclose(ring.centers[0], [2.0, 0.0]) and np.allclose(ring.centers[2], [0.0, 2.0], atol=1e-12)
    assert sorted(set(grid.centers[:, 0].round(6))) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    x = ring.sample(4000, seed=3)
    assert x.shape == (4000, 2) and x.dtype == np.float32
    assert np.array_equal(x, ring.sample(4000, seed=3)) and not np.array_equal(x, ring.sample(4000, seed=4))
    # every sample lies near some mode, and every mode gets about 1/8 of them
    cover = game2d.mode_coverage(x, ring)
    assert cover["modes_covered"] == 8 and cover["high_quality_share"] > 0.98
    assert np.all(np.abs(cover["counts"] / 4000 - 1 / 8) < 0.03)
    assert ring.extent > 2.0 and grid.extent > 4.0


def test_the_density_integrates_to_one_blurred_or_not():
    ring = game2d.ring()
    for extra in (0.0, 0.05):
        g = game2d.DensityGrid(ring.extent, 600)
        p = ring.density(g.points, extra_sigma=extra)
        assert p.shape == (600 * 600,) and np.all(p >= 0)
        assert p.sum() * g.cell_area == pytest.approx(1.0, abs=1e-3)
    centre = ring.density(ring.centers[:1])[0]
    assert centre == pytest.approx(1 / (8 * 2 * np.pi * 0.02**2), rel=1e-6)


def test_mode_coverage_on_hand_made_samples():
    ring = game2d.ring()
    on_all = np.repeat(ring.centers, 10, axis=0)  # 80 points, 10 on each centre
    c = game2d.mode_coverage(on_all, ring)
    assert c["modes_covered"] == 8 and c["high_quality_share"] == 1.0 and c["counts"].tolist() == [10] * 8 and c["modes"] == 8
    collapsed = np.repeat(ring.centers[:1], 80, axis=0) + 0.01  # all on one mode, within 3 sigma
    c = game2d.mode_coverage(collapsed, ring)
    assert c["modes_covered"] == 1 and c["high_quality_share"] == 1.0 and c["counts"].tolist() == [80] + [0] * 7
    far = np.zeros((50, 2))  # the centre of the ring: near no mode
    c = game2d.mode_coverage(far, ring)
    assert c["modes_covered"] == 0 and c["high_quality_share"] == 0.0
    # just inside and just outside 3 sigma
    edge = ring.centers[[0, 1]] + np.array([[0.059, 0.0], [0.0, 0.061]])
    c = game2d.mode_coverage(edge, ring, min_share=0.5)
    assert c["high_quality_share"] == 0.5 and c["modes_covered"] == 1
    # min_share: 1 point of 200 on mode 3 covers it at 0.5%, not at 1%
    mixed = np.concatenate([np.repeat(ring.centers[:1], 199, axis=0), ring.centers[3:4]])
    assert game2d.mode_coverage(mixed, ring, min_share=0.005)["modes_covered"] == 2
    assert game2d.mode_coverage(mixed, ring, min_share=0.01)["modes_covered"] == 1


@pytest.mark.parametrize("samples, mixture, kwargs, error, match", [
    (np.zeros((5, 3)), "ring", {}, ValueError, r"samples must have shape \(N >= 1, 2\), got \(5, 3\)"),
    (np.zeros((0, 2)), "ring", {}, ValueError, r"got \(0, 2\)"),
    (np.array([[np.nan, 0.0]]), "ring", {}, ValueError, "NaN or infinite"),
    (np.zeros((5, 2)), "not a mixture", {}, TypeError, "must be a kit.game2d.Mixture"),
    (np.zeros((5, 2)), "ring", {"min_share": 0.0}, ValueError, "min_share"),
    (None, "ring", {}, TypeError, "samples must be an array, got None"),
])
def test_mode_coverage_refuses_bad_input(samples, mixture, kwargs, error, match):
    with pytest.raises(error, match=match):
        game2d.mode_coverage(samples, game2d.ring() if mixture == "ring" else mixture, **kwargs)


def test_mixtures_refuse_bad_parameters():
    with pytest.raises(ValueError, match=r"centers must be finite float \(K >= 1, 2\), got shape \(3,\)"):
        game2d.Mixture("bad", np.zeros(3), 0.1)
    with pytest.raises(ValueError, match="sigma"):
        game2d.ring(sigma=0.0)
    with pytest.raises(TypeError, match="k must be a positive integer"):
        game2d.ring(k=2.5)
    with pytest.raises(ValueError, match=r"points must have shape \(N, 2\)"):
        game2d.ring().density(np.zeros((4, 3)))


def test_optimal_discriminator_formula_and_its_safe_value():
    p = np.array([[1.0, 3.0, 0.0], [0.0, 2.0, 1e-300]])
    q = np.array([[1.0, 1.0, 2.0], [0.0, 0.0, 1e-300]])
    with np.errstate(all="raise"):  # no division by zero on the way
        d = game2d.optimal_discriminator(p, q)
    assert d.shape == (2, 3) and np.allclose(d, [[0.5, 0.75, 0.0], [0.5, 1.0, 0.5]])
    assert game2d.optimal_discriminator([2.0], [6.0]).tolist() == [0.25]


@pytest.mark.parametrize("p, q, match", [
    (np.ones(3), np.ones(4), "same shape"),
    (np.array([-1.0, 1.0]), np.ones(2), "p_data must be finite and non-negative"),
    (np.ones(2), np.array([np.inf, 1.0]), "p_g must be finite and non-negative"),
])
def test_optimal_discriminator_refuses_bad_densities(p, q, match):
    with pytest.raises(ValueError, match=match):
        game2d.optimal_discriminator(p, q)


def test_js_divergence_of_identical_disjoint_and_swapped_distributions():
    rng = np.random.default_rng(0)
    p, q = rng.random((30, 30)), rng.random((30, 30))
    assert game2d.js_divergence(p, p) == pytest.approx(0.0, abs=1e-12)
    assert game2d.js_divergence(p, 5 * p) == pytest.approx(0.0, abs=1e-12)  # normalised first
    a, b = np.zeros((4, 4)), np.zeros((4, 4))
    a[0], b[3] = 1.0, 1.0
    assert game2d.js_divergence(a, b) == pytest.approx(LOG2)
    assert game2d.js_divergence(p, q) == pytest.approx(game2d.js_divergence(q, p))
    assert 0 < game2d.js_divergence(p, q) < LOG2
    with pytest.raises(ValueError, match="not all 0"):
        game2d.js_divergence(np.zeros(4), np.ones(4))
    with pytest.raises(ValueError, match="same shape"):
        game2d.js_divergence(np.ones(4), np.ones(5))


def test_the_value_of_the_game_at_the_optimal_discriminator_is_2_js_minus_log_4():
    """Goodfellow et al. 2014, Theorem 1, on a grid: V(D*, G) = 2 JS - log 4, and any other D does worse."""
    ring = game2d.ring()
    grid = game2d.density_grid(ring, 0.05)
    p_data, p_g = game2d.densities(np.repeat(ring.centers[:3], 100, axis=0) + 0.3, ring, grid, 0.05)
    p, q = p_data / p_data.sum(), p_g / p_g.sum()
    d_star = game2d.optimal_discriminator(p, q)

    def value(d):
        d = np.clip(d, 1e-300, 1 - 1e-16)
        return float(np.sum(p * np.log(d)) + np.sum(q * np.log1p(-d)))

    assert value(d_star) == pytest.approx(2 * game2d.js_divergence(p_data, p_g) - game2d.LOG4, abs=1e-6)
    assert value(np.full_like(p, 0.5)) == pytest.approx(-game2d.LOG4) and value(np.full_like(p, 0.5)) < value(d_star)
    # from logits: D = 1/2 everywhere gives -log 4
    assert game2d.value_function(np.zeros(7), np.zeros(5)) == pytest.approx(-game2d.LOG4)
    assert game2d.value_function([10.0], [-10.0]) == pytest.approx(0.0, abs=1e-4)
    with pytest.raises(ValueError, match="real_logits must be a non-empty array of finite logits"):
        game2d.value_function([], [0.0])


def test_kde_and_the_js_floor():
    ring = game2d.ring()
    grid = game2d.density_grid(ring, 0.05)
    x = ring.sample(2000, seed=0)
    kde = game2d.kde_on_grid(x, grid, 0.05)
    assert kde.shape == (grid.resolution, grid.resolution) and kde.sum() * grid.cell_area == pytest.approx(1.0, abs=0.01)
    # the KDE of real samples is close to the blurred density; a collapsed generator's is far from it
    floor = game2d.js_floor(ring, grid, 0.05, 2000)
    collapsed = game2d.js_divergence(*game2d.densities(np.repeat(ring.centers[:2], 1000, axis=0), ring, grid, 0.05))
    assert 0 <= floor < 0.05 and collapsed > 0.3
    with pytest.raises(ValueError, match="bandwidth"):
        game2d.kde_on_grid(x, grid, 0.0)
    with pytest.raises(TypeError, match="DensityGrid"):
        game2d.kde_on_grid(x, (3, 100), 0.05)


def test_compare_with_optimal_finds_no_error_for_d_star_itself():
    ring = game2d.ring()
    grid = game2d.density_grid(ring, 0.05)
    samples = ring.sample(2000, seed=1)
    d_star = game2d.optimal_discriminator(*game2d.densities(samples, ring, grid, 0.05))
    out = game2d.compare_with_optimal(d_star, samples, ring, grid, 0.05)
    assert out["points"] > 0 and out["mean_abs_error"] == pytest.approx(0.0, abs=1e-12)
    assert out["constant_half_error"] < 0.2  # samples of the data itself: D* is near 1/2 where both densities matter
    nowhere = game2d.compare_with_optimal(d_star, np.zeros((10, 2)), ring, grid, 0.05)  # G's points overlap no mode
    assert nowhere["points"] == 0 and nowhere["mean_abs_error"] is None
    with pytest.raises(ValueError, match="probabilities in"):
        game2d.compare_with_optimal(d_star + 2.0, samples, ring, grid, 0.05)


def test_a_tiny_training_run_records_its_snapshots(tmp_path):
    settings = kit.profile("smoke").game2d.replace(steps=4, frames=2, eval_samples=200, surface_resolution=12)
    run = game2d.train(game2d.ring(), settings, loss="bce", seed=3)
    assert [s.step for s in run.snapshots] == [0, 2, 4] and run.seconds > 0
    final = run.final
    assert final.samples.shape == (200, 2) and final.surface.shape == (12, 12) and np.all((final.surface >= 0) & (final.surface <= 1))
    assert np.isfinite(final.value) and 0 <= final.js <= LOG2 and final.mode_counts.shape == (8,)
    h = run.history()
    assert h["step"].tolist() == [0, 2, 4] and h["js"].shape == (3,)
    assert game2d.coverage_table({"plain": [run]})["plain"]["seeds"] == [3]
    assert game2d.versus_optimal(run)["d"].shape == (game2d.density_grid(run.mixture, 0.05).resolution,) * 2
    frames = game2d.write_frames(run, tmp_path / "frames")
    assert [p.name for p in frames] == ["frame_000.png", "frame_001.png", "frame_002.png"]
    assert kit.viz.make_gif(frames, tmp_path / "game.gif").stat().st_size > 0
    fig = game2d.plot_frames(run, show=False)
    assert len(fig.axes) >= 3
    kit.viz.close(fig)


def test_train_refuses_bad_arguments():
    settings = kit.profile("smoke").game2d
    with pytest.raises(ValueError, match=r"Unknown 2-D GAN loss 'hinge'"):
        game2d.train(game2d.ring(), settings, loss="hinge", seed=0)
    with pytest.raises(TypeError, match="must be a kit.game2d.Mixture"):
        game2d.train(np.zeros((8, 2)), settings, loss="bce", seed=0)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        game2d.train(game2d.ring(), settings, loss="bce", seed=-1)


def test_every_profile_has_a_checked_game2d_section():
    for name in ("smoke", "cpu", "t4", "full"):
        g = kit.profile(name).game2d
        assert g.seeds and g.steps >= g.frames >= 1 and 0 <= g.ema_decay < 1
    assert len(kit.profile("cpu").game2d.seeds) >= 2, "the collapse and the fix are claimed across seeds"
    g = kit.profile("smoke").game2d
    with pytest.raises(ValueError, match="seeds must be distinct"):
        g.replace(seeds=(1, 1))
    with pytest.raises(ValueError, match=r"ema_decay must lie in \[0.0, 0.9999\]"):
        g.replace(ema_decay=1.0)
    with pytest.raises(ValueError, match="min_mode_share must lie in"):
        g.replace(min_mode_share=0.0)
    assert g.replace(seeds=(0, 5)).seeds == (0, 5)  # seed 0 is a seed like any other


def test_training_stays_in_float32_under_a_mixed_precision_policy():
    """On a GPU profile kit.setup sets mixed_float16; the 2-D networks keep float32 (points at radius 2 with sigma
    0.02 need it) and the policy is left as it was."""
    settings = kit.profile("smoke").game2d.replace(steps=2, frames=1, eval_samples=100, surface_resolution=8)
    before = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        run = game2d.train(game2d.ring(), settings, loss="wgan-gp", seed=0)
        assert keras.mixed_precision.global_policy().name == "mixed_float16"
    finally:
        keras.mixed_precision.set_global_policy(before)
    assert run.gan.generator.compute_dtype == "float32" and run.final.samples.dtype == np.float32 and run.final.value is None
    assert not isinstance(run.gan.g_optimizer, keras.optimizers.LossScaleOptimizer)


def test_best_response_approaches_the_exact_d_star_of_a_fixed_generator():
    """Proposition 1 on a case small enough to be certain: the data are one Gaussian and the fixed "generator" the
    same Gaussian shifted by 3 sigma, so D* is a smooth sigmoid across the line between them, easy for the MLP.
    400 Adam steps bring E|D - D*| well below a constant 1/2's (measured once: 0.008 against 0.44; the test asks for
    less than half of it, a margin no seed or processor comes near)."""
    data = game2d.Mixture("one", np.array([[0.0, 0.0]]), 0.3)
    fixed = game2d.Mixture("shifted", np.array([[0.9, 0.0]]), 0.3)
    settings = kit.profile("smoke").game2d.replace(eval_samples=400, surface_resolution=10)
    result = game2d.best_response(data, fixed, settings, steps=400, readings=4, seed=0)
    assert result.steps.tolist() == [0, 100, 200, 300, 400] and result.d.shape == result.d_star.shape == (10, 10)
    assert result.mean_abs_error[-1] < 0.5 * result.constant_half_error and result.mean_abs_error[-1] < result.mean_abs_error[0]
    fig = game2d.plot_best_response(result, data, show=False)
    assert len(fig.axes) >= 3
    kit.viz.close(fig)
    with pytest.raises(TypeError, match="generator must be a kit.game2d.Mixture"):
        game2d.best_response(data, np.zeros((1, 2)), settings, steps=10)
    with pytest.raises(ValueError, match="steps"):
        game2d.best_response(data, fixed, settings, steps=0)
