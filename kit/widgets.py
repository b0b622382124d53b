"""What a notebook shows a person who is looking at it, and leaves out of batch runs: TensorBoard inline and the
interactive class picker. Under ``make test``/``run``/``labs`` and nbmake they do nothing, or draw a static
figure instead, so every notebook still runs end to end unattended."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from kit.viz import image_grid


BATCH_VARIABLES = ("KIT_BATCH", "PYTEST_CURRENT_TEST")  # set by make test/run/labs and by nbmake's pytest


def interactive() -> bool:
    """Whether this code runs in a notebook a person is looking at (Jupyter or Colab), rather than executed in
    batch (``make test``/``run``/``labs`` set ``KIT_BATCH``; nbmake runs under pytest)."""
    if any(os.environ.get(v) for v in BATCH_VARIABLES):
        return False
    try:
        from IPython import get_ipython  # optional: only inside IPython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ in ("ZMQInteractiveShell", "Shell")  # Jupyter, Colab


def show_tensorboard(log_dir) -> str:
    """Open TensorBoard inline on ``log_dir`` (``%load_ext tensorboard``, ``%tensorboard --logdir ...``) when a
    person is looking at the notebook (:func:`interactive`); does nothing in batch runs. Returns what it did."""
    log_dir = Path(log_dir)
    if not interactive():
        return f"TensorBoard not opened (batch run); to look later: tensorboard --logdir {log_dir}"
    from IPython import get_ipython  # optional: only inside IPython

    shell = get_ipython()
    shell.run_line_magic("load_ext", "tensorboard")
    shell.run_line_magic("tensorboard", f'--logdir "{log_dir}"')
    return f"TensorBoard opened on {log_dir}"


def class_picker(generate, class_names, *, n: int = 8, value_range=(-1.0, 1.0), seed: int = 0, name: str = "class_picker"):
    """Pick a class and redraw: ``generate(class_id, seed) -> images (n, H, W, C)``. With ipywidgets in a
    notebook a person is looking at, a class menu and a "new z" button above the images; otherwise (batch runs,
    no ipywidgets) a static grid of every class, one row each, so the notebook still shows what it does.
    Returns the widget, or None after drawing the static grid."""
    class_names = list(class_names)
    if not class_names:
        raise ValueError("class_names must name at least one class")
    if interactive():
        try:
            import ipywidgets as widgets  # optional: Colab and Jupyter have it; batch runs do not need it
        except ImportError:
            widgets = None
        if widgets is not None:
            from IPython.display import display  # optional: only inside IPython

            menu = widgets.Dropdown(options=[(c, i) for i, c in enumerate(class_names)], description="class")
            button = widgets.Button(description="new z")
            out = widgets.Output()
            state = {"seed": seed}

            def draw(*_):
                with out:
                    out.clear_output(wait=True)
                    image_grid(generate(menu.value, state["seed"]), ncols=n, value_range=value_range,
                               title=f"{class_names[menu.value]} (z seed {state['seed']})", name=name)

            def resample(_):
                state["seed"] += 1
                draw()

            menu.observe(draw, names="value")
            button.on_click(resample)
            box = widgets.VBox([widgets.HBox([menu, button]), out])
            display(box)
            draw()
            return box
    rows = np.concatenate([generate(c, seed)[:n] for c in range(len(class_names))])
    image_grid(rows, ncols=n, value_range=value_range, titles=[class_names[i // n] if i % n == 0 else "" for i in range(len(rows))],
               title="Every class (the interactive picker needs a notebook with ipywidgets)", name=name)
    return None
