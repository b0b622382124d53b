"""Google Colab: persistence on Google Drive in one call.

A Colab runtime's disk disappears with the runtime. :func:`persist` mounts Google Drive and points the kit's
folders there (:mod:`kit.paths`): training checkpoints, the cached judge classifier and converted weights,
tensorflow-datasets data and TensorBoard logs. A new runtime then resumes training where the last one stopped
and reuses what was already trained or downloaded. Anywhere else it does nothing.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from kit.paths import set_folders

MOUNT_POINT = Path("/content/drive")
DEFAULT_FOLDER = "gan-course-kit"


def on_colab() -> bool:
    """Whether this Python runs in a Google Colab runtime."""
    return "google.colab" in sys.modules or (importlib.util.find_spec("google") is not None and importlib.util.find_spec("google.colab") is not None)


def persist(folder: str = DEFAULT_FOLDER, *, mount_point=MOUNT_POINT) -> dict | None:
    """On Colab: mount Google Drive (Colab asks for permission the first time) and keep the kit's folders in
    ``MyDrive/<folder>``. Elsewhere: nothing (returns None).

    Returns:
        ``{kind: Path}`` of the folders now on Drive (``artifacts``, ``datasets``, ``checkpoints``, ``logs``).
    """
    if not isinstance(folder, str) or not folder.strip() or folder.startswith("/") or ".." in Path(folder).parts:
        raise ValueError(f"folder must be a relative folder inside your Drive, e.g. 'gan-course-kit', got {folder!r}")
    if not on_colab():
        return None
    from google.colab import drive  # optional: the module exists only on Colab

    mount_point = Path(mount_point)
    drive.mount(str(mount_point))
    root = mount_point / "MyDrive" / folder.strip("/")
    folders = set_folders(artifacts=root / "artifacts", datasets=root / "tensorflow_datasets", checkpoints=root / "checkpoints",
                          logs=root / "logs")
    for path in folders.values():
        path.mkdir(parents=True, exist_ok=True)
    print(f"Google Drive: checkpoints, trained artefacts, datasets and logs are kept in {root}")
    return folders
