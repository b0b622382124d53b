"""Read PyTorch checkpoints (``.pth``/``.pt``) safely, without PyTorch. Layer 0 (standard library, NumPy and
:mod:`kit.checks` only), for every converter: Real-ESRGAN's (:mod:`kit.sr.port`), LPIPS'.

A ``.pth`` file is a pickle, and unpickling runs whatever callables the file names, so ``torch.load`` on a
stranger's file can execute arbitrary code. :func:`read_torch_checkpoint` reads both of PyTorch's formats (the
zip archive of ``torch.save`` since 1.6, the older "legacy" stream) and trusts nothing in the file:

- names: only ``OrderedDict``, the tensor/parameter rebuild functions and the storage types resolve, to stand-ins
  made fresh for each load and frozen (nothing one file does changes how another loads); all else is refused;
- opcodes: BUILD (set an object's state) is refused except for the ``_metadata`` PyTorch puts on a state dict's
  ``OrderedDict``; INST, OBJ, NEWOBJ, extension codes and sets are refused (a state dict never uses them);
- tensors: each view's (storage_offset, size, stride) must be non-negative integers inside its storage;
- size: all a load materialises (storages, tensors, the pickle's objects) counts against ``max_bytes`` before
  it is allocated, and zip entries are read through a cap that ignores the zip header.
"""

from __future__ import annotations

import collections
import dataclasses
import io
import math
import os
import pickle
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from kit.checks import check_positive_int

__all__ = ["CheckpointError", "DEFAULT_MAX_BYTES", "LEGACY_MAGIC", "read_torch_checkpoint"]

# RealESRGAN_x4plus (16.7M float32 parameters, twice: params, params_ema) needs ~280 MiB: storages + tensors.
DEFAULT_MAX_BYTES = 512 * 2**20
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C  # the first object of a legacy PyTorch file
# One pickle opcode of a byte or two can create a Python object of up to ~90 bytes (an empty list or dict, a
# memo entry), so each byte of pickle is charged at this rate: the objects the pickle builds fit max_bytes too.
_PICKLE_EXPANSION = 128
_MAX_DIMS = 32  # NumPy's limit is 64; no weight tensor comes close
# Storage class name -> (NumPy dtype of the bytes in the file, bytes per element); bfloat16 widens to float32.
_STORAGE_DTYPES = {"FloatStorage": ("f4", 4), "DoubleStorage": ("f8", 8), "HalfStorage": ("f2", 2), "BFloat16Storage": ("bfloat16", 2),
                   "LongStorage": ("i8", 8), "IntStorage": ("i4", 4), "ShortStorage": ("i2", 2), "CharStorage": ("i1", 1),
                   "ByteStorage": ("u1", 1), "BoolStorage": ("?", 1)}


class CheckpointError(ValueError):
    """A file that is not a usable PyTorch checkpoint: truncated, foreign, unsafe, too large, or the wrong network."""


@dataclasses.dataclass(frozen=True, slots=True)
class _StorageType:
    """Stands in for ``torch.FloatStorage`` & co. Made fresh for each load and frozen (no ``__dict__``)."""

    name: str
    stored: str  # NumPy dtype code of the bytes in the file, or "bfloat16"
    itemsize: int  # bytes per element in the file

    @property
    def dtype(self) -> np.dtype:  # what tensors of this storage come back in
        return np.dtype(np.float32 if self.stored == "bfloat16" else self.stored)


# Stands in for torch.Tensor / torch.nn.Parameter, which _rebuild_from_type_v2 names but never calls (immutable).
_TensorClass = collections.namedtuple("_TensorClass", "name")
# A storage as tensors see it: its _StorageType, key, element count, and data (None while only checking views).
_Storage = collections.namedtuple("_Storage", "stype key numel data")


class _Budget:
    """Bytes a load may still materialise; every allocation is charged before it happens."""

    def __init__(self, where: str, limit: int):
        self.where, self.limit, self.used = where, limit, 0

    left = property(lambda self: self.limit - self.used)  # bytes still allowed

    def charge(self, nbytes: int, what: str) -> None:
        if nbytes > self.left:
            raise CheckpointError(f"{self.where}: {what} needs {nbytes:,} bytes and the load already holds {self.used:,}: expected at most "
                                  f"max_bytes={self.limit:,} in all (a damaged or crafted file; pass a larger max_bytes if you trust it)")
        self.used += nbytes


def _show(obj) -> str:
    """A short description of an object from the file (one built to be huge or deeply nested is not repr'd)."""
    simple = (bool, float, type(None), _StorageType, _TensorClass)
    if isinstance(obj, (str, bytes)):
        return repr(obj[:60]) + ("..." if len(obj) > 60 else "")
    if isinstance(obj, simple) or (type(obj) is int and abs(obj) < 2**64):
        return repr(obj)[:80]
    if type(obj) in (tuple, list) and len(obj) <= _MAX_DIMS and all(isinstance(v, simple) or (type(v) is int and abs(v) < 2**64) for v in obj):
        return repr(obj)[:120]
    return f"a {type(obj).__name__}" + (f" of {len(obj)} items" if isinstance(obj, (tuple, list, dict)) else "")


def _check_view(storage, offset, size, stride, where: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(size, stride) of a tensor view, checked to lie inside ``storage``: integers only, none negative, and the
    largest element index ``offset + sum((size_i - 1) * stride_i)`` below the storage's element count."""
    if not isinstance(storage, _Storage):
        raise CheckpointError(f"{where}: a tensor refers to a {type(storage).__name__}, expected a storage")
    if type(offset) is not int or not all(isinstance(s, (tuple, list)) and len(s) <= _MAX_DIMS and all(type(v) is int for v in s) for s in (size, stride)):
        raise CheckpointError(f"{where}: a tensor view must have an integer offset and tuples of at most {_MAX_DIMS} integers "
                              f"for size and stride, got offset {_show(offset)}, size {_show(size)}, stride {_show(stride)}")
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride) or offset < 0 or min(size + stride, default=0) < 0:
        raise CheckpointError(f"{where}: a tensor view must have as many strides as sizes, all >= 0, and "
                              f"offset >= 0, got offset {offset}, size {size}, stride {stride} (a crafted or damaged file)")
    # An empty tensor reads nothing (its offset may sit at the storage's end); else its last element must fit.
    last = offset - 1 if 0 in size else offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= storage.numel:
        raise CheckpointError(f"{where}: a tensor view (offset {offset}, size {size}, stride {stride}) reaches element {last}, but "
                              f"its storage {storage.key!r} holds {storage.numel} (indices 0..{storage.numel - 1}): truncated or crafted file")
    return size, stride


def _materialise(data: np.ndarray, offset: int, size: tuple, stride: tuple) -> np.ndarray:
    """A copy of a view already checked by :func:`_check_view`."""
    if 0 in size:
        return np.zeros(size, data.dtype)  # (NumPy refuses absurd empty shapes with a ValueError: a damaged file)
    # A length-1 dimension never moves along its stride, which the check therefore leaves unbounded: zero it.
    strides = tuple(s * data.itemsize if n > 1 else 0 for n, s in zip(size, stride))
    return np.array(np.lib.stride_tricks.as_strided(data[offset:], shape=size, strides=strides, writeable=False))


_DICTS = (dict, collections.OrderedDict)  # the containers SETITEM(S) may add to


def _guard(op: str, kinds: tuple = (), at: int | None = None):
    """Pickle's ``op``, refused unless the container it adds to (``stack[at]``; at None: the top below the mark) is
    one of ``kinds`` (never an allowed object whose ``append``/``__setitem__`` pickle would call); no kinds: refused."""
    original = pickle._Unpickler.dispatch[getattr(pickle, op)[0]]

    def load(self):
        if not kinds:
            raise CheckpointError(f"{self.where}: the pickle uses the {op} opcode, which a tensor checkpoint never needs (crafted or foreign file)")
        target = self.metastack[-1][-1] if at is None else self.stack[at]
        if type(target) not in kinds:
            raise CheckpointError(f"{self.where}: the pickle's {op} adds to {_show(target)}, expected a {' or '.join(k.__name__ for k in kinds)}")
        original(self)

    return load


class _SafeUnpickler(pickle._Unpickler):
    """Resolves only this load's allow-list; checks every opcode that calls or mutates. ``storage(stype, key,
    numel) -> _Storage`` resolves persistent storage references (None: plain data only, no names at all).

    Why the pure-Python ``pickle._Unpickler``: the C ``pickle.Unpickler`` runs BUILD, NEWOBJ and the container
    opcodes internally with no hook except ``find_class``, so a file could still set the state of an allowed
    object. The pure-Python one dispatches each opcode through ``dispatch`` (opcode byte -> method), which this
    class overrides. It is slower, but a state dict's pickle is small (its tensors are stored apart from it)."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, where: str, budget: _Budget | None = None, storage=None):
        super().__init__(file, encoding="utf-8")  # as torch.load: Python 2 byte strings decode as UTF-8
        self.where, self._budget, self._storage = where, budget, storage
        self._made = {}  # id -> OrderedDict this load created (kept alive so ids stay unique): BUILD may set _metadata
        self._allowed, self._callables = {}, ()
        if storage is None:
            return
        # Built per load: bound methods cannot be given attributes, the stand-ins are frozen, and a new set is
        # made for every unpickler, so nothing a file does outlives its load.
        make_dict, rebuild, param, from_type = self._ordered_dict, self._rebuild_tensor, self._rebuild_parameter, self._rebuild_from_type
        self._callables = (make_dict, rebuild, param, from_type)
        self._allowed = {("collections", "OrderedDict"): make_dict, ("torch._tensor", "_rebuild_from_type_v2"): from_type,
                         **{("torch._utils", n): rebuild for n in ("_rebuild_tensor_v2", "_rebuild_tensor")},
                         **{("torch._utils", n): param for n in ("_rebuild_parameter", "_rebuild_parameter_with_state")},
                         **{(m, n): _TensorClass(f"{m}.{n}") for m, n in (("torch", "Tensor"), ("torch.nn.parameter", "Parameter"))},
                         **{("torch", name): _StorageType(name, *spec) for name, spec in _STORAGE_DTYPES.items()}}

    def find_class(self, module, name):
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise CheckpointError(f"{self.where}: refusing to load {module}.{name}: a weights checkpoint only needs tensors, and this "
                                  "file asks to run other code (it may be malicious, or not a plain state dict)") from None

    def persistent_load(self, pid):
        # Zip ids are ("storage", type, key, location, numel); legacy ids add view metadata, None unless a view.
        ok = isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage" and isinstance(pid[1], _StorageType)
        if not (ok and self._storage is not None and type(pid[2]) is str and type(pid[4]) is int and pid[4] >= 0):
            raise CheckpointError(f"{self.where}: unexpected persistent reference in the checkpoint: {_show(pid)}, expected ('storage', type, key, location, numel)")
        if len(pid) == 6 and pid[5] is not None:
            raise CheckpointError(f"{self.where}: storage views in legacy checkpoints are not supported; re-save the file with torch >= 1.6")
        return self._storage(pid[1], pid[2], pid[4])

    def _ordered_dict(self, *args):
        made = collections.OrderedDict(*args)
        self._made[id(made)] = made
        return made

    def _rebuild_tensor(self, storage, storage_offset, size, stride, *_rest):
        """``torch._utils._rebuild_tensor_v2``: a checked strided view into a storage, copied out."""
        size, stride = _check_view(storage, storage_offset, size, stride, self.where)
        self._budget.charge(math.prod(size) * storage.stype.dtype.itemsize, f"a tensor of size {size}")
        if storage.data is None:  # only checking (the legacy format's first pass)
            return None
        return _materialise(storage.data, storage_offset, size, stride)

    def _rebuild_parameter(self, data, *_rest):
        return data

    def _rebuild_from_type(self, func, new_type, args, _state):
        if not any(func is f for f in self._callables[1:3]) or not isinstance(new_type, _TensorClass) or type(args) is not tuple:
            raise CheckpointError(f"{self.where}: _rebuild_from_type_v2 expects a tensor rebuild function, a tensor class and a tuple, got "
                                  f"{_show(func)}, {_show(new_type)}, {_show(args)}")
        return func(*args)

    def _load_reduce(self):
        args = self.stack.pop()
        func = self.stack[-1]
        if not any(func is f for f in self._callables) or type(args) is not tuple:
            raise CheckpointError(f"{self.where}: the pickle calls {_show(func)} with {_show(args)}; expected one of the "
                                  "allowed tensor rebuild functions or OrderedDict, with a tuple")
        self.stack[-1] = func(*args)

    def _load_build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        # PyTorch's state_dict() is an OrderedDict carrying a _metadata attribute (module versions), which
        # pickle restores with BUILD: the one state a checkpoint may set.
        if self._made.get(id(inst)) is inst and type(state) is dict and list(state) == ["_metadata"]:
            inst._metadata = state["_metadata"]
            return
        keys = [_show(k) for k in list(state)[:5]] if isinstance(state, dict) else _show(state)
        raise CheckpointError(f"{self.where}: the pickle sets the state of {_show(inst)} to {keys}; expected only _metadata on a "
                              "state dict's OrderedDict (a crafted file trying to change objects it should not)")

    dispatch[pickle.REDUCE[0]] = _load_reduce
    dispatch[pickle.BUILD[0]] = _load_build
    for _op, _kinds, _at in (("APPEND", (list,), -2), ("APPENDS", (list,), None), ("SETITEM", _DICTS, -3), ("SETITEMS", _DICTS, None),
                             *((op, (), None) for op in ("INST", "OBJ", "NEWOBJ", "NEWOBJ_EX", "EXT1", "EXT2", "EXT4", "EMPTY_SET", "ADDITEMS", "FROZENSET"))):
        dispatch[getattr(pickle, _op)[0]] = _guard(_op, _kinds, _at)
    del _op, _kinds, _at


class _Bounded:
    """A read-only file view that refuses to hand out more than ``limit`` bytes (a pickle inside a larger file)."""

    def __init__(self, file, limit: int, where: str):
        self.file, self.left, self.where, self.consumed = file, limit, where, 0

    def _take(self, data: bytes) -> bytes:
        if len(data) > self.left:
            raise CheckpointError(f"{self.where}: its pickle is longer than the {self.consumed + self.left:,} bytes expected "
                                  f"(a state dict's pickle is small; this one is damaged, crafted, or too large for max_bytes)")
        self.left, self.consumed = self.left - len(data), self.consumed + len(data)
        return data

    def read(self, n: int = -1) -> bytes:
        return self._take(self.file.read(self.left + 1 if n < 0 or n > self.left else n))

    def readline(self) -> bytes:
        return self._take(self.file.readline(self.left + 1))


def _decode(raw: bytes, stype: _StorageType, byteorder: str) -> np.ndarray:
    """Storage bytes as a flat array of ``stype.dtype`` in native byte order (read-only unless converted)."""
    order = "<" if byteorder == "little" else ">"
    if stype.stored == "bfloat16":
        return (np.frombuffer(raw, dtype=order + "u2").astype(np.uint32) << 16).view(np.float32)
    arr = np.frombuffer(raw, dtype=np.dtype(stype.stored).newbyteorder(order))
    return arr if arr.dtype.isnative else arr.astype(arr.dtype.newbyteorder("="))


def _read_entry(zf: zipfile.ZipFile, name: str, limit: int, where: str, why: str = "a zip bomb or a damaged file") -> bytes:
    """At most ``limit`` bytes of a zip entry, read through the decompressor: the header's sizes are not trusted,
    so an entry that inflates beyond ``limit`` (a zip bomb) is refused after reading ``limit + 1`` bytes."""
    with zf.open(name) as entry:
        raw = entry.read(limit + 1)
    if len(raw) > limit:
        raise CheckpointError(f"{where}: zip entry {name} inflates to more than the {limit:,} bytes expected ({why})")
    return raw


def _storage(read, stype: _StorageType, key: str, numel: int, seen: dict, budget: _Budget, byteorder: str) -> _Storage:
    """Storage ``key`` from ``seen`` (same type and size), else charged to ``budget``, read with ``read(nbytes)``."""
    if key in seen:
        if seen[key].stype != stype or seen[key].numel != numel:
            raise CheckpointError(f"{budget.where}: storage {key!r} is referred to as {seen[key].numel} x {seen[key].stype.name} and as "
                                  f"{numel} x {stype.name}; expected one type and size per storage")
        return seen[key]
    budget.charge(numel * stype.dtype.itemsize, f"storage {key!r} ({numel:,} x {stype.name})")
    data = read(numel * stype.itemsize)
    if len(data) != numel * stype.itemsize:
        raise CheckpointError(f"{budget.where}: storage {key!r} holds {len(data):,} bytes, expected {numel * stype.itemsize:,} (truncated file?)")
    seen[key] = _Storage(stype, key, numel, _decode(data, stype, byteorder))
    return seen[key]


def _read_counted(f, numel: int, nbytes: int, what: str, byteorder: str) -> bytes:
    """A legacy storage's bytes, after the int64 element count torch writes before them (checked)."""
    count = f.read(8)
    if len(count) != 8 or struct.unpack("<q" if byteorder == "little" else ">q", count)[0] != numel:
        raise CheckpointError(f"{what} should start with its element count {numel}, found {count!r} (truncated file?)")
    return f.read(nbytes)


def _read_zip(path: Path, budget: _Budget):
    where = str(path)
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        pkl = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pkl) != 1:
            raise CheckpointError(f"{path} is a zip file but not a PyTorch checkpoint: expected one data.pkl, found {sorted(pkl)[:3]} among {sorted(names)[:5]}")
        prefix = pkl[0][: -len("data.pkl")]
        order = _read_entry(zf, prefix + "byteorder", 16, where).decode("ascii", "replace").strip() if prefix + "byteorder" in names else "little"
        if order not in ("little", "big"):
            raise CheckpointError(f"{path}: its byteorder entry says {order!r}, expected 'little' or 'big'")
        raw = _read_entry(zf, pkl[0], budget.left // _PICKLE_EXPANSION, where, f"a pickle too large for max_bytes={budget.limit:,}, or a zip bomb")
        budget.charge(len(raw) * _PICKLE_EXPANSION, f"the pickle {pkl[0]} ({len(raw):,} bytes)")
        loaded: dict[str, _Storage] = {}

        def storage(stype: _StorageType, key: str, numel: int) -> _Storage:
            entry = f"{prefix}data/{key}"
            if key not in loaded and entry not in names:
                raise CheckpointError(f"{path} lacks the tensor data {entry} (truncated file?)")
            return _storage(lambda n: _read_entry(zf, entry, n, where), stype, key, numel, loaded, budget, order)

        return _SafeUnpickler(io.BytesIO(raw), where, budget, storage).load()


def _read_legacy(path: Path, budget: _Budget):
    """PyTorch's pre-1.6 stream: magic, protocol, sys info, the object pickle, the storage keys, then each storage's
    element count and bytes. The data follow the pickle, so it is read twice: to learn the storages, then with data."""
    where = str(path)
    with open(path, "rb") as f:
        header = _SafeUnpickler(_Bounded(f, 2**16, where), where)  # plain data only: no names, no storages
        if header.load() != LEGACY_MAGIC:
            raise CheckpointError(f"{path} is not a PyTorch checkpoint: a pickle, but not PyTorch's legacy format (no magic number)")
        header.load()  # the protocol version
        sys_info = header.load()
        order = "big" if isinstance(sys_info, dict) and sys_info.get("little_endian") is False else "little"
        start, wanted, storages = f.tell(), {}, {}

        def note(stype: _StorageType, key: str, numel: int) -> _Storage:  # first pass: learn storages, read nothing
            wanted.setdefault(key, _Storage(stype, key, numel, None))
            return _storage(None, stype, key, numel, wanted, budget, order)

        body = _Bounded(f, budget.left // _PICKLE_EXPANSION, where)
        _SafeUnpickler(body, where, _Budget(where, budget.limit), note).load()  # views checked, charged apart
        budget.charge(body.consumed * _PICKLE_EXPANSION, f"the object pickle ({body.consumed:,} bytes)")
        listing = _Bounded(f, budget.left // _PICKLE_EXPANSION, where)
        keys = _SafeUnpickler(listing, where).load()
        budget.charge(listing.consumed * _PICKLE_EXPANSION, f"the storage list ({listing.consumed:,} bytes)")
        if not (isinstance(keys, list) and all(type(k) is str for k in keys) and sorted(keys) == sorted(wanted)):
            raise CheckpointError(f"{path}: its storage list ({_show(keys)}) does not match the {len(wanted)} storages its tensors use")
        for key in keys:
            stype, numel = wanted[key].stype, wanted[key].numel
            _storage(lambda n: _read_counted(f, numel, n, f"{path}: storage {key!r}", order), stype, key, numel, storages, budget, order)
        f.seek(start)  # second pass: the same pickle, now with the data
        give = lambda stype, key, numel: _storage(None, stype, key, numel, storages, budget, order)  # noqa: E731
        return _SafeUnpickler(_Bounded(f, body.consumed, where), where, budget, give).load()


def read_torch_checkpoint(path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> object:
    """The object saved in a PyTorch ``.pth``/``.pt`` file, read safely (see the module docstring).

    Args:
        path: a file written by ``torch.save`` (zip format, or legacy with ``_use_new_zipfile_serialization=False``).
        max_bytes: the most the load may materialise (storages, tensors, pickle objects), checked before allocating.

    Returns:
        What was saved: typically a dict or OrderedDict (a state dict, with its ``_metadata``) of NumPy arrays in
        their stored dtype (bfloat16 widened to float32), or lists, tuples, numbers and strings.

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: truncated, foreign or over-large file, a tensor view outside its storage, or a pickle
            naming anything beyond tensors and dicts or setting state on them; the message names the file.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike naming a .pth file, got {type(path).__name__}")
    max_bytes = check_positive_int(max_bytes, "max_bytes")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint file {path.resolve()}")
    with open(path, "rb") as f:
        magic = f.read(4)
    if len(magic) < 4:
        raise CheckpointError(f"{path} is {len(magic)} bytes long: empty or truncated, not a PyTorch checkpoint")
    budget = _Budget(str(path), max_bytes)
    try:
        if magic == b"PK\x03\x04":
            return _read_zip(path, budget)
        if magic[0] == 0x80 and 2 <= magic[1] <= 5:
            return _read_legacy(path, budget)
    except CheckpointError:
        raise
    # What a damaged or foreign file can raise from the zip reader, the decompressor and the unpickler.
    except (pickle.UnpicklingError, EOFError, struct.error, zipfile.BadZipFile, zlib.error, OSError, RuntimeError,
            TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError) as err:
        raise CheckpointError(f"{path} is a damaged, truncated or foreign file, not a PyTorch checkpoint: {type(err).__name__}: {err}") from None
    raise CheckpointError(f"{path} is not a PyTorch checkpoint (starts with {magic!r}, expected a zip archive or a pickle)")
