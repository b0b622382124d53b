"""Port the official Real-ESRGAN PyTorch checkpoints (``RealESRGAN_x4plus.pth``) to Keras, without PyTorch.

The file is read by :func:`kit.torchfile.read_torch_checkpoint`, the kit's safe reader of PyTorch's formats (a
restricted unpickler that refuses code-execution payloads, checks every tensor view and caps the size of what a
load materialises); its :class:`~kit.torchfile.CheckpointError` and reader are re-exported here.

:func:`convert_checkpoint` then maps the ``params_ema`` (or ``params``) state dict onto :func:`rrdbnet` —
``conv_first``, ``body.N.rdbK.convJ``, ``conv_body``, ``conv_up1``, ``conv_up2``, ``conv_hr``, ``conv_last``;
convolution kernels go from PyTorch's (out, in, kh, kw) to Keras' (kh, kw, in, out) — and saves a
``.weights.h5`` that notebooks load with plain Keras. Before any Keras layer is built, the state dict must hold
exactly the tensors (names and shapes) of the architecture read off it, so a crafted file cannot make the port
build a network larger than the weights it supplies, and every value must be finite (:func:`check_finite_weights`):
a NaN or infinity in one kernel would only show as a black or NaN image after a super-resolution run.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from kit.checks import check_positive_int
from kit.sr.rrdbnet import rrdbnet
from kit.torchfile import DEFAULT_MAX_BYTES, CheckpointError, read_torch_checkpoint

__all__ = ["CheckpointError", "check_finite_weights", "check_weights", "convert_checkpoint", "expected_shapes", "infer_config", "load_converted",
           "load_state_dict", "model_from_checkpoint", "read_torch_checkpoint", "state_dict"]

_KEY = re.compile(r"^(conv_first|conv_body|conv_up1|conv_up2|conv_hr|conv_last|body\.(\d+)\.rdb([123])\.conv([1-5]))\.(weight|bias)$")


def state_dict(checkpoint: dict) -> dict:
    """The RRDBNet weights inside a Real-ESRGAN checkpoint: ``params_ema`` (the averaged generator the
    authors release), else ``params``, else the dict itself when it already holds ``conv_first.weight``."""
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f"expected a dict in the checkpoint, found {type(checkpoint).__name__}")
    for key in ("params_ema", "params"):
        if key in checkpoint:
            if not isinstance(checkpoint[key], dict):
                raise CheckpointError(f"expected the checkpoint's {key!r} to be a state dict, found {type(checkpoint[key]).__name__}")
            return checkpoint[key]
    if "conv_first.weight" in checkpoint:
        return checkpoint
    found = sorted(str(k)[:40] for k in checkpoint)[:8]
    raise CheckpointError(f"no RRDBNet weights in the checkpoint: expected 'params_ema', 'params' or 'conv_first.weight', found {found}")


def infer_config(weights: dict) -> dict:
    """``rrdbnet`` arguments (num_feat, num_block, num_grow_ch, in/out channels) read off the tensor shapes of a
    state dict of NumPy arrays (weights (out, in, 3, 3), biases (out,))."""
    if not isinstance(weights, dict):
        raise CheckpointError(f"expected a state dict (a dict of NumPy arrays), found {type(weights).__name__}")
    bad = [str(k)[:60] for k, v in weights.items() if not (isinstance(k, str) and _KEY.match(k) and isinstance(v, np.ndarray))]
    if bad:
        raise CheckpointError(f"the checkpoint is not an RRDBNet x4 state dict: expected only RRDBNet tensor names with arrays, found {bad[:5]}")
    try:
        first, grow, last = weights["conv_first.weight"], weights["body.0.rdb1.conv1.weight"], weights["conv_last.weight"]
    except KeyError as err:
        raise CheckpointError(f"the checkpoint lacks {err.args[0]!r}: not a complete RRDBNet state dict") from None
    if first.ndim != 4 or grow.ndim != 4 or last.ndim != 4 or 0 in first.shape + grow.shape + last.shape:
        raise CheckpointError(f"expected 4-d non-empty convolution kernels (out, in, 3, 3), found conv_first {first.shape}, "
                              f"body.0.rdb1.conv1 {grow.shape}, conv_last {last.shape}")
    blocks = {int(m.group(2)) for k in weights if (m := _KEY.match(k)) and m.group(2) is not None}
    if blocks != set(range(len(blocks))):
        raise CheckpointError(f"the checkpoint's RRDB blocks are not numbered 0..N-1: {sorted(blocks)[:10]}")
    return {"num_feat": int(first.shape[0]), "num_block": len(blocks), "num_grow_ch": int(grow.shape[0]),
            "in_channels": int(first.shape[1]), "out_channels": int(last.shape[0])}


def expected_shapes(config: dict) -> dict[str, tuple[int, ...]]:
    """Every tensor of an :func:`rrdbnet` built with ``config`` (the keys :func:`infer_config` returns), by its
    PyTorch name: kernels (out, in, 3, 3), biases (out,). The default config has 16,697,987 values."""
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict of rrdbnet arguments, got {type(config).__name__}")
    names = ("num_feat", "num_block", "num_grow_ch", "in_channels", "out_channels")
    nf, nb, gc, cin, cout = (check_positive_int(config.get(k), f"config[{k!r}]") for k in names)
    convs = {"conv_first": (nf, cin)}
    for i in range(nb):
        for k in (1, 2, 3):
            convs |= {f"body.{i}.rdb{k}.conv{j}": (gc, nf + (j - 1) * gc) for j in range(1, 5)}
            convs[f"body.{i}.rdb{k}.conv5"] = (nf, nf + 4 * gc)
    convs |= {name: (nf, nf) for name in ("conv_body", "conv_up1", "conv_up2", "conv_hr")}
    convs["conv_last"] = (cout, nf)
    return {f"{name}.{kind}": ((o, i, 3, 3) if kind == "weight" else (o,)) for name, (o, i) in convs.items() for kind in ("weight", "bias")}


def check_weights(weights: dict, config: dict) -> None:
    """Refuse a state dict that is not exactly the tensors of ``rrdbnet(**config)``: checked before any Keras layer
    is built, so a file cannot make the port build (and allocate) a network larger than the values it holds."""
    if not isinstance(weights, dict):
        raise CheckpointError(f"expected a state dict (a dict of NumPy arrays), found {type(weights).__name__}")
    expected = expected_shapes(config)
    have, need = sum(int(np.size(v)) for v in weights.values()), sum(int(np.prod(s)) for s in expected.values())
    wrong = [f"{k}: {tuple(np.shape(weights[k])) if k in weights else 'missing'} (expected {s})"
             for k, s in expected.items() if k not in weights or tuple(np.shape(weights[k])) != s]
    wrong += [f"{str(k)[:60]}: not in the architecture" for k in weights if k not in expected]
    if wrong or have != need:
        raise CheckpointError(f"the state dict holds {have:,} values in {len(weights)} tensors, but the RRDBNet it describes ({config}) "
                              f"needs {need:,} in {len(expected)}: {'; '.join(wrong[:5])}")


def check_finite_weights(weights: dict) -> None:
    """Refuse a state dict ({name: array}) holding NaN or infinite values, naming each tensor at fault (the first
    five) and how many of its values are bad: checked before the weights are used."""
    if not isinstance(weights, dict):
        raise CheckpointError(f"expected a state dict (a dict of NumPy arrays), found {type(weights).__name__}")
    bad = []
    for name, value in weights.items():
        a = np.asarray(value)
        if np.issubdtype(a.dtype, np.floating) and not np.all(np.isfinite(a)):
            nan, inf = int(np.count_nonzero(np.isnan(a))), int(np.count_nonzero(np.isinf(a)))
            bad.append(f"{str(name)[:60]} ({nan} NaN, {inf} infinite of {a.size:,} values)")
    if bad:
        raise CheckpointError(f"the weights hold NaN or infinite values in {len(bad)} tensor(s): {'; '.join(bad[:5])}; "
                              "the file is damaged or its training diverged: download or convert it again")


def _checked_weights(path, max_bytes: int) -> tuple[dict, dict]:
    """(state dict, rrdbnet config) of a checkpoint file, with every RRDBNet check done; errors name the file."""
    checkpoint = read_torch_checkpoint(path, max_bytes=max_bytes)
    try:
        weights = state_dict(checkpoint)
        config = infer_config(weights)
        check_weights(weights, config)
        check_finite_weights(weights)
    except CheckpointError as err:
        raise CheckpointError(f"{path}: {err}") from None
    return weights, config


def load_state_dict(model, weights: dict) -> None:
    """Copy a PyTorch RRDBNet state dict (NumPy arrays) into :func:`rrdbnet` ``model``, checking that every value
    is finite (before any is copied), every shape, and that every tensor is used."""
    check_finite_weights(weights)
    used = set()
    for layer in model.layers:
        if not layer.weights:
            continue
        tname = layer.name.replace("_rdb", ".rdb").replace("body_", "body.").replace("_conv", ".conv") if layer.name.startswith("body_") else layer.name
        w, b = weights.get(f"{tname}.weight"), weights.get(f"{tname}.bias")
        if w is None or b is None:
            raise CheckpointError(f"the checkpoint has no weights for layer {tname!r}")
        kernel = np.transpose(np.asarray(w, np.float32), (2, 3, 1, 0))  # OIHW -> HWIO
        if kernel.shape != tuple(layer.kernel.shape) or tuple(b.shape) != tuple(layer.bias.shape):
            raise CheckpointError(f"{tname}: checkpoint kernel {tuple(w.shape)} (OIHW) does not fit the Keras layer's {tuple(layer.kernel.shape)} (HWIO)")
        layer.set_weights([kernel, np.asarray(b, np.float32)])
        used |= {f"{tname}.weight", f"{tname}.bias"}
    unused = set(weights) - used
    if unused:
        raise CheckpointError(f"checkpoint tensors with no matching layer: {sorted(unused)[:5]}")


def model_from_checkpoint(path, *, max_bytes: int = DEFAULT_MAX_BYTES):
    """A Keras :func:`rrdbnet` holding the weights of a PyTorch Real-ESRGAN checkpoint (read safely; ``max_bytes``
    as in :func:`~kit.torchfile.read_torch_checkpoint`)."""
    weights, config = _checked_weights(path, max_bytes)
    model = rrdbnet(**config)
    load_state_dict(model, weights)
    return model


def convert_checkpoint(pth_path, out_path=None, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Path:
    """Convert ``RealESRGAN_x4plus.pth`` (or any RRDBNet x4 checkpoint) to Keras ``.weights.h5``.

    Args:
        pth_path: the PyTorch checkpoint.
        out_path: where to write (default: beside it, ``<stem>.weights.h5``).
        max_bytes: the most reading the checkpoint may materialise (see :func:`~kit.torchfile.read_torch_checkpoint`).

    Returns:
        The path written. Load it with ``rrdbnet(**config).load_weights(path)`` (the architecture is stored
        beside it in ``<stem>.json``) or :func:`load_converted`.
    """
    pth_path = Path(pth_path)
    out_path = Path(out_path) if out_path is not None else pth_path.with_name(pth_path.stem + ".weights.h5")
    if not out_path.name.endswith(".weights.h5"):
        raise ValueError(f"out_path must end in .weights.h5 (Keras' weights format), got {out_path.name}")
    weights, config = _checked_weights(pth_path, max_bytes)
    model = rrdbnet(**config)
    load_state_dict(model, weights)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    model.save_weights(out_path)
    _config_path(out_path).write_text(json.dumps(config))
    return out_path


def _config_path(weights_path: Path) -> Path:
    return weights_path.with_name(weights_path.name[: -len(".weights.h5")] + ".json")


CONFIG_KEYS = {"num_feat": 512, "num_block": 64, "num_grow_ch": 256, "in_channels": 4, "out_channels": 4}  # key: largest value


def read_converted_config(path) -> dict:
    """The architecture :func:`convert_checkpoint` wrote beside the weights, validated against its schema: a JSON
    object of :func:`rrdbnet`'s integer arguments, each within bounds (a foreign file is never trusted: an edited
    ``num_block`` of 10**6 would otherwise build a model for hours). Raises :class:`CheckpointError` naming the file."""
    path = Path(path)
    if path.stat().st_size > 4096:
        raise CheckpointError(f"{path}: {path.stat().st_size} bytes, more than an RRDBNet config holds (a few dozen)")
    try:
        config = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path} is not JSON ({err})") from None
    if not isinstance(config, dict):
        raise CheckpointError(f"{path}: expected a JSON object of rrdbnet arguments {sorted(CONFIG_KEYS)}, found a {type(config).__name__}")
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    if unknown:
        raise CheckpointError(f"{path}: unknown keys {unknown}; expected some of {sorted(CONFIG_KEYS)}")
    for key, value in config.items():
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= CONFIG_KEYS[key]:
            raise CheckpointError(f"{path}: {key} must be an integer in [1, {CONFIG_KEYS[key]}], found {value!r}")
    return config


def load_converted(weights_path):
    """The Keras :func:`rrdbnet` saved by :func:`convert_checkpoint` (no PyTorch needed). Weights holding NaN or
    infinite values raise :class:`CheckpointError` naming the file and the variables, instead of a model that
    draws NaN images."""
    weights_path = Path(weights_path)
    cfg_path = _config_path(weights_path)
    if not weights_path.is_file() or not cfg_path.is_file():
        raise FileNotFoundError(f"need both {weights_path} and {cfg_path} (written by convert_checkpoint)")
    model = rrdbnet(**read_converted_config(cfg_path))
    try:
        model.load_weights(weights_path)
    except Exception as err:  # a truncated or foreign .h5 surfaces as h5py's or Keras' own error: name the file instead
        raise CheckpointError(f"{weights_path} cannot be loaded into the RRDBNet that {cfg_path.name} describes "
                              f"({type(err).__name__}: {str(err)[:300]}); convert the checkpoint again with convert_checkpoint") from None
    try:  # the .h5 is read by Keras itself, so its values are checked once loaded, before the model is returned
        check_finite_weights({v.path: np.asarray(v) for v in model.weights})
    except CheckpointError as err:
        raise CheckpointError(f"{weights_path}: {err}") from None
    return model
