"""The Real-ESRGAN weight port (checked against PyTorch) and the safe PyTorch-file reader under it
(:mod:`kit.torchfile`): real checkpoints in both of torch's formats, and crafted ones, one per attack: views
outside their storage, huge strides and sizes, zip bombs, state set with BUILD, code execution."""

import collections
import io
import os
import pickle
import struct
import subprocess
import sys
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

import torch_reference
from kit import torchfile
from kit.sr import port

LAYOUTS = ["zip", "legacy"]


@pytest.fixture(scope="module")
def torch():
    # PyTorch (CPU) is a test-only dependency that `make test` installs. Under CI a missing torch is an error,
    # never a skip: the parity check must run where it lands.
    if os.environ.get("CI"):
        import torch

        return torch
    return pytest.importorskip("torch")


# -- crafted checkpoints: pickle opcodes written by hand ---------------------------------------------------


def _str(s: str) -> bytes:
    return b"X" + struct.pack("<I", len(s.encode())) + s.encode()  # BINUNICODE


def _int(i: int) -> bytes:
    return pickle.dumps(i, protocol=2)[2:-1]  # BININT*/LONG1, without PROTO and STOP


def _global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _tuple(*items: bytes) -> bytes:
    return b"(" + b"".join(items) + b"t"


def tensor(offset: int, size: tuple, stride: tuple, *, key: str = "0", numel: int = 4, storage: str = "FloatStorage") -> bytes:
    """Opcodes of ``torch._utils._rebuild_tensor_v2`` for the view (offset, size, stride) of storage ``key``
    (declared to hold ``numel`` elements), as torch.save writes it."""
    pid = _tuple(_str("storage"), _global("torch", storage), _str(key), _str("cpu"), _int(numel)) + b"Q"
    hooks = _global("collections", "OrderedDict") + b")R"
    args = _tuple(pid, _int(offset), _tuple(*map(_int, size)), _tuple(*map(_int, stride)), b"\x89", hooks)
    return _global("torch._utils", "_rebuild_tensor_v2") + args + b"R"


def dict_pickle(**items: bytes) -> bytes:
    """A protocol-2 pickle of a dict whose values are the given opcodes."""
    return b"\x80\x02}(" + b"".join(_str(k) + v for k, v in items.items()) + b"u."


def write(path: Path, pkl: bytes, layout: str, storages=None, order: str = "little") -> Path:
    """A checkpoint holding the pickle ``pkl`` and float32 ``storages`` ({key: values}), in torch's zip layout or
    its legacy one, written in byte ``order``."""
    e = "<" if order == "little" else ">"
    storages = {k: np.asarray(v, e + "f4") for k, v in (storages or {}).items()}
    if layout == "zip":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("ck/data.pkl", pkl)
            zf.writestr("ck/byteorder", order)
            for key, arr in storages.items():
                zf.writestr(f"ck/data/{key}", arr.tobytes())
            zf.writestr("ck/version", "3\n")
    else:
        buf = io.BytesIO()
        for obj in (torchfile.LEGACY_MAGIC, 1001, {"little_endian": order == "little"}):
            pickle.dump(obj, buf, protocol=2)
        buf.write(pkl)
        pickle.dump(sorted(storages), buf, protocol=2)
        for key in sorted(storages):
            buf.write(struct.pack(e + "q", storages[key].size) + storages[key].tobytes())
        path.write_bytes(buf.getvalue())
    return path


def write_raw_zip(path: Path, entries) -> Path:
    """A zip archive of DEFLATE entries given as (name, raw deflate bytes, crc32, size), written by hand so that
    an entry can be pre-compressed (zipfile would compress 1 GiB itself, which takes seconds)."""
    out, central = io.BytesIO(), b""
    for name, data, crc, size in entries:
        offset, n = out.tell(), name.encode()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(data), size, len(n), 0) + n + data)
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc, len(data), size, len(n), 0, 0, 0, 0, 0, offset) + n
    start = out.tell()
    out.write(central + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), start, 0))
    path.write_bytes(out.getvalue())
    return path


def deflated(data: bytes, name: str):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return name, c.compress(data) + c.flush(), zlib.crc32(data), len(data)


def deflated_zeros(size: int, name: str, head: bytes = b""):
    """``head`` then ``size`` zero bytes (a multiple of 1 MiB), deflated to ~1/1000 of that in well under a second."""
    chunk, c = bytes(2**20), zlib.compressobj(9, zlib.DEFLATED, -15)
    start = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)  # a full flush resets the history: every block deflates alike
    crc = zlib.crc32(head)
    for _ in range(size // 2**20):
        crc = zlib.crc32(chunk, crc)
    return name, start + block * (size // 2**20) + c.flush(), crc, len(head) + size


def state_dict_arrays(net) -> dict:
    return {k: v.detach().numpy() for k, v in net.state_dict().items()}


def assert_exact(got: dict, expected: dict):
    assert list(got) == list(expected)
    for k, v in expected.items():
        assert got[k].dtype == v.dtype and got[k].shape == v.shape and np.array_equal(got[k], v), k


# -- real checkpoints --------------------------------------------------------------------------------------


def test_weight_port_matches_pytorch_for_the_23_block_model(tmp_path, torch):
    result = torch_reference.check_port(tmp_path, num_block=23, size=8)
    print(f"weight port, 23 blocks: max abs diff {result['max_abs_diff']:.3g} (output std {result['output_std']:.3g})")
    assert result["parameters"] == 16_697_987
    assert result["output_std"] > 1e-3, "the comparison must not be between near-constant outputs"
    assert result["max_abs_diff"] <= 1e-4


def test_weight_port_reads_the_legacy_format_and_plain_state_dicts(tmp_path, torch):
    net = torch_reference.torch_rrdbnet(8, 1, 4)
    pth = tmp_path / "legacy.pth"
    torch.save(net.state_dict(), pth, _use_new_zipfile_serialization=False)
    model = port.model_from_checkpoint(pth)
    x = np.random.default_rng(1).random((1, 6, 6, 3), dtype=np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0), torch_reference.torch_forward(net, x), atol=1e-5)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_state_dict_metadata_set_by_build_still_loads(tmp_path, torch, layout):
    # torch.save(net.state_dict()) pickles an OrderedDict whose _metadata pickle restores with BUILD: the one
    # BUILD the reader allows.
    net = torch_reference.torch_rrdbnet(8, 1, 4)
    pth = tmp_path / "sd.pth"
    torch.save(net.state_dict(), pth, _use_new_zipfile_serialization=layout == "zip")
    got = torchfile.read_torch_checkpoint(pth)
    assert type(got) is collections.OrderedDict
    assert got._metadata == net.state_dict()._metadata and got._metadata[""] == {"version": 1}
    assert_exact(got, state_dict_arrays(net))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_storage_type_and_view_kind_reads_exactly(tmp_path, torch, layout):
    x = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4)
    saved = {"transposed": x.transpose(0, 2), "slice": x[1, :, 1:3], "flat_slice": x.view(-1)[5:9], "empty": torch.zeros(0, 5),
             "scalar": torch.tensor(3.5), "bf16": torch.randn(5).bfloat16(), "half": torch.randn(3).half(), "f64": torch.randn(2).double(),
             "int": torch.arange(5), "bool": torch.tensor([True, False]), "uint8": torch.arange(3, dtype=torch.uint8),
             "param": torch.nn.Parameter(torch.ones(2)), "plain": [1, 2.5, ("a", None)]}
    pth = tmp_path / "mix.pth"
    torch.save(saved, pth, _use_new_zipfile_serialization=layout == "zip")
    got = torchfile.read_torch_checkpoint(pth)
    for key, value in saved.items():
        if isinstance(value, torch.Tensor):
            ref = value.detach().float().numpy() if value.dtype == torch.bfloat16 else value.detach().numpy()
            assert got[key].dtype == ref.dtype and got[key].shape == ref.shape and np.array_equal(got[key], ref), key
        else:
            assert got[key] == value


@pytest.mark.parametrize("layout", LAYOUTS)
def test_truncated_or_foreign_checkpoints_give_clear_errors(tmp_path, torch, layout):
    net = torch_reference.torch_rrdbnet(8, 1, 4)
    good = tmp_path / "good.pth"
    torch.save({"params_ema": net.state_dict()}, good, _use_new_zipfile_serialization=layout == "zip")
    raw = good.read_bytes()
    cut = tmp_path / "cut.pth"
    cut.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(port.CheckpointError, match="truncated") as err:
        port.read_torch_checkpoint(cut)
    assert str(cut) in str(err.value)
    png = tmp_path / "photo.pth"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(port.CheckpointError, match="not a PyTorch checkpoint"):
        port.read_torch_checkpoint(png)
    other = tmp_path / "other.pth"
    torch.save({"model": {"fc.weight": torch.zeros(2, 2)}}, other, _use_new_zipfile_serialization=layout == "zip")
    with pytest.raises(port.CheckpointError, match=f"{other.name}: no RRDBNet weights"):
        port.model_from_checkpoint(other)
    with pytest.raises(FileNotFoundError):
        port.read_torch_checkpoint(tmp_path / "missing.pth")


def test_reader_checks_its_arguments(tmp_path):
    with pytest.raises(TypeError, match="path must be"):
        torchfile.read_torch_checkpoint(3)
    with pytest.raises(ValueError, match="max_bytes must be a positive integer"):
        torchfile.read_torch_checkpoint(tmp_path / "x.pth", max_bytes=0)
    with pytest.raises(TypeError, match="max_bytes"):
        torchfile.read_torch_checkpoint(tmp_path / "x.pth", max_bytes="512")


def test_convert_refuses_a_state_dict_larger_than_its_architecture_before_building(tmp_path, torch, monkeypatch):
    net = torch_reference.torch_rrdbnet(8, 1, 4)
    weights = net.state_dict()
    weights["conv_body.weight"] = torch.zeros(64, 8, 3, 3)  # more values than an 8-feature conv_body holds
    pth = tmp_path / "padded.pth"
    torch.save({"params_ema": weights}, pth)
    monkeypatch.setattr(port, "rrdbnet", lambda **kw: pytest.fail("the Keras model must not be built from a refused state dict"))
    with pytest.raises(port.CheckpointError, match=r"padded.pth: the state dict holds .* needs .*conv_body.weight: \(64, 8, 3, 3\)"):
        port.convert_checkpoint(pth)


TINY = {"num_feat": 4, "num_block": 1, "num_grow_ch": 2, "in_channels": 3, "out_channels": 3}


def tiny_state_dict(seed: int = 0) -> dict:
    """A complete state dict of a 1-block RRDBNet with 4 features, float32, small random values."""
    rng = np.random.default_rng(seed)
    return {k: rng.normal(0, 0.05, s).astype(np.float32) for k, s in port.expected_shapes(TINY).items()}


def write_state_dict(path: Path, weights: dict, layout: str = "zip") -> Path:
    """``weights`` as torch.save writes a plain state dict (one contiguous storage per tensor), without torch."""
    items, storages = {}, {}
    for i, (name, a) in enumerate(weights.items()):
        stride = tuple(int(np.prod(a.shape[d + 1:])) for d in range(a.ndim))
        items[name] = tensor(0, a.shape, stride, key=str(i), numel=a.size)
        storages[str(i)] = a.ravel()
    return write(path, dict_pickle(**items), layout, storages)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_weights_with_nan_or_inf_are_refused_before_they_are_used(tmp_path, monkeypatch, bad):
    weights = tiny_state_dict()
    weights["body.0.rdb2.conv3.weight"][1, 0, 2, 2] = bad
    pth = write_state_dict(tmp_path / "broken.pth", weights)
    monkeypatch.setattr(port, "rrdbnet", lambda **kw: pytest.fail("no Keras model may be built from non-finite weights"))
    message = r"broken.pth: the weights hold NaN or infinite values in 1 tensor\(s\): body.0.rdb2.conv3.weight \((1 NaN, 0|0 NaN, 1) infinite of 144 values\)"
    with pytest.raises(port.CheckpointError, match=message):
        port.convert_checkpoint(pth)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.pth"]  # nothing converted, nothing written
    with pytest.raises(port.CheckpointError, match=message):
        port.model_from_checkpoint(pth)
    monkeypatch.undo()
    model = port.rrdbnet(**TINY)
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(port.CheckpointError, match=r"in 1 tensor\(s\): body.0.rdb2.conv3.weight"):
        port.load_state_dict(model, weights)
    for a, b in zip(before, model.get_weights()):  # not one layer was copied before the refusal
        np.testing.assert_array_equal(a, b)


def test_converted_weights_round_trip_and_a_damaged_h5_is_refused(tmp_path):
    weights = tiny_state_dict()
    out = port.convert_checkpoint(write_state_dict(tmp_path / "tiny.pth", weights))
    loaded = port.load_converted(out)
    np.testing.assert_array_equal(loaded.get_layer("conv_first").kernel.numpy(), np.transpose(weights["conv_first.weight"], (2, 3, 1, 0)))
    broken = port.rrdbnet(**TINY)  # an .h5 written by anything else: values come from Keras, are checked once loaded
    broken.get_layer("conv_last").bias.assign(np.array([0.0, np.inf, 0.0], np.float32))
    broken.save_weights(out)
    with pytest.raises(port.CheckpointError, match=r"tiny.weights.h5: the weights hold NaN or infinite values in 1 tensor\(s\): conv_last/bias"):
        port.load_converted(out)


@pytest.mark.parametrize("config_text, match", [
    ("[4, 1, 4]", "expected a JSON object"),
    ('{"num_feat": 4, "num_block": 1, "num_grow_ch": 4, "layers": 3}', r"unknown keys \['layers'\]"),
    ('{"num_feat": 4, "num_block": 1000000, "num_grow_ch": 4}', r"num_block must be an integer in \[1, 64\], found 1000000"),
    ('{"num_feat": "4", "num_block": 1, "num_grow_ch": 4}', "num_feat must be an integer"),
    ("{not json", "is not JSON"),
])
def test_a_tampered_converted_config_is_refused_before_any_model_is_built(tmp_path, config_text, match, monkeypatch):
    out = port.convert_checkpoint(write_state_dict(tmp_path / "tiny.pth", tiny_state_dict()))
    out.with_name("tiny.json").write_text(config_text)
    built = []
    monkeypatch.setattr(port, "rrdbnet", lambda **kw: built.append(kw))
    with pytest.raises(port.CheckpointError, match=match):
        port.load_converted(out)
    assert not built


def test_a_truncated_weights_file_is_refused_naming_it(tmp_path):
    out = port.convert_checkpoint(write_state_dict(tmp_path / "tiny.pth", tiny_state_dict()))
    out.write_bytes(out.read_bytes()[: out.stat().st_size // 2])
    with pytest.raises(port.CheckpointError, match=r"tiny.weights.h5 cannot be loaded into the RRDBNet that tiny.json describes"):
        port.load_converted(out)


def test_architecture_shapes_match_real_esrgan_x4plus():
    config = {"num_feat": 64, "num_block": 23, "num_grow_ch": 32, "in_channels": 3, "out_channels": 3}
    assert sum(int(np.prod(s)) for s in port.expected_shapes(config).values()) == 16_697_987


# -- crafted checkpoints, one per attack -------------------------------------------------------------------


@pytest.fixture
def no_strided_reads(monkeypatch):
    """Fails the test if the reader builds a strided view at all: refused views must be refused before."""
    monkeypatch.setattr(np.lib.stride_tricks, "as_strided", lambda *a, **k: pytest.fail("as_strided called on a refused view"))


VIEWS = {  # (offset, size, stride) over a 4-element storage, and what the refusal says
    "negative stride": ((3, (8,), (-1,)), "all >= 0"),
    "negative size": ((0, (-2,), (1,)), "all >= 0"),
    "past the end": ((0, (5,), (1,)), "reaches element 4"),
    "scalar past the end": ((100, (), ()), "reaches element 100"),
    "large positive stride": ((0, (2, 2), (1, 3)), "reaches element 4"),
    "float size": ((0, (2.0,), (1,)), "integers"),
    "bool stride": ((0, (2,), (True,)), "integers"),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", VIEWS)
def test_views_outside_their_storage_are_refused(tmp_path, layout, case, no_strided_reads):
    (offset, size, stride), message = VIEWS[case]
    path = write(tmp_path / "view.pth", dict_pickle(w=tensor(offset, size, stride)), layout, {"0": [1, 2, 3, 4]})
    with pytest.raises(torchfile.CheckpointError, match=message) as err:
        torchfile.read_torch_checkpoint(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_view_ending_exactly_at_the_storage_end_loads(tmp_path, layout):
    pkl = dict_pickle(w=tensor(1, (3,), (1,)), t=tensor(0, (2, 2), (1, 2)), e=tensor(4, (0, 3), (3, 1)))
    got = torchfile.read_torch_checkpoint(write(tmp_path / "ok.pth", pkl, layout, {"0": [1, 2, 3, 4]}))
    np.testing.assert_array_equal(got["w"], [2, 3, 4])
    np.testing.assert_array_equal(got["t"], [[1, 3], [2, 4]])
    assert got["e"].shape == (0, 3)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("order", ["little", "big"])
def test_files_of_either_byte_order_read_exactly(tmp_path, layout, order):
    path = write(tmp_path / "order.pth", dict_pickle(w=tensor(0, (2, 2), (2, 1))), layout, {"0": [1.5, -2, 3, 4e9]}, order)
    got = torchfile.read_torch_checkpoint(path)["w"]
    assert got.dtype == np.float32 and got.dtype.isnative
    np.testing.assert_array_equal(got, np.array([[1.5, -2], [3, 4e9]], np.float32))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_huge_negative_stride_is_refused_and_the_process_survives(tmp_path, layout, no_strided_reads):
    # The old reader handed this view to as_strided, which read 8 TiB below the storage: SIGSEGV.
    path = write(tmp_path / "segv.pth", dict_pickle(w=tensor(0, (2,), (-(2**40),))), layout, {"0": [1, 2, 3, 4]})
    with pytest.raises(torchfile.CheckpointError, match="all >= 0"):
        torchfile.read_torch_checkpoint(path)


def test_a_huge_negative_stride_does_not_kill_a_fresh_process(tmp_path):
    # The same load in a child process (no monkeypatch): a crash would show as a negative return code.
    paths = [write(tmp_path / f"segv_{layout}.pth", dict_pickle(w=tensor(0, (2,), (-(2**40),))), layout, {"0": [1, 2, 3, 4]})
             for layout in LAYOUTS]
    code = ("import sys\nfrom kit.torchfile import CheckpointError, read_torch_checkpoint\nfor p in sys.argv[1:]:\n"
            "    try:\n        read_torch_checkpoint(p)\n    except CheckpointError:\n        print('refused')\n")
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", code, *map(str, paths)], cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["refused", "refused"]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_stride_zero_view_of_256_tib_is_refused_before_allocating(tmp_path, layout):
    path = write(tmp_path / "huge.pth", dict_pickle(w=tensor(0, (2**46,), (0,), numel=1)), layout, {"0": [1]})
    start = time.perf_counter()
    with pytest.raises(torchfile.CheckpointError, match=r"needs 281,474,976,710,656 bytes.*max_bytes"):
        torchfile.read_torch_checkpoint(path)
    assert time.perf_counter() - start < 2


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_storage_declared_larger_than_max_bytes_is_refused_before_reading(tmp_path, layout):
    path = write(tmp_path / "big.pth", dict_pickle(w=tensor(0, (2,), (1,), numel=2**40)), layout, {"0": [1, 2]})
    with pytest.raises(torchfile.CheckpointError, match=r"storage '0' \(1,099,511,627,776 x FloatStorage\) needs .*max_bytes"):
        torchfile.read_torch_checkpoint(path)
    small = write(tmp_path / "small.pth", dict_pickle(w=tensor(0, (2**16,), (1,), numel=2**16)), layout, {"0": np.zeros(2**16)})
    with pytest.raises(torchfile.CheckpointError, match=r"storage '0' \(65,536 x FloatStorage\) needs 262,144 bytes.*max_bytes=262,144 in all"):
        torchfile.read_torch_checkpoint(small, max_bytes=2**18)
    with pytest.raises(torchfile.CheckpointError, match="pickle"):
        torchfile.read_torch_checkpoint(small, max_bytes=20)


@pytest.mark.parametrize("bomb", ["storage", "pickle"])
def test_a_small_zip_entry_that_inflates_to_1_gib_is_refused_fast(tmp_path, bomb):
    pkl = dict_pickle(w=tensor(0, (4,), (1,)))  # the storage declares 4 floats: 16 bytes
    entries = [deflated(b"little", "ck/byteorder"), deflated(b"3\n", "ck/version")]
    if bomb == "storage":
        entries += [deflated(pkl, "ck/data.pkl"), deflated_zeros(2**30, "ck/data/0")]
    else:  # a valid pickle followed by 1 GiB that unpickling would never reach
        entries += [deflated_zeros(2**30, "ck/data.pkl", head=pkl), deflated(np.zeros(4, "<f4").tobytes(), "ck/data/0")]
    path = write_raw_zip(tmp_path / "bomb.pth", entries)
    assert path.stat().st_size < 2**21
    with zipfile.ZipFile(path) as zf:  # the header says what the entry really inflates to: it is not trusted
        assert zf.getinfo(f"ck/{'data/0' if bomb == 'storage' else 'data.pkl'}").file_size >= 2**30
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(torchfile.CheckpointError, match="zip bomb"):
            torchfile.read_torch_checkpoint(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 3
    assert peak < 64 * 2**20, f"reading the bomb allocated {peak / 2**20:.0f} MiB"


def _poison(state: bytes) -> bytes:
    """A pickle that sets the state of the allow-listed FloatStorage with BUILD (the dtype becomes float16), then
    names os.system so that even a reader that let BUILD through rejects the file."""
    return b"\x80\x02" + _global("torch", "FloatStorage") + state + b"b" + _global("os", "system") + b"."


POISONS = {
    "dict state": b"}" + _str("dtype") + _str("e") + b"s",  # BUILD's __dict__ update
    "slot state": b"N}" + _str("dtype") + _str("e") + b"s\x86",  # (None, {...}): BUILD's setattr branch
    "stored code": b"N}" + _str("stored") + _str("f2") + b"s\x86",
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("poison", POISONS)
def test_a_rejected_file_cannot_poison_the_next_load(tmp_path, torch, layout, poison):
    evil = write(tmp_path / "evil.pth", _poison(POISONS[poison]), layout)
    with pytest.raises(torchfile.CheckpointError, match="sets the state of"):
        torchfile.read_torch_checkpoint(evil)
    net = torch_reference.torch_rrdbnet(8, 1, 4)
    good = tmp_path / "good.pth"
    torch.save(net.state_dict(), good, _use_new_zipfile_serialization=layout == "zip")
    assert_exact(torchfile.read_torch_checkpoint(good), state_dict_arrays(net))


BUILDS = {  # BUILD on anything but a state dict's _metadata
    "OrderedDict with more than _metadata": _global("collections", "OrderedDict") + b")R}" + _str("_metadata") + b"}s" + _str("x") + _int(1) + b"sb",
    "OrderedDict with slot state": _global("collections", "OrderedDict") + b")RN}" + _str("_metadata") + b"}s\x86b",
    "the OrderedDict global": _global("collections", "OrderedDict") + b"}" + _str("_metadata") + b"}sb",
    "a plain dict": b"}}" + _str("_metadata") + b"}sb",
    "a rebuild function": _global("torch._utils", "_rebuild_tensor_v2") + b"N}" + _str("__defaults__") + b")s\x86b",
}


@pytest.mark.parametrize("case", BUILDS)
def test_build_is_refused_except_for_state_dict_metadata(tmp_path, case):
    path = write(tmp_path / "build.pth", b"\x80\x02" + BUILDS[case] + b".", "zip")
    with pytest.raises(torchfile.CheckpointError, match="sets the state of"):
        torchfile.read_torch_checkpoint(path)


OPCODES = {  # opcodes that construct or mutate objects outside what find_class and REDUCE check
    "INST": (b"(icollections\nOrderedDict\n.", "INST opcode"),
    "OBJ": (b"\x80\x02(" + _global("collections", "OrderedDict") + b"o.", "OBJ opcode"),
    "NEWOBJ": (b"\x80\x02" + _global("collections", "OrderedDict") + b")\x81.", "NEWOBJ opcode"),
    "EXT1": (b"\x80\x02\x82\x01.", "EXT1 opcode"),
    "EMPTY_SET": (b"\x80\x04\x8f.", "EMPTY_SET opcode"),
    "SETITEM on a storage type": (b"\x80\x02" + _global("torch", "FloatStorage") + _str("dtype") + _str("e") + b"s.", "SETITEM adds to"),
    "APPEND on a storage type": (b"\x80\x02" + _global("torch", "FloatStorage") + _int(1) + b"a.", "APPEND adds to"),
    "REDUCE calling a storage type": (b"\x80\x02" + _global("torch", "FloatStorage") + b")R.", "calls _StorageType"),
    "REDUCE with a non-tuple": (b"\x80\x02" + _global("collections", "OrderedDict") + b"]R.", r"with \[\]; expected .* with a tuple"),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", OPCODES)
def test_opcodes_that_bypass_the_allow_list_are_refused(tmp_path, layout, case):
    pkl, message = OPCODES[case]
    path = write(tmp_path / "op.pth", pkl, layout)
    with pytest.raises(torchfile.CheckpointError, match=message):
        torchfile.read_torch_checkpoint(path)


class _Payload:
    def __reduce__(self):
        return (os.system, ("echo pwned > pwned.txt",))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_malicious_pickles_are_refused_before_running(tmp_path, monkeypatch, layout):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pth"
    if layout == "zip":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("evil/data.pkl", pickle.dumps({"params_ema": _Payload()}, protocol=2))
            zf.writestr("evil/version", "3\n")
    else:
        buf = io.BytesIO()
        for obj in (torchfile.LEGACY_MAGIC, 1001, {"little_endian": True}):
            pickle.dump(obj, buf, protocol=2)
        pickle.dump({"params_ema": _Payload()}, buf, protocol=2)
        path.write_bytes(buf.getvalue())
    with pytest.raises(port.CheckpointError, match="refusing to load (posix|os|nt).system"):
        port.read_torch_checkpoint(path)
    assert not (tmp_path / "pwned.txt").exists()
