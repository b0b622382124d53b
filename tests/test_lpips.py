"""kit.lpips against a plain-PyTorch LPIPS written out here (torch only: no torchvision, no lpips package), with
random weights saved by torch.save in both of its formats and converted by the kit's safe reader; and
kit.metrics.lpips_distance's input checks. Offline: the published weights are never downloaded."""

from pathlib import Path

import numpy as np
import pytest

import kit.lpips as kl
from kit.metrics import lpips_distance
from kit.torchfile import CheckpointError

torch = pytest.importorskip("torch")
nn = torch.nn

CHANNELS = (64, 128, 256, 512, 512)
SLICES = ((0, 4), (4, 9), (9, 16), (16, 23), (23, 30))  # the lpips package's vgg16: relu1_2 .. relu5_3
# torchvision's VGG16 configuration "D"; make_layers gives features with the convs at 0, 2, 5, 7, 10, ...
VGG16_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")


class TorchVGG16(nn.Module):
    """torchvision.models.vgg16's ``features`` (same indices, so the same state-dict keys) and a stub classifier."""

    def __init__(self):
        super().__init__()
        layers, cin = [], 3
        for v in VGG16_CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                layers += [nn.Conv2d(cin, v, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
                cin = v
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Linear(16, 8), nn.ReLU(True), nn.Dropout(), nn.Linear(8, 4))  # stand-in, unused


class NetLinLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.model = nn.Sequential(nn.Dropout(), nn.Conv2d(c, 1, 1, stride=1, padding=0, bias=False))


class Lins(nn.Module):
    """lin0..lin4 as attributes, so the state dict's keys are ``lin{k}.model.1.weight`` as in lpips' vgg.pth."""

    def __init__(self):
        super().__init__()
        for k, c in enumerate(CHANNELS):
            setattr(self, f"lin{k}", NetLinLayer(c))


class TorchLPIPS(nn.Module):
    """lpips.LPIPS(net="vgg", version="0.1") in eval mode, inputs NCHW in [-1, 1], output (N,)."""

    def __init__(self):
        super().__init__()
        self.vgg, self.lins = TorchVGG16(), Lins()
        self.register_buffer("shift", torch.tensor([-0.030, -0.088, -0.188])[None, :, None, None])
        self.register_buffer("scale", torch.tensor([0.458, 0.448, 0.450])[None, :, None, None])

    @staticmethod
    def normalize_tensor(f, eps=1e-10):
        return f / (torch.sqrt(torch.sum(f**2, dim=1, keepdim=True)) + eps)

    def taps(self, x):
        out, h = [], (x - self.shift) / self.scale
        for a, b in SLICES:
            h = self.vgg.features[a:b](h)
            out.append(h)
        return out

    def forward(self, in0, in1):
        val = 0
        for k, (f0, f1) in enumerate(zip(self.taps(in0), self.taps(in1))):
            diff = (self.normalize_tensor(f0) - self.normalize_tensor(f1)) ** 2
            val = val + getattr(self.lins, f"lin{k}").model(diff).mean([2, 3], keepdim=True)
        return val.reshape(-1)


def reference_distances(net, a, b) -> np.ndarray:
    """The PyTorch model's distances for NHWC [0, 1] NumPy images (``normalize=True`` in the lpips package)."""
    to = lambda x: torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))) * 2 - 1  # noqa: E731
    with torch.no_grad():
        return net(to(a), to(b)).numpy()


@pytest.fixture(scope="module")
def torch_lpips(tmp_path_factory):
    """(PyTorch LPIPS with random weights, {format: (vgg .pth, lin .pth)}) with the files in both torch.save formats."""
    torch.manual_seed(0)
    net = TorchLPIPS().eval()
    with torch.no_grad():
        for m in net.vgg.features:
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")  # keeps activations O(1) through 13 convs
                nn.init.uniform_(m.bias, -0.1, 0.1)  # non-zero, so the biases' transfer is checked too
        for p in net.lins.parameters():
            # Non-negative as LPIPS', and O(1) (default init gives ~0.5/sqrt(C)), so distances are O(1) and the
            # absolute tolerance of 1e-4 is a relative one of about 1e-4.
            p.copy_(torch.randn_like(p).abs())
    folder = tmp_path_factory.mktemp("lpips_torch")
    files = {}
    for fmt, zipped in (("zip", True), ("legacy", False)):
        vgg, lin = folder / f"vgg_{fmt}.pth", folder / f"lin_{fmt}.pth"
        torch.save(net.vgg.state_dict(), vgg, _use_new_zipfile_serialization=zipped)
        torch.save(net.lins.state_dict(), lin, _use_new_zipfile_serialization=zipped)
        files[fmt] = (vgg, lin)
    return net, files


@pytest.fixture(scope="module")
def converted(torch_lpips):
    return kl.convert(*torch_lpips[1]["zip"])


@pytest.fixture(scope="module")
def standin():
    return kl.lpips_standin(seed=0)


def pairs(n, h, w, seed):
    """n image pairs (N, h, w, 3) in [0, 1], from nearly equal to unrelated: the reference mixes each image with an
    independent one in the proportion 0.1 .. 1, and the images are smooth blobs plus noise (structure VGG sees)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)

    def images():
        c = rng.random((n, 1, 1, 3, 3))  # 3 blobs per image, one random colour each
        centres, widths = rng.random((n, 1, 1, 2, 3)), rng.uniform(0.1, 0.4, (n, 1, 1, 1, 3))
        dy, dx = yy[None, :, :, None, None] - centres[..., 0:1, :], xx[None, :, :, None, None] - centres[..., 1:2, :]
        blobs = np.exp(-(dy**2 + dx**2) / widths**2)
        x = (blobs * c).sum(-1) + rng.normal(0, 0.05, (n, h, w, 3))
        return np.clip(x, 0, 1).astype(np.float32)

    a, other = images(), images()
    t = np.linspace(0.1, 1.0, n, dtype=np.float32)[:, None, None, None]
    return a, ((1 - t) * a + t * other).astype(np.float32)


@pytest.mark.parametrize("fmt", ["zip", "legacy"])
def test_converted_lpips_matches_pytorch(torch_lpips, fmt):
    net, files = torch_lpips
    model = kl.convert(*files[fmt])
    worst = 0.0
    for n, h, w, seed in ((4, 32, 32, 1), (4, 48, 64, 2), (2, 37, 50, 3)):  # 37x50: odd sizes pool down by flooring
        a, b = pairs(n, h, w, seed)
        ours, ref = lpips_distance(a, b, model), reference_distances(net, a, b)
        assert ours.shape == (n,) and ours.dtype == np.float32
        assert ref.min() > 1e-3, "the reference distances should not be trivially zero"
        np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-4)
        worst = max(worst, float(np.abs(ours - ref).max()))
    print(f"max |keras - torch| ({fmt}): {worst:.2e}")


def test_identical_images_give_zero_and_distances_are_non_negative(converted):
    a, b = pairs(4, 32, 32, 4)
    assert np.all(lpips_distance(a, b, converted) > 0)
    np.testing.assert_allclose(lpips_distance(a, a, converted), 0.0, atol=1e-7)
    # Batching does not change the numbers.
    np.testing.assert_allclose(lpips_distance(a, b, converted, batch_size=1), lpips_distance(a, b, converted), rtol=1e-5, atol=1e-7)


def test_the_model_refuses_images_smaller_than_16_pixels(converted):
    x = np.zeros((1, 8, 32, 3), np.float32)
    with pytest.raises(ValueError, match="at least 16x16"):
        converted([x, x])


def _save(state, path):
    torch.save(state, path)
    return path


@pytest.mark.parametrize("change, key", [
    (lambda sd: sd.pop("features.28.bias"), "features.28.bias"),
    (lambda sd: sd.__setitem__("features.10.weight", sd["features.10.weight"].transpose(0, 1).contiguous()), "features.10.weight"),
    (lambda sd: sd.__setitem__("features.30.weight", torch.zeros(3)), "features.30.weight"),
    (lambda sd: sd.__setitem__("features.0.bias", sd["features.0.bias"].long()), "features.0.bias"),
], ids=["missing", "wrong-shape", "extra", "integer"])
def test_a_wrong_vgg_checkpoint_is_refused_naming_file_and_tensor(torch_lpips, tmp_path, change, key):
    net, files = torch_lpips
    state = net.vgg.state_dict()
    change(state)
    bad = _save(state, tmp_path / "bad_vgg.pth")
    with pytest.raises(CheckpointError, match=f"bad_vgg.pth.*{key}"):
        kl.convert(bad, files["zip"][1])


@pytest.mark.parametrize("change, key", [
    (lambda sd: sd.__setitem__("lin0.model.0.weight", sd.pop("lin0.model.1.weight")), "lin0.model"),
    (lambda sd: sd.__setitem__("lin3.model.1.weight", torch.ones(1, 256, 1, 1)), "lin3.model.1.weight"),
    (lambda sd: sd.__setitem__("lin2.model.1.weight", -sd["lin2.model.1.weight"]), "non-negative.*lin2.model.1.weight"),
], ids=["no-dropout-key", "wrong-shape", "negative"])
def test_a_wrong_lin_checkpoint_is_refused_naming_file_and_tensor(torch_lpips, tmp_path, change, key):
    net, files = torch_lpips
    state = net.lins.state_dict()
    change(state)
    bad = _save(state, tmp_path / "bad_lin.pth")
    with pytest.raises(CheckpointError, match=f"bad_lin.pth.*{key}"):
        kl.convert(files["zip"][0], bad)


def test_convert_checks_its_arguments(torch_lpips, tmp_path):
    vgg, lin = torch_lpips[1]["zip"]
    with pytest.raises(TypeError, match="vgg_weights must be a path"):
        kl.convert(123, lin)
    with pytest.raises(FileNotFoundError):
        kl.convert(tmp_path / "absent.pth", lin)
    (tmp_path / "notes.pth").write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match="notes.pth"):
        kl.convert(vgg, tmp_path / "notes.pth")
    with pytest.raises(CheckpointError, match="max_bytes"):
        kl.convert(vgg, lin, max_bytes=1_000_000)


def test_lpips_network_offline_then_from_placed_files_then_from_its_cache(torch_lpips, tmp_path, capsys, monkeypatch):
    net, files = torch_lpips
    folder = tmp_path / "lpips"
    model, label = kl.lpips_network(download=False, folder=folder)
    out = capsys.readouterr().out
    assert model is None and label.startswith("LPIPS unavailable") and "downloading is off" in label
    assert out.count("\n") == 1 and "vgg16-397923af.pth" in out and str(folder) in out

    def offline(*args, **kwargs):
        raise OSError("no internet")

    monkeypatch.setattr(kl.keras.utils, "get_file", offline)
    model, label = kl.lpips_network(download=True, folder=folder)
    assert model is None and "downloading failed (OSError: no internet)" in label

    folder.mkdir(exist_ok=True)
    (folder / "vgg16-397923af.pth").write_bytes(files["legacy"][0].read_bytes())
    (folder / "vgg.pth").write_bytes(files["legacy"][1].read_bytes())
    model, label = kl.lpips_network(download=False, folder=folder)
    assert "UNPUBLISHED" in label and "not torchvision's vgg16-397923af" in label  # random weights, said so
    assert (folder / "lpips_vgg16.weights.h5").is_file() and (folder / "lpips_vgg16.json").is_file()
    a, b = pairs(2, 32, 32, 5)
    first = lpips_distance(a, b, model)
    np.testing.assert_allclose(first, reference_distances(net, a, b), atol=1e-4)

    for name in ("vgg16-397923af.pth", "vgg.pth"):
        (folder / name).unlink()  # the second call can only use the cache
    cached, cached_label = kl.lpips_network(download=False, folder=folder)
    assert cached_label == label
    np.testing.assert_array_equal(lpips_distance(a, b, cached), first)


def test_lpips_network_downloads_missing_files_with_keras_get_file(torch_lpips, tmp_path, monkeypatch):
    _, files = torch_lpips
    monkeypatch.setattr(kl, "VGG_URL", files["zip"][0].as_uri())  # file:// URLs: get_file's real code path, offline
    monkeypatch.setattr(kl, "LIN_URL", files["zip"][1].as_uri())
    model, label = kl.lpips_network(download=True, folder=tmp_path / "new")
    assert model is not None and "UNPUBLISHED" in label
    assert {p.name for p in (tmp_path / "new").iterdir()} == {"vgg16-397923af.pth", "vgg.pth", "lpips_vgg16.weights.h5", "lpips_vgg16.json"}


def test_lpips_network_checks_its_arguments():
    with pytest.raises(TypeError, match="download must be True or False"):
        kl.lpips_network(download="no")
    with pytest.raises(TypeError, match="folder must be a path"):
        kl.lpips_network(download=False, folder=3)


def test_standin_is_seeded_and_labelled(standin):
    model, label = standin
    assert label.startswith("STAND-IN") and "seed 0" in label and "not the published metric" in label
    a, b = pairs(3, 32, 32, 6)
    again, _ = kl.lpips_standin(seed=0)
    d = lpips_distance(a, b, model)
    np.testing.assert_array_equal(lpips_distance(a, b, again), d)
    other, other_label = kl.lpips_standin(seed=1)
    assert "seed 1" in other_label and not np.allclose(lpips_distance(a, b, other), d)
    assert np.all(d > 0) and np.all(lpips_distance(a, a, model) == 0)
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        kl.lpips_standin(seed=-1)


def test_lpips_distance_checks_its_inputs(standin):
    model = standin[0]
    a, b = pairs(2, 32, 32, 7)
    with pytest.raises(ValueError, match=r"reference values must lie in \[0.0, 1.0\]"):
        lpips_distance(a, b * 2 - 1 - 0.5, model)
    with pytest.raises(ValueError, match="same shape"):
        lpips_distance(a, b[:, :16], model)
    with pytest.raises(ValueError, match="3 channel"):
        lpips_distance(a[..., :1], b[..., :1], model)
    with pytest.raises(ValueError, match="at least 16x16"):
        lpips_distance(a[:, :8, :8], b[:, :8, :8], model)
    with pytest.raises(TypeError, match="network is None"):
        lpips_distance(a, b, None)
    with pytest.raises(TypeError, match="returns? \\(model, label\\)"):
        lpips_distance(a, b, standin)
    with pytest.raises(TypeError, match="positive integer"):
        lpips_distance(a, b, model, batch_size=0.5)
    assert lpips_distance(a[:0], b[:0], model).shape == (0,)
