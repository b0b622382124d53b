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
import tempfile
from pathlib import Path

VARIABLES = {
    "artifacts": "KIT_ARTIFACTS",
    "datasets": "KIT_DATASETS",
    "checkpoints": "KIT_CHECKPOINTS",
    "logs": "KIT_LOGS",
}


class UnwritableFolderError(ValueError):
    """A folder the kit was asked to write into (checkpoints, logs) cannot be created or written; the message
    names it and the part of its path that is in the way."""


def check_writable_folder(folder, name: str) -> Path:
    """``folder`` as a ``Path`` once it is sure that it can be created (or exists) and takes new files; checked
    before any training, so a run does not fail after its first epoch. Nothing is left behind: the folder is not
    created, and the probe file written into its nearest existing ancestor is removed at once.

    Raises:
        TypeError: ``folder`` is not a path (str or os.PathLike).
        UnwritableFolderError: a part of the path is a file, or the nearest existing folder refuses new files
            (read-only), naming ``name``, the folder and the part in the way.
    """
    if not isinstance(folder, (str, os.PathLike)) or not str(folder).strip():
        raise TypeError(f"{name} must be a folder path (a str or pathlib.Path), got {folder!r} ({type(folder).__name__})")
    path = Path(folder).expanduser()
    existing = path
    try:
        while not existing.exists() and existing.parent != existing:  # the nearest ancestor that exists (a file under /x/file/y: /x/file)
            existing = existing.parent
    except OSError as err:  # a folder on the way that may not be entered
        raise UnwritableFolderError(f"{name} {path} cannot be written: {existing.parent} cannot be entered ({err.strerror or err}); "
                                    "pass a folder you can write to") from None
    if not existing.is_dir():
        raise UnwritableFolderError(f"{name} {path} cannot be created: {existing} is a file, not a folder; pass another folder")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as err:
        raise UnwritableFolderError(f"{name} {path} cannot be written: {existing} refuses new files ({err.strerror or err}); "
                                    "pass a folder you can write to") from None
    return path


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
