"""Input validation shared by every public ``kit`` function.

Each check raises ``ValueError`` (``TypeError`` for a wrong type) with a message that says what was expected
and what arrived, so a student sees "images must be rank 4 (N, H, W, C), got shape (28, 28)" instead of a
TensorFlow shape error ten frames deep.
"""

from __future__ import annotations

import numpy as np


def as_array(x, name: str):
    """``x`` as a NumPy array (tensors are converted); rejects None and non-numeric data."""
    if x is None:
        raise TypeError(f"{name} must be an array, got None")
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()
    arr = np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    return arr


def check_images(
    x,
    name: str = "images",
    *,
    channels: tuple[int, ...] | None = (1,),
    value_range: tuple[float, float] | None = (0.0, 1.0),
    size: tuple[int, int] | None = None,
) -> np.ndarray:
    """Validate a batch of float images, NHWC, and return it as a float32 array.

    Args:
        x: array or tensor of shape (N, H, W, C).
        channels: allowed channel counts (None: any).
        value_range: (low, high) every value must lie in (None: unchecked).
        size: required (H, W) (None: any).
    """
    arr = as_array(x, name)
    if arr.ndim != 4:
        hint = " (add a channel axis with x[..., None], or a batch axis with x[None])" if arr.ndim == 3 else ""
        raise ValueError(f"{name} must be rank 4 (N, H, W, C), got shape {arr.shape}{hint}")
    if not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(
            f"{name} must be floating point (e.g. float32 scaled to {value_range}), got dtype {arr.dtype}; "
            "scale uint8 pixels with kit.data.scale_images"
        )
    if channels is not None and arr.shape[-1] not in channels:
        raise ValueError(f"{name} must have {' or '.join(map(str, channels))} channel(s) (NHWC), got shape {arr.shape}")
    if size is not None and tuple(arr.shape[1:3]) != tuple(size):
        raise ValueError(f"{name} must be {size[0]}x{size[1]} pixels, got shape {arr.shape}")
    if arr.size and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if value_range is not None and arr.size:
        lo, hi = float(arr.min()), float(arr.max())
        tol = 1e-5
        if lo < value_range[0] - tol or hi > value_range[1] + tol:
            raise ValueError(f"{name} values must lie in [{value_range[0]}, {value_range[1]}], got [{lo:.4g}, {hi:.4g}]")
    return arr.astype(np.float32, copy=False)


def check_labels(y, n: int | None = None, num_classes: int | None = 10, name: str = "labels") -> np.ndarray:
    """Validate integer class labels of shape (N,) in [0, num_classes) (``None``: any non-negative id); returns int32."""
    arr = as_array(y, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be rank 1 (N,) integer class ids, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        if np.issubdtype(arr.dtype, np.floating) and arr.size and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise TypeError(f"{name} must be integer class ids, got dtype {arr.dtype}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} entries but there are {n} images")
    if arr.size and (arr.min() < 0 or (num_classes is not None and arr.max() >= num_classes)):
        raise ValueError(f"{name} must lie in [0, {'...' if num_classes is None else num_classes - 1}], got [{arr.min()}, {arr.max()}]")
    return arr.astype(np.int32, copy=False)


def check_epsilon(epsilon, name: str = "epsilon") -> float:
    """A finite, non-negative perturbation size (in pixel units of [0, 1] images)."""
    try:
        eps = float(epsilon)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {type(epsilon).__name__}") from None
    if not np.isfinite(eps) or eps < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {epsilon}")
    if eps > 1:
        raise ValueError(f"{name} is in pixel units of [0, 1] images and must be <= 1, got {epsilon}")
    return eps


def check_positive_int(value, name: str) -> int:
    """A whole number >= 1 (a bool, a float such as 2.5 or 2.0, or a string such as "100" is refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive integer, got {value!r} ({type(value).__name__})")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_optional_count(value, name: str) -> int | None:
    """``None`` (meaning "all of them") or a positive integer."""
    return None if value is None else check_positive_int(value, name)


def check_number(value, name: str, *, low: float | None = None, high: float | None = None, open_low: bool = False) -> float:
    """A finite real number within [low, high] (``open_low``: strictly above ``low``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if low is not None and (v <= low if open_low else v < low):
        raise ValueError(f"{name} must be {'>' if open_low else '>='} {low}, got {value!r}")
    if high is not None and v > high:
        raise ValueError(f"{name} must be <= {high}, got {value!r}")
    return v


def check_finite(x, name: str) -> np.ndarray:
    """``x`` as a numeric array with no NaN or infinity in it."""
    arr = as_array(x, name)
    if arr.size and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s)")
    return arr


def check_choice(value, choices, name: str):
    if value not in choices:
        raise ValueError(f"Unknown {name} {value!r}; expected one of {sorted(choices)}")
    return value
