"""The GPU profile fits a free Colab T4: ``results/budget.json`` (``benchmarks/budget.py``, an estimate of the
budget model) was computed for the t4 profile as it is now, and keeps every notebook within 20 minutes and
13 GiB. The model's FLOP counting is checked on a layer whose count is known."""

import dataclasses
import json
from pathlib import Path

import keras
import pytest
import tensorflow as tf

from kit import budget
from kit.profiles import profile

RESULTS = Path(__file__).resolve().parent.parent / "results" / "budget.json"


@pytest.fixture(scope="module")
def doc():
    assert RESULTS.exists(), "results/budget.json is missing: python benchmarks/budget.py"
    return json.loads(RESULTS.read_text())


def test_budget_was_computed_for_the_current_t4_profile(doc):
    now = json.loads(json.dumps(dataclasses.asdict(profile("t4")), default=str))
    changed = sorted(k for k in now if doc["profile_values"].get(k) != now[k])
    assert not changed, f"the t4 profile changed ({changed}) since results/budget.json: rerun python benchmarks/budget.py"


def test_every_notebook_fits_a_t4(doc):
    assert set(doc["notebooks"]) == set(budget.NOTEBOOKS)
    for nb, b in doc["notebooks"].items():
        assert 0 < b["est_minutes"] <= 20.0, f"{nb}: estimated {b['est_minutes']:.1f} min on a T4"
        assert 0 < b["peak_gib"] <= 13.0, f"{nb}: estimated peak {b['peak_gib']:.1f} GiB"
    assert "estimate" in doc["summary"]["label"] and "not a measurement" in doc["hardware"]


def test_flop_count_of_a_dense_layer():
    layer = keras.layers.Dense(30, use_bias=False)
    layer.build((None, 20))
    flops = budget.count_flops(lambda x: layer(x), tf.TensorSpec((8, 20), tf.float32))
    assert flops == pytest.approx(2 * 8 * 20 * 30, rel=0.01)
