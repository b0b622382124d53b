"""Port the official Real-ESRGAN PyTorch checkpoints (``RealESRGAN_x4plus.pth``) to Keras, without PyTorch.

A ``.pth`` file is a pickle, and unpickling runs whatever callables the file names: ``torch.load`` on a
stranger's file can execute arbitrary code. :func:`read_torch_checkpoint` reads both of PyTorch's formats
(the zip archive of ``torch.save`` since 1.6, and the older "legacy" stream) with a **restricted
unpickler** that resolves only the handful of names a tensor checkpoint needs (an ``OrderedDict``, the
tensor/parameter rebuild functions and the storage types) and refuses everything else, so a malicious
payload fails with :class:`CheckpointError` before anything runs. Tensors come back as NumPy arrays.

:func:`convert_checkpoint` then maps the ``params_ema`` (or ``params``) state dict onto :func:`rrdbnet` —
``conv_first``, ``body.N.rdbK.convJ``, ``conv_body``, ``conv_up1``, ``conv_up2``, ``conv_hr``, ``conv_last``;
convolution kernels go from PyTorch's (out, in, kh, kw) to Keras' (kh, kw, in, out) — and saves a
``.weights.h5`` that notebooks load with plain Keras.
"""

from __future__ import annotations

import collections
import io
import pickle
import re
import struct
import zipfile
from pathlib import Path

import numpy as np

from kit.models.rrdbnet import rrdbnet


class CheckpointError(ValueError):
    """A file that is not a usable PyTorch checkpoint (truncated, foreign, unsafe, or the wrong network)."""


# Storage class name -> NumPy dtype (bfloat16 is widened to float32 on read).
_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "BFloat16Storage": "bfloat16",
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _StorageType:
    """Stands in for ``torch.FloatStorage`` & co: only its name (hence dtype) matters."""

    def __init__(self, name: str):
        self.name = name
        self.dtype = _STORAGE_DTYPES[name]


def _rebuild_tensor(storage, storage_offset, size, stride, *args):
    """``torch._utils._rebuild_tensor_v2``: a strided view into a flat storage array, copied out."""
    if not isinstance(storage, np.ndarray):
        raise CheckpointError("a tensor in the checkpoint does not refer to a storage")
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if size and (storage_offset + sum((n - 1) * s for n, s in zip(size, stride)) >= storage.size and min(size) > 0):
        raise CheckpointError("a tensor in the checkpoint reaches past the end of its storage (truncated file?)")
    item = storage.itemsize
    view = np.lib.stride_tricks.as_strided(storage[storage_offset:], shape=size, strides=tuple(s * item for s in stride))
    return np.array(view)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None, *state):
    return data


def _rebuild_from_type(func, new_type, args, state):
    return func(*args)


def _tensor_type(*args, **kwargs):  # torch.Tensor / torch.nn.Parameter as pickled class references
    raise CheckpointError("the checkpoint tries to construct a tensor class directly, which a state dict never does")


_ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type,
    ("torch", "Tensor"): _tensor_type,
    ("torch.nn.parameter", "Parameter"): _tensor_type,
    **{("torch", name): _StorageType(name) for name in _STORAGE_DTYPES},
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only :data:`_ALLOWED` names; storages come from ``load_storage(type, key, numel)``."""

    def __init__(self, file, load_storage):
        super().__init__(file)
        self._load_storage = load_storage

    def find_class(self, module, name):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise CheckpointError(
                f"refusing to load {module}.{name}: a weights checkpoint only needs tensors, and this file asks to "
                "run other code (it may be malicious, or not a plain state dict)"
            ) from None

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage" and isinstance(pid[1], _StorageType)):
            raise CheckpointError(f"unexpected persistent reference in the checkpoint: {pid!r:.80}")
        _, stype, key, _location, numel = pid
        return self._load_storage(stype, str(key), int(numel))


def _from_bytes(raw: bytes, stype: _StorageType, numel: int, what: str, byteorder: str = "little") -> np.ndarray:
    if stype.dtype == "bfloat16":
        u16 = np.frombuffer(raw, dtype=np.dtype("<u2" if byteorder == "little" else ">u2"), count=numel)
        return (u16.astype(np.uint32) << 16).view(np.float32)
    dtype = np.dtype(stype.dtype).newbyteorder("<" if byteorder == "little" else ">")
    if len(raw) < numel * dtype.itemsize:
        raise CheckpointError(f"{what} holds {len(raw)} bytes, {numel * dtype.itemsize} expected (truncated file?)")
    return np.frombuffer(raw, dtype=dtype, count=numel).astype(dtype.newbyteorder("="))


def _read_zip(path: Path):
    try:
        zf = zipfile.ZipFile(path)
        names = zf.namelist()
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise CheckpointError(f"{path} is a damaged or truncated PyTorch zip checkpoint: {err}") from None
    pkl = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
    if len(pkl) != 1:
        raise CheckpointError(f"{path} is a zip file but not a PyTorch checkpoint (no data.pkl among {names[:5]})")
    prefix = pkl[0][: -len("data.pkl")]
    byteorder = zf.read(prefix + "byteorder").decode().strip() if prefix + "byteorder" in names else "little"

    def load_storage(stype, key, numel):
        entry = f"{prefix}data/{key}"
        if entry not in names:
            raise CheckpointError(f"{path} lacks the tensor data {entry} (truncated file?)")
        return _from_bytes(zf.read(entry), stype, numel, entry, byteorder)

    try:
        with zf:
            return _RestrictedUnpickler(io.BytesIO(zf.read(pkl[0])), load_storage).load()
    except (zipfile.BadZipFile, EOFError, OSError, struct.error) as err:
        raise CheckpointError(f"{path} is a damaged or truncated PyTorch checkpoint: {type(err).__name__}: {err}") from None


_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class _PlainUnpickler(pickle.Unpickler):
    """For the legacy header and key list: plain data only, no names at all."""

    def find_class(self, module, name):
        raise CheckpointError(f"refusing to load {module}.{name}: the checkpoint header should hold plain data only")


def _read_legacy(path: Path, raw: bytes):
    """PyTorch's pre-1.6 stream: magic, protocol, sys info, the object pickle, the storage keys, then each
    storage as an int64 element count followed by its bytes, in key order."""
    f = io.BytesIO(raw)
    storages: dict[str, tuple] = {}

    def load_storage(stype, key, numel):
        storages.setdefault(key, (stype, numel, None))
        return storages, key  # resolved below, once the data section has been read

    try:
        safe = _PlainUnpickler(f)
        if safe.load() != _LEGACY_MAGIC:
            raise CheckpointError(f"{path} is neither a PyTorch zip checkpoint nor a legacy PyTorch file")
        safe.load()  # protocol version
        safe.load()  # sys info
        obj = _LegacyUnpickler(f, load_storage).load()
        keys = safe.load()
        for key in keys:
            (numel,) = struct.unpack("<q", f.read(8))
            stype = storages[key][0]
            nbytes = numel * (2 if stype.dtype == "bfloat16" else np.dtype(stype.dtype).itemsize)
            data = f.read(nbytes)
            if len(data) != nbytes:
                raise CheckpointError(f"{path} ends inside tensor data (truncated file)")
            storages[key] = (stype, numel, _from_bytes(data, stype, numel, f"storage {key}"))
    except (EOFError, pickle.UnpicklingError, struct.error, KeyError, ValueError) as err:
        if isinstance(err, CheckpointError):
            raise
        raise CheckpointError(f"{path} is a damaged, truncated or foreign file, not a PyTorch checkpoint: {type(err).__name__}: {err}") from None
    return _resolve(obj, storages)


class _LegacyUnpickler(_RestrictedUnpickler):
    def persistent_load(self, pid):
        # Legacy ids are (typename, storage type, key, location, size[, view metadata]).
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage" and isinstance(pid[1], _StorageType)):
            raise CheckpointError(f"unexpected persistent reference in the checkpoint: {pid!r:.80}")
        if len(pid) > 5 and pid[5] is not None:
            raise CheckpointError("storage views in legacy checkpoints are not supported; re-save the file with torch >= 1.6")
        return _LazyStorage(self._load_storage(pid[1], str(pid[2]), int(pid[4])))


class _LazyStorage:
    def __init__(self, ref):
        self.ref = ref


def _resolve(obj, storages):
    """Legacy tensors are rebuilt before their storage bytes are read: rebuild them again now."""
    if isinstance(obj, _PendingTensor):
        return _rebuild_tensor(storages[obj.key][2], *obj.args)
    if isinstance(obj, dict):
        return type(obj)((k, _resolve(v, storages)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_resolve(v, storages) for v in obj)
    return obj


class _PendingTensor:
    def __init__(self, key, args):
        self.key, self.args = key, args


def _rebuild_any(storage, *args):
    if isinstance(storage, _LazyStorage):
        return _PendingTensor(storage.ref[1], args)
    return _rebuild_tensor(storage, *args)


_ALLOWED[("torch._utils", "_rebuild_tensor_v2")] = _ALLOWED[("torch._utils", "_rebuild_tensor")] = _rebuild_any


def read_torch_checkpoint(path) -> dict:
    """The object saved in a PyTorch ``.pth``/``.pt`` file, with tensors as NumPy arrays, read safely.

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: truncated or foreign file, or a pickle naming anything beyond tensors and dicts.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint file {path.resolve()}")
    raw = path.read_bytes()
    if len(raw) < 4:
        raise CheckpointError(f"{path} is {len(raw)} bytes long: empty or truncated, not a PyTorch checkpoint")
    if raw[:4] == b"PK\x03\x04":
        return _read_zip(path)
    if raw[:2] == b"\x80\x02":
        return _read_legacy(path, raw)
    raise CheckpointError(f"{path} is not a PyTorch checkpoint (starts with {raw[:8]!r}, expected a zip archive or a pickle)")


_KEY = re.compile(r"^(conv_first|conv_body|conv_up1|conv_up2|conv_hr|conv_last|body\.(\d+)\.rdb([123])\.conv([1-5]))\.(weight|bias)$")


def state_dict(checkpoint: dict) -> dict:
    """The RRDBNet weights inside a Real-ESRGAN checkpoint: ``params_ema`` (the averaged generator the
    authors release), else ``params``, else the dict itself when it already holds ``conv_first.weight``."""
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f"expected a dict in the checkpoint, found {type(checkpoint).__name__}")
    for key in ("params_ema", "params"):
        if key in checkpoint:
            return checkpoint[key]
    if "conv_first.weight" in checkpoint:
        return checkpoint
    raise CheckpointError(f"no RRDBNet weights in the checkpoint: expected 'params_ema', 'params' or 'conv_first.weight', found {sorted(checkpoint)[:8]}")


def infer_config(weights: dict) -> dict:
    """``rrdbnet`` arguments (num_feat, num_block, num_grow_ch, in/out channels) read off the tensor shapes."""
    bad = [k for k in weights if not _KEY.match(k)]
    if bad:
        raise CheckpointError(f"the checkpoint is not an RRDBNet x4 state dict: unexpected keys {bad[:5]}")
    try:
        first, grow, last = weights["conv_first.weight"], weights["body.0.rdb1.conv1.weight"], weights["conv_last.weight"]
    except KeyError as err:
        raise CheckpointError(f"the checkpoint lacks {err.args[0]!r}: not a complete RRDBNet state dict") from None
    blocks = {int(m.group(2)) for k in weights if (m := _KEY.match(k)) and m.group(2) is not None}
    if blocks != set(range(len(blocks))):
        raise CheckpointError(f"the checkpoint's RRDB blocks are not numbered 0..N-1: {sorted(blocks)[:10]}")
    return {"num_feat": first.shape[0], "num_block": len(blocks), "num_grow_ch": grow.shape[0], "in_channels": first.shape[1], "out_channels": last.shape[0]}


def load_state_dict(model, weights: dict) -> None:
    """Copy a PyTorch RRDBNet state dict (NumPy arrays) into :func:`rrdbnet` ``model``, checking every shape
    and that every tensor is used."""
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


def model_from_checkpoint(path):
    """A Keras :func:`rrdbnet` holding the weights of a PyTorch Real-ESRGAN checkpoint (read safely)."""
    weights = state_dict(read_torch_checkpoint(path))
    model = rrdbnet(**infer_config(weights))
    load_state_dict(model, weights)
    return model


def convert_checkpoint(pth_path, out_path=None) -> Path:
    """Convert ``RealESRGAN_x4plus.pth`` (or any RRDBNet x4 checkpoint) to Keras ``.weights.h5``.

    Args:
        pth_path: the PyTorch checkpoint.
        out_path: where to write (default: beside it, ``<stem>.weights.h5``).

    Returns:
        The path written. Load it with ``rrdbnet(**config).load_weights(path)`` (the architecture is stored
        beside it in ``<stem>.json``) or :func:`load_converted`.
    """
    import json

    pth_path = Path(pth_path)
    out_path = Path(out_path) if out_path is not None else pth_path.with_name(pth_path.stem + ".weights.h5")
    if not out_path.name.endswith(".weights.h5"):
        raise ValueError(f"out_path must end in .weights.h5 (Keras' weights format), got {out_path.name}")
    weights = state_dict(read_torch_checkpoint(pth_path))
    config = infer_config(weights)
    model = rrdbnet(**config)
    load_state_dict(model, weights)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    model.save_weights(out_path)
    _config_path(out_path).write_text(json.dumps(config))
    return out_path


def _config_path(weights_path: Path) -> Path:
    return weights_path.with_name(weights_path.name[: -len(".weights.h5")] + ".json")


def load_converted(weights_path):
    """The Keras :func:`rrdbnet` saved by :func:`convert_checkpoint` (no PyTorch needed)."""
    import json

    weights_path = Path(weights_path)
    cfg_path = _config_path(weights_path)
    if not weights_path.is_file() or not cfg_path.is_file():
        raise FileNotFoundError(f"need both {weights_path} and {cfg_path} (written by convert_checkpoint)")
    model = rrdbnet(**json.loads(cfg_path.read_text()))
    model.load_weights(weights_path)
    return model


# -- verification against PyTorch (needs torch, a test-only dependency) ---------------------------------------


def torch_rrdbnet(num_feat: int = 64, num_block: int = 23, num_grow_ch: int = 32, *, seed: int = 0):
    """Real-ESRGAN's RRDBNet (``basicsr/archs/rrdbnet_arch.py``, scale 4) written out in PyTorch, with
    PyTorch's default random initialisation under ``seed``: the reference the port is checked against."""
    try:
        import torch
    except ImportError:
        raise ImportError("checking the weight port needs PyTorch (CPU build): pip install torch") from None
    nn, F = torch.nn, torch.nn.functional

    class ResidualDenseBlock(nn.Module):
        def __init__(self):
            super().__init__()
            for j in range(1, 5):
                setattr(self, f"conv{j}", nn.Conv2d(num_feat + (j - 1) * num_grow_ch, num_grow_ch, 3, 1, 1))
            self.conv5 = nn.Conv2d(num_feat + 4 * num_grow_ch, num_feat, 3, 1, 1)

        def forward(self, x):
            feats = [x]
            for j in range(1, 5):
                feats.append(F.leaky_relu(getattr(self, f"conv{j}")(torch.cat(feats, 1)), 0.2))
            return self.conv5(torch.cat(feats, 1)) * 0.2 + x

    class RRDB(nn.Module):
        def __init__(self):
            super().__init__()
            self.rdb1, self.rdb2, self.rdb3 = ResidualDenseBlock(), ResidualDenseBlock(), ResidualDenseBlock()

        def forward(self, x):
            return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x

    class RRDBNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv_first = nn.Conv2d(3, num_feat, 3, 1, 1)
            self.body = nn.Sequential(*[RRDB() for _ in range(num_block)])
            self.conv_body = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
            self.conv_up1 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
            self.conv_up2 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
            self.conv_hr = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
            self.conv_last = nn.Conv2d(num_feat, 3, 3, 1, 1)

        def forward(self, x):
            feat = self.conv_first(x)
            feat = feat + self.conv_body(self.body(feat))
            feat = F.leaky_relu(self.conv_up1(F.interpolate(feat, scale_factor=2, mode="nearest")), 0.2)
            feat = F.leaky_relu(self.conv_up2(F.interpolate(feat, scale_factor=2, mode="nearest")), 0.2)
            return self.conv_last(F.leaky_relu(self.conv_hr(feat), 0.2))

    torch.manual_seed(seed)
    return RRDBNet().eval()


def torch_forward(net, images: np.ndarray) -> np.ndarray:
    """Run a PyTorch image model on float32 NHWC images (it works in NCHW); returns NHWC."""
    import torch

    with torch.no_grad():
        return net(torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))).numpy().transpose(0, 2, 3, 1)


def check_port(folder, *, num_feat: int = 64, num_block: int = 23, num_grow_ch: int = 32, size: int = 8, batch: int = 2, seed: int = 0) -> dict:
    """The port's end-to-end check: a PyTorch RRDBNet with random weights is saved in the official layout
    (``{"params_ema": state_dict, "params": ...}``, torch's zip format) under ``folder``, converted to
    ``.weights.h5``, loaded into Keras, and both run on the same random [0, 1] images.

    Returns:
        ``{"max_abs_diff", "output_std", "parameters"}``.
    """
    import torch

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    net = torch_rrdbnet(num_feat, num_block, num_grow_ch, seed=seed)
    pth = folder / "RealESRGAN_port_check.pth"
    torch.save({"params_ema": net.state_dict(), "params": net.state_dict()}, pth)
    model = load_converted(convert_checkpoint(pth))
    x = np.random.default_rng(seed).random((batch, size, size, 3), dtype=np.float32)
    expected = torch_forward(net, x)
    got = np.asarray(model.predict(x, verbose=0))
    return {"max_abs_diff": float(np.abs(got - expected).max()), "output_std": float(expected.std()), "parameters": int(model.count_params())}
