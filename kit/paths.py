"""Where the kit reads and writes: the Keras cache, trained artefacts, datasets, checkpoints and logs.

Every folder can be moved with an environment variable, which is how :func:`kit.colab.persist` puts them on
Google Drive and how ``make test`` gives every run fresh checkpoints:

============================  ==========================  ================================================
folder                        variable                    default
============================  ==========================  ================================================
Keras cache (Fashion-MNIST)   ``KERAS_HOME``              ``~/.keras`` (read by Keras when it is imported)
trained artefacts             ``KIT_ARTIFACTS``           ``<Keras cache>/kit-artifacts``
tensorflow-datasets data      ``KIT_DATASETS``            ``<Keras cache>/tensorflow_datasets``
training checkpoints          ``KIT_CHECKPOINTS``         ``./checkpoints`` (beside the notebook)
TensorBoard logs              ``KIT_LOGS``                ``./logs``
============================  ==========================  ================================================
"""

from __future__ import annotations

import os
from pathlib import Path

VARIABLES = {
    "artifacts": "KIT_ARTIFACTS",
    "datasets": "KIT_DATASETS",
    "checkpoints": "KIT_CHECKPOINTS",
    "logs": "KIT_LOGS",
}


def keras_cache_dir() -> Path:
    """The Keras cache: ``$KERAS_HOME``, else ``~/.keras``, as Keras resolves it. Unlike Keras' own downloader
    this never falls back to ``/tmp/.keras`` when the folder is read-only: a read-only cache is still read
    from, and a write into it fails with an error naming it."""
    home = os.environ.get("KERAS_HOME", "").strip()
    return Path(os.path.expanduser(home or os.path.join("~", ".keras")))


def _folder(kind: str, default: Path) -> Path:
    value = os.environ.get(VARIABLES[kind], "").strip()
    return Path(value).expanduser() if value else default


def artifact_dir() -> Path:
    """Trained artefacts the notebooks share (the judge classifier, converted weights): ``$KIT_ARTIFACTS``."""
    return _folder("artifacts", keras_cache_dir() / "kit-artifacts")


def datasets_dir() -> Path:
    """tensorflow-datasets' ``data_dir`` for the photo collections: ``$KIT_DATASETS``."""
    return _folder("datasets", keras_cache_dir() / "tensorflow_datasets")


def checkpoint_root() -> Path:
    """The folder under which each notebook keeps its training checkpoints: ``$KIT_CHECKPOINTS``."""
    return _folder("checkpoints", Path("checkpoints"))


def log_root() -> Path:
    """The folder under which TensorBoard logs go: ``$KIT_LOGS``."""
    return _folder("logs", Path("logs"))


def set_folders(**folders) -> dict:
    """Point some of the folders elsewhere for this process and the processes it starts, e.g.
    ``set_folders(checkpoints="/content/drive/MyDrive/gan-course/checkpoints")``. Keys: ``artifacts``,
    ``datasets``, ``checkpoints``, ``logs``. Returns ``{kind: Path}`` of what was set."""
    unknown = set(folders) - set(VARIABLES)
    if unknown:
        raise ValueError(f"unknown folder(s) {sorted(unknown)}; expected some of {sorted(VARIABLES)}")
    out = {}
    for kind, value in folders.items():
        if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
            raise TypeError(f"{kind} must be a folder path, got {value!r}")
        os.environ[VARIABLES[kind]] = str(Path(value).expanduser())
        out[kind] = Path(os.environ[VARIABLES[kind]])
    return out
