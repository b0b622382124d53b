import json

import matplotlib.pyplot as plt
import numpy as np
import pytest

from kit import diagrams, metrics, runs, viz
from kit.data import CLASS_NAMES


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("KIT_RUN_DIR", str(tmp_path / "01_test"))
    return tmp_path / "01_test"


def test_figures_are_returned_and_saved(run_dir, fmnist):
    x = fmnist.x_test[:6]
    figs = [
        viz.image_grid(x, titles=[str(i) for i in range(6)], ncols=3, name="grid", show=False),
        viz.image_grid(x * 2 - 1, value_range=(-1, 1), name="grid_tanh", show=False),
        viz.side_by_side({"a": x, "b": x[..., 0]}, captions={"a": list("abcdef")}, name="pair", show=False),
        viz.plot_history({"m": {"loss": [2, 1], "val_loss": [2.1, 1.5], "accuracy": [0.5, 0.7]}}, name="hist", show=False),
        viz.plot_epsilon_curves([0, 0.1], {"m (FGSM)": [0.9, 0.2], "m (PGD)": [0.9, 0.1]}, show=False),
        viz.plot_confusion_matrix(np.eye(10, dtype=int) * 5, CLASS_NAMES, show=False),
        viz.adversarial_examples(x, np.clip(x + 0.1, 0, 1), np.full((6, 10), 0.1), np.full((6, 10), 0.1), CLASS_NAMES, show=False),
    ]
    assert all(isinstance(f, plt.Figure) for f in figs)
    saved = sorted(p.name for p in (run_dir / "figures").glob("*.png"))
    assert saved == sorted(["grid.png", "grid_tanh.png", "pair.png", "hist.png", "epsilon_curves.png",
                            "confusion_matrix.png", "adversarial_examples.png"])
    plt.close("all")


def test_viz_rejects_bad_input(fmnist):
    x = fmnist.x_test[:4]
    with pytest.raises(ValueError, match="3 titles for 4 images"):
        viz.image_grid(x, titles=["a", "b", "c"], show=False)
    with pytest.raises(ValueError, match="same number of images"):
        viz.side_by_side({"a": x, "b": x[:2]}, show=False)
    with pytest.raises(ValueError, match=r"\(N, H, W, 1\|3\)"):
        viz.image_grid(np.zeros((2, 8, 8, 2)), show=False)
    with pytest.raises(ValueError, match="no metric 'accuracy'"):
        viz.plot_history({"m": {"loss": [1.0]}}, show=False)
    with pytest.raises(ValueError, match=r"\(10, 10\)"):
        viz.plot_confusion_matrix(np.eye(3), CLASS_NAMES, show=False)


def test_confusion_matrix_counts():
    cm = metrics.confusion_matrix([0, 0, 1, 2], [0, 1, 1, 2], num_classes=3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [0, 0, 1]])
    np.testing.assert_allclose(metrics.per_class_accuracy(cm), [0.5, 1.0, 1.0])
    with pytest.raises(ValueError, match="y_pred has 1 entries"):
        metrics.confusion_matrix([0, 1], [0], num_classes=3)


def test_log_metrics_and_summary(run_dir, capsys):
    runs.log_metrics({"acc": np.float32(0.5), "profile": "smoke"})
    runs.log_metrics({"fid": 12.0})
    assert json.loads((run_dir / "metrics.json").read_text()) == {"acc": 0.5, "profile": "smoke", "fid": 12.0}
    assert "acc" in capsys.readouterr().out
    summary = runs.summarize(run_dir.parent)
    assert summary == {"01_test": {"acc": 0.5, "profile": "smoke", "fid": 12.0}}
    assert (run_dir.parent / "summary.json").exists()
    with pytest.raises(ValueError):
        runs.log_metrics({})
    with pytest.raises(FileNotFoundError, match="make run"):
        runs.summarize(run_dir.parent / "missing")


def test_confident_fraction():
    p = np.array([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8], [0.79, 0.21]])
    assert metrics.confident_fraction(p) == 0.5  # 0.9 and 0.8 reach the default 0.8
    assert metrics.confident_fraction(p, threshold=0.5) == 1.0
    with pytest.raises(ValueError, match=r"shape \(N, num_classes\)"):
        metrics.confident_fraction(np.array([0.9, 0.1]))
    with pytest.raises(ValueError, match=r"in \[0, 1\].*logits"):
        metrics.confident_fraction(np.array([[3.0, -1.0]]))
    with pytest.raises(ValueError, match="threshold"):
        metrics.confident_fraction(p, threshold=0)


def test_claims_are_printed_and_recorded_per_verdict(run_dir, capsys):
    from kit.profiles import profile

    assert runs.claim("A held.", True, profile=profile("cpu")) is True
    assert runs.claim("B failed.", np.bool_(False), profile=profile("cpu")) is False
    runs.claim("B failed.", False, profile=profile("cpu"))  # recorded once
    runs.log_metrics({"x": 1.0}, show=False)  # metrics logged later keep the claims
    out = capsys.readouterr().out
    assert "Checked against this run: A held." in out and "NOT borne out by this run (cpu profile): B failed." in out
    saved = json.loads((run_dir / "metrics.json").read_text())
    assert saved["claims_held"] == ["A held."] and saved["claims_failed"] == ["B failed."] and saved["x"] == 1.0
    runs.claim("C at smoke.", False, profile=profile("smoke"))
    assert "recorded, not enforced" in capsys.readouterr().out
    with pytest.raises(ValueError, match="non-empty sentence"):
        runs.claim("  ", True)
    with pytest.raises(TypeError, match="held must be a bool"):
        runs.claim("D.", 0.5)


def test_architecture_diagram_draws_the_layer_graph_without_graphviz(run_dir):
    import keras

    from kit import models

    fig = diagrams.architecture_diagram(models.unet_generator(base_filters=8, depth=2), name="unet", show=False)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any(t.startswith("Concatenate") for t in texts) and any(t.startswith("Conv2D") for t in texts)
    assert (run_dir / "figures" / "unet.png").exists()
    plt.close(fig)
    with pytest.raises(TypeError, match="functional keras.Model"):
        diagrams.architecture_diagram(keras.layers.Dense(3))


def test_flowchart_draws_nodes_and_checks_edges(run_dir):
    from kit.sr import viz as sr_viz

    fig = sr_viz.pipeline_figure(64, show=False)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "raw\n16x16" in texts and any("refiner" in t for t in texts)
    plt.close(fig)
    with pytest.raises(ValueError, match="between keys of nodes"):
        diagrams.flowchart({"a": (0, 0, "A")}, [("a", "b", "")], show=False)
    with pytest.raises(ValueError, match="must be \\(x, y, label\\)"):
        diagrams.flowchart({"a": (0, "0", "A")}, [], show=False)
