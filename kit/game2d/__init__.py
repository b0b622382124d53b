"""The GAN game in two dimensions (notebook 00), in one place: the targets with known densities and the
mode-coverage metric (:mod:`~kit.game2d.data`), the optimal discriminator, the value of the game and the
Jensen-Shannon divergence (:mod:`~kit.game2d.theory`), the small MLPs and their training with snapshots, on the
course's :class:`kit.gans.GAN` (:mod:`~kit.game2d.training`), and the figures (:mod:`~kit.game2d.viz`)."""

from kit.game2d.data import Mixture, grid, mode_coverage, ring
from kit.game2d.theory import (LOG4, DensityGrid, compare_with_optimal, densities, js_divergence, js_floor, kde_on_grid, optimal_discriminator,
                               value_function)
from kit.game2d.training import LOSSES, BestResponse, Run, Snapshot, best_response, coverage_table, density_grid, mlp_discriminator, mlp_generator, train, versus_optimal
from kit.game2d.viz import plot_best_response, plot_frames, plot_game, plot_optimal, plot_samples, plot_targets, write_frames

__all__ = [
    "LOG4",
    "LOSSES",
    "BestResponse",
    "DensityGrid",
    "Mixture",
    "Run",
    "Snapshot",
    "best_response",
    "compare_with_optimal",
    "coverage_table",
    "densities",
    "density_grid",
    "grid",
    "js_divergence",
    "js_floor",
    "kde_on_grid",
    "mlp_discriminator",
    "mlp_generator",
    "mode_coverage",
    "optimal_discriminator",
    "plot_best_response",
    "plot_frames",
    "plot_game",
    "plot_optimal",
    "plot_samples",
    "plot_targets",
    "ring",
    "train",
    "value_function",
    "versus_optimal",
    "write_frames",
]
