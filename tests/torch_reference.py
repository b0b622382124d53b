"""A plain-PyTorch reference of Real-ESRGAN's RRDBNet, for the tests that check the kit's Keras port against
PyTorch itself (torch is a test-only dependency: nothing in ``kit`` imports it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kit.sr.port import convert_checkpoint, load_converted



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
