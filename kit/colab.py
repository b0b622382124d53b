"""Google Colab: persistence on Google Drive in one call, and local storage when Drive is not wanted or fails.

A Colab runtime's disk disappears with the runtime. :func:`persist` mounts Google Drive and points the kit's
folders there (:mod:`kit.paths`): training checkpoints, the cached judge classifier and converted weights,
tensorflow-datasets data and TensorBoard logs. A new runtime then resumes training where the last one stopped
and reuses what was already trained or downloaded. Anywhere else it does nothing.

Drive is optional: ``persist(drive=False)`` or the environment variable ``KIT_DRIVE=0`` keep everything on the
runtime's own disk (:data:`LOCAL_ROOT`), and so does a mount that is declined, unavailable (a school account
without Drive) or fails for any other reason: one message says what failed and where things are kept now, and the
notebook runs on. Whatever fails, the folder settings from before the call are restored first, so nothing is left
pointing into a broken location.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from kit.paths import VARIABLES, artifact_dir, checkpoint_root, datasets_dir, log_root, set_folders

MOUNT_POINT = Path("/content/drive")
LOCAL_ROOT = Path("/content")  # the runtime's own disk: kept until the runtime ends
DEFAULT_FOLDER = "gan-course-kit"
DRIVE_VARIABLE = "KIT_DRIVE"
_NO = ("0", "false", "no", "off")
_YES = ("1", "true", "yes", "on", "")


def on_colab() -> bool:
    """Whether this Python runs in a Google Colab runtime."""
    return "google.colab" in sys.modules or (importlib.util.find_spec("google") is not None and importlib.util.find_spec("google.colab") is not None)


def drive_wanted(drive: bool | None = None) -> bool:
    """``drive`` if given, else ``$KIT_DRIVE`` (0/false/no/off: no Drive; unset, 1/true/yes/on: Drive)."""
    if drive is not None:
        if not isinstance(drive, bool):
            raise TypeError(f"drive must be True, False or None (None: ${DRIVE_VARIABLE}), got {drive!r}")
        return drive
    value = os.environ.get(DRIVE_VARIABLE, "").strip().lower()
    if value not in _NO + _YES:
        raise ValueError(f"{DRIVE_VARIABLE} must be 0 (keep everything on the runtime's disk) or 1 (Google Drive), got {value!r}")
    return value not in _NO


def _folders_under(root: Path) -> dict:
    folders = set_folders(artifacts=root / "artifacts", datasets=root / "tensorflow_datasets", checkpoints=root / "checkpoints",
                          logs=root / "logs")
    for path in folders.values():
        path.mkdir(parents=True, exist_ok=True)
    return folders


def _restore(saved: dict) -> None:
    for variable, value in saved.items():
        if value is None:
            os.environ.pop(variable, None)
        else:
            os.environ[variable] = value


def _local(local: Path, saved: dict, reason: str, advice: str = "") -> dict:
    """Keep the kit's folders under ``local`` and say why (``reason``); if even that fails, restore the settings
    in ``saved`` and say where the kit's default folders are."""
    try:
        folders = _folders_under(local)
    except Exception as err:  # a read-only or full disk: the defaults, which say so themselves when written to
        _restore(saved)
        print(f"{reason}, and {local} could not be made ({type(err).__name__}: {err}): the kit's default folders are used, "
              f"checkpoints in {checkpoint_root().resolve()}.{advice}")
        return {"artifacts": artifact_dir(), "datasets": datasets_dir(), "checkpoints": checkpoint_root(), "logs": log_root()}
    print(f"{reason}: checkpoints, trained artefacts, datasets and logs are kept on this runtime's disk in {local}; they are "
          f"lost when the runtime ends.{advice}")
    return folders


def persist(folder: str = DEFAULT_FOLDER, *, drive: bool | None = None, mount_point=None, local_root=None) -> dict | None:
    """On Colab: mount Google Drive (Colab asks for permission the first time) and keep the kit's folders in
    ``MyDrive/<folder>``; without Drive (``drive=False``, ``$KIT_DRIVE=0``, or a mount that is declined or fails)
    keep them in ``/content/<folder>`` on the runtime's disk, saying so. Elsewhere: nothing (returns None).

    Args:
        folder: a folder name inside your Drive (and under ``/content`` without it).
        drive: False: never mount Drive; None (default): ``$KIT_DRIVE``, Drive unless it is 0.

    Returns:
        ``{kind: Path}`` of the folders now in use (``artifacts``, ``datasets``, ``checkpoints``, ``logs``).
    """
    if not isinstance(folder, str) or not folder.strip() or folder.startswith("/") or ".." in Path(folder).parts:
        raise ValueError(f"folder must be a relative folder inside your Drive, e.g. 'gan-course-kit', got {folder!r}")
    if not on_colab():
        return None
    wanted = drive_wanted(drive)
    saved = {variable: os.environ.get(variable) for variable in VARIABLES.values()}
    local = Path(LOCAL_ROOT if local_root is None else local_root) / folder.strip("/")
    if not wanted:
        why = "drive=False" if drive is False else f"{DRIVE_VARIABLE}={os.environ.get(DRIVE_VARIABLE)}"
        return _local(local, saved, f"Google Drive not used ({why})")
    mount_point = Path(MOUNT_POINT if mount_point is None else mount_point)
    root = mount_point / "MyDrive" / folder.strip("/")
    try:
        from google.colab import drive as google_drive  # optional: the module exists only on Colab

        google_drive.mount(str(mount_point))
        if not (mount_point / "MyDrive").is_dir():
            raise FileNotFoundError(f"no {mount_point / 'MyDrive'} after mounting (an account without Google Drive?)")
        folders = _folders_under(root)
    except Exception as err:  # declined, no Drive on this account, a broken mount: run on without it
        _restore(saved)
        failure = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
        return _local(local, saved, f"Google Drive could not be used ({failure})",
                      f" Run this cell again to retry Drive; to skip it, run %env {DRIVE_VARIABLE}=0 first (or call kit.colab.persist(drive=False)).")
    except BaseException:  # interrupted: leave the folders as they were
        _restore(saved)
        raise
    print(f"Google Drive: checkpoints, trained artefacts, datasets and logs are kept in {root}")
    return folders
