"""Diagrams of the course's architectures, drawn from the models themselves: ``keras.utils.plot_model`` where
pydot and Graphviz are installed (Colab), otherwise a block diagram drawn with matplotlib from the layer graph,
so a notebook never shows a missing image. Figures are saved like every other (:func:`kit.viz.finish`)."""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from kit.viz import finish

# Colours of the layer families in architecture diagrams.
_LAYER_COLOURS = {"Conv": "#9ecae1", "Dense": "#fdae6b", "Norm": "#c7e9c0", "Pool": "#dadaeb", "UpSampling": "#dadaeb",
                  "Input": "#eeeeee", "Concatenate": "#fdd0a2", "Add": "#fdd0a2", "Embedding": "#fdae6b"}


def _graph(model) -> tuple[list, dict]:
    """The layers of a functional ``model`` in order, and ``{layer name: [names of the layers feeding it]}``."""
    names = {layer.name for layer in model.layers}
    parents = {}
    for layer in model.layers:
        feeds = []
        for node in layer._inbound_nodes:  # Keras 3: a node per call; keep the calls made inside this model
            for parent in node.parent_nodes:
                if parent.operation.name in names and parent.operation.name not in feeds:
                    feeds.append(parent.operation.name)
        parents[layer.name] = feeds
    return list(model.layers), parents


def _shape_text(layer) -> str:
    try:
        shape = layer.output.shape
    except (AttributeError, ValueError):
        return ""
    shapes = shape if isinstance(shape, list) else [shape]
    return " ".join("x".join(str(d) for d in tuple(s)[1:]) or "1" for s in shapes)


def architecture_diagram(model, *, title: str | None = None, name: str = "architecture", show: bool = True):
    """A diagram of a functional Keras ``model``: ``keras.utils.plot_model`` (with shapes) where pydot and Graphviz
    are installed, as on Colab; otherwise a block diagram the kit draws with matplotlib from the model's layer
    graph (one box per layer with its output shape, arrows from the layers that feed it, coloured by layer
    family), so a diagram is never missing. Saved as ``<name>.png`` like every figure.

    Args:
        model: a built functional ``keras.Model`` (every model of ``kit.models``).
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a functional keras.Model, got {type(model).__name__}")
    if not model.layers or not hasattr(model.layers[0], "_inbound_nodes"):
        raise ValueError(f"model {model.name!r} has no layer graph to draw (build it on keras.Input first)")
    # Checked first: without them plot_model prints an install hint in a notebook instead of raising.
    graphviz = importlib.util.find_spec("pydot") is not None and shutil.which("dot") is not None
    try:
        if not graphviz:
            raise ImportError("pydot or Graphviz missing")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.png"
            keras.utils.plot_model(model, to_file=str(path), show_shapes=True, show_layer_names=False, dpi=72)
            image = np.asarray(Image.open(path).convert("RGB"))
        fig, ax = plt.subplots(figsize=(min(12, image.shape[1] / 72), min(30, image.shape[0] / 72)))
        ax.imshow(image)
        ax.axis("off")
        return finish(fig, name, show, title=title or model.name)
    except (ImportError, OSError, RuntimeError, ValueError):
        pass  # no pydot or no Graphviz binary: draw it ourselves below
    layers, parents = _graph(model)
    depth = {}
    for layer in layers:  # functional models list layers in topological order
        depth[layer.name] = 1 + max((depth[p] for p in parents[layer.name]), default=-1)
    rows = {}
    for layer in layers:
        rows.setdefault(depth[layer.name], []).append(layer)
    width = max(len(r) for r in rows.values())
    fig, ax = plt.subplots(figsize=(3.2 * width + 2.5, 0.42 * len(rows) + 0.6))
    where = {}
    for d, row in rows.items():
        for i, layer in enumerate(row):
            x, y = (i - (len(row) - 1) / 2) * 3.2, -d
            where[layer.name] = (x, y)
            kind = f"{layer.name} (model)" if isinstance(layer, keras.Model) else type(layer).__name__  # a nested stage: its name
            colour = next((c for k, c in _LAYER_COLOURS.items() if k in kind), "#ffffff")
            ax.text(x, y, f"{kind}  {_shape_text(layer)}", ha="center", va="center", fontsize=8,
                    bbox=dict(boxstyle="round,pad=0.3", fc=colour, ec="#555555", lw=0.6))
    skips = 0
    for child, feeds in parents.items():
        for parent in feeds:
            (x0, y0), (x1, y1) = where[parent], where[child]
            if y0 - y1 > 1 and x0 == x1:  # a skip connection: routed round the right of the column, not through its boxes
                skips += 1
                arm = 70 + 12 * (skips % 6)
                ax.annotate("", xy=(x1 + 1.0, y1), xytext=(x0 + 1.0, y0), arrowprops=dict(
                    arrowstyle="->", lw=0.6, color="#d62728", connectionstyle=f"arc,angleA=0,angleB=0,armA={arm},armB={arm},rad=4"))
            else:
                ax.annotate("", xy=(x1, y1 + 0.22), xytext=(x0, y0 - 0.22), arrowprops=dict(arrowstyle="->", lw=0.6, color="#555555"))
    ax.set_xlim(-1.6 * width - 0.5, 1.6 * width + 2.5)
    ax.set_ylim(-len(rows) + 0.4, 0.6)
    ax.axis("off")
    return finish(fig, name, show, title=title or f"{model.name} ({model.count_params():,} parameters)")



def flowchart(nodes: dict, edges, *, title: str | None = None, name: str = "flowchart", show: bool = True, size=(10, 3)):
    """A pipeline drawn as boxes and labelled arrows: the course's data-flow figures (e.g. notebook 07's).

    Args:
        nodes: ``{key: (x, y, label)}``, positions in data units (x right, y up), label text (newlines allowed).
        edges: ``[(from key, to key, label)]``; a label may be "".
        size: the figure's (width, height) in inches.
    """
    if not isinstance(nodes, dict) or not nodes:
        raise ValueError("nodes must be a non-empty dict {key: (x, y, label)}")
    for key, node in nodes.items():
        if not (isinstance(node, tuple) and len(node) == 3 and all(isinstance(v, (int, float)) for v in node[:2])):
            raise ValueError(f"node {key!r} must be (x, y, label), got {node!r}")
    edges = list(edges)
    for edge in edges:
        if len(edge) != 3 or edge[0] not in nodes or edge[1] not in nodes:
            raise ValueError(f"edge {edge!r} must be (from, to, label) between keys of nodes {sorted(nodes)}")
    fig, ax = plt.subplots(figsize=size)
    for x, y, label in nodes.values():
        ax.text(x, y, label, ha="center", va="center", fontsize=9, bbox=dict(boxstyle="round,pad=0.4", fc="#deebf7", ec="#3182bd"))
    for a, b, label in edges:
        (x0, y0, _), (x1, y1, _) = nodes[a], nodes[b]
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops=dict(arrowstyle="-|>", color="#555555", lw=1.0, shrinkA=28, shrinkB=28))
        if label and x0 == x1:  # a vertical arrow: its label beside it
            ax.text(x0 + 0.1, (y0 + y1) / 2, label, ha="left", va="center", fontsize=8, color="#555555")
        elif label:
            ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.12, label, ha="center", va="bottom", fontsize=8, color="#555555")
    xs, ys = [n[0] for n in nodes.values()], [n[1] for n in nodes.values()]
    ax.set_xlim(min(xs) - 0.8, max(xs) + 0.8)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    ax.axis("off")
    return finish(fig, name, show, title=title)


__all__ = ["architecture_diagram", "flowchart"]
