"""Training checkpoints that keep the last good state, resume exactly, and know what they were trained with.

Layout of one training run's folder (``fit_gan(..., checkpoint_dir=...)``)::

    <checkpoint_dir>/
        run-<fingerprint>/            one folder per recipe (model config, losses, optimizers, data, profile)
            epoch-0002/               the previous good checkpoint, kept until the next one is complete
            epoch-0003/               the newest: state.json (epoch, history, recipe) + variables.npz
            .tmp-epoch-0004-<pid>/    being written; renamed into place only when complete

Why not ``keras.callbacks.BackupAndRestore``: it saves the model's weights and the optimizer with
``model.save_weights``, which leaves out every ``keras.random.SeedGenerator`` state (the latent noise and
dropout streams), knows nothing of the data order, writes its weights and its JSON metadata as two separate
steps (a kill between them resumes one epoch off), and keeps its backup copy whatever the weights hold, so a
diverged state can replace the last good one. A checkpoint here is every variable of the model and its
optimizers (seed generators included) in one file plus the epoch in the same folder, renamed into place
atomically, and only after the state passed a health check.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import json
import os
import re
import shutil
import tempfile
import textwrap
import types
import zipfile
from pathlib import Path

import numpy as np

from kit.checks import check_positive_int
from kit.distribute import is_chief

STATE = "state.json"
VARIABLES = "variables.npz"
FORMAT = 1
MAX_STATE_BYTES = 64 * 2**20  # a state (history, epoch, recipe) is kilobytes; a bigger file is not one of ours
_EPOCH_DIR = re.compile(r"^epoch-(\d{4,})$")
_RUN_DIR = re.compile(r"^run-([0-9a-f]{10})$")


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used: damaged, or saved by another model. The message names the folder."""


class UnhealthyStateError(FloatingPointError):
    """The model's state failed the health check before a checkpoint (non-finite weights or outputs)."""


# -- fingerprints --------------------------------------------------------------------------------------------


def _plain(value):
    """JSON-able, order-stable form of configs (numpy scalars, tuples, nested dicts)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def digest(value, length: int = 10) -> str:
    """A short stable hash of a JSON-able value."""
    return hashlib.sha256(json.dumps(_plain(value), sort_keys=True).encode()).hexdigest()[:length]


def _source_tree(fn) -> str | None:
    """The syntax tree of ``fn``'s source without docstrings (so comments, blank lines, docstrings and line
    numbers do not count), or None when its source cannot be read (code typed into some notebook front ends)."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return None
    try:
        tree = ast.parse(source)
    except SyntaxError:  # a lambda in the middle of an expression: its lines as they are
        return source
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def _compiled(code: types.CodeType) -> list:
    """Bytecode, names and constants of a code object, nested functions included (no file name or line numbers)."""
    consts = [_compiled(c) if isinstance(c, types.CodeType) else sorted(map(repr, c)) if isinstance(c, frozenset) else repr(c)
              for c in code.co_consts]
    return [code.co_code.hex(), list(code.co_names), consts]


def _plain_values(values) -> list:
    return [_plain(v) if isinstance(v, (str, int, float, bool, type(None), tuple)) else type(v).__name__ for v in values]


def _code(obj):
    """What :func:`code_digest` hashes for one function, method, ``functools.partial`` or object holding functions."""
    if isinstance(obj, functools.partial):
        return ["partial", _code(obj.func), _plain_values(obj.args), {k: _plain_values([v])[0] for k, v in obj.keywords.items()}]
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    if isinstance(obj, property):
        return [_code(f) for f in (obj.fget, obj.fset) if f is not None]
    obj = getattr(obj, "python_function", obj)  # a tf.function: the Python function it traces
    if inspect.ismethod(obj):
        obj = obj.__func__
    obj = inspect.unwrap(obj) if callable(obj) else obj
    if inspect.isfunction(obj):
        closure = _plain_values(c.cell_contents for c in obj.__closure__ or () if _filled(c))
        # A lambda's source is its whole line, other lambdas on it included: its compiled code is its own.
        tree = _source_tree(obj) if obj.__code__.co_name != "<lambda>" else None
        return [tree if tree is not None else _compiled(obj.__code__), _plain_values(obj.__defaults__ or ()), closure]
    if inspect.isbuiltin(obj) or isinstance(obj, type):
        return f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', type(obj).__name__)}"
    # An object holding the code (a kit.gans.GANLoss, a callable object): its class's own methods.
    cls = type(obj)
    return [cls.__qualname__, [_code(v) for _, v in sorted(vars(cls).items())
                               if inspect.isfunction(v) or isinstance(v, (staticmethod, classmethod, property))]]


def _filled(cell) -> bool:
    try:
        cell.cell_contents
    except ValueError:  # an empty cell
        return False
    return True


def code_digest(*functions, length: int = 10) -> str:
    """A short hash of the code of ``functions`` (functions, methods, ``functools.partial``, or objects whose
    class's methods count) that changes when that code changes: the syntax tree of the source where
    ``inspect`` can read it (a comment or docstring does not count), else the compiled code (bytecode, names and
    constants, nested functions included), which classes defined in a notebook cell may need. Plain values a
    function closes over or takes as defaults count too."""
    return digest([_code(f) for f in functions], length)


def method_code_digest(cls: type, method: str, stop: type) -> str:
    """:func:`code_digest` of ``method`` as every class of ``cls``'s MRO below ``stop`` defines it, and of the
    methods of those classes it calls by name (``self.d_step(...)``, nested functions included), so that a
    helper's change counts as the method's change."""
    own = [c for c in cls.__mro__ if c is not stop and issubclass(c, stop)]
    found, todo, seen = [], [method], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for c in own:
            fn = c.__dict__.get(name)
            if fn is None or not (inspect.isfunction(fn) or isinstance(fn, (staticmethod, classmethod, property))):
                continue
            found.append((f"{c.__qualname__}.{name}", fn))
            code = getattr(getattr(fn, "__func__", fn), "__code__", None)
            stack = [code] if code is not None else []
            while stack:
                co = stack.pop()
                todo.extend(co.co_names)
                stack.extend(k for k in co.co_consts if isinstance(k, types.CodeType))
    return digest([[name, _code(fn)] for name, fn in sorted(found, key=lambda item: item[0])])


def fingerprint(recipe: dict) -> str:
    """The recipe's hash: the name of its ``run-<hash>`` folder."""
    return digest(recipe)


def _show(value) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def describe_difference(old: dict, new: dict) -> list[str]:
    """Human-readable lines for the entries of two recipes that differ, e.g. ``g_optimizer.learning_rate:
    0.0002 -> 0.0001``."""
    lines = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, "(absent)"), new.get(key, "(absent)")
        if _plain(a) != _plain(b):
            changed = " changed" if key.endswith(" source") else ""  # e.g. "train_step source changed: 1f0c... -> 9a2b..."
            lines.append(f"{key}{changed}: {_show(a)} -> {_show(b)}")
    return lines


# -- the checkpoint folder -----------------------------------------------------------------------------------


class Checkpoints:
    """The checkpoints of one training recipe under ``root`` (see the module docstring).

    Args:
        root: the notebook's checkpoint folder for this model (e.g. ``checkpoint_root() / "02_dcgan"``).
        recipe: a flat dict of what the model is trained with; its hash names the run folder, and a run folder
            of another recipe is never resumed.
        keep: complete checkpoints kept (at least 2: the newest and the one before it).
    """

    def __init__(self, root, recipe: dict, *, keep: int = 2):
        self.root = Path(root)
        self.recipe = _plain(recipe)
        self.keep = max(2, check_positive_int(keep, "keep"))
        self.run = self.root / f"run-{fingerprint(self.recipe)}"

    # ---- what is there
    def epochs(self) -> list[int]:
        """Completed epochs with a checkpoint, oldest first."""
        if not self.run.is_dir():
            return []
        return sorted(int(m.group(1)) for p in self.run.iterdir() if p.is_dir() and (m := _EPOCH_DIR.match(p.name)))

    def folder(self, epoch: int) -> Path:
        return self.run / f"epoch-{epoch:04d}"

    def other_runs(self) -> list[tuple[Path, dict | None]]:
        """The run folders of other recipes under ``root`` (newest first), with their recipes when readable."""
        if not self.root.is_dir():
            return []
        runs = [p for p in self.root.iterdir() if p.is_dir() and _RUN_DIR.match(p.name) and p != self.run]
        out = []
        for run in sorted(runs, key=lambda p: p.stat().st_mtime, reverse=True):
            recipe = None
            for ep in sorted((d for d in run.iterdir() if _EPOCH_DIR.match(d.name)), reverse=True):
                try:
                    recipe = json.loads((ep / STATE).read_text())["recipe"]
                    break
                except (OSError, ValueError, KeyError):
                    continue
            out.append((run, recipe))
        return out

    def explain_fresh_start(self) -> str | None:
        """Why training starts afresh although checkpoints of this model exist: the differences between the
        newest other recipe and this one (None when there is nothing to explain)."""
        others = self.other_runs()
        if not others or self.epochs():
            return None
        run, recipe = others[0]
        diff = describe_difference(recipe, self.recipe) if recipe is not None else ["(its recipe could not be read)"]
        return (f"Checkpoints in {run} were trained with other settings, so they are not resumed; training afresh in "
                f"{self.run.name}. What differs:\n  " + "\n  ".join(diff[:12]))

    # ---- writing
    def save(self, epoch: int, variables: dict, state: dict) -> Path:
        """Write checkpoint ``epoch`` atomically: ``variables`` ({name: array}) and ``state`` (JSON-able) into a
        temporary folder, then renamed into place; older checkpoints beyond ``keep`` are then removed.

        In a multi-worker cluster only the chief writes here (:func:`kit.distribute.is_chief`); every other worker
        writes the same files into a temporary folder of its own, deleted at once (and returns that path), so
        that all workers run the same code and none touches the chief's checkpoints."""
        epoch = check_positive_int(epoch, "epoch")
        if not is_chief():
            scratch = Path(tempfile.mkdtemp(prefix="kit-worker-checkpoint-"))
            try:
                return self._write(scratch / self.folder(epoch).name, epoch, variables, state)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
        self.run.mkdir(parents=True, exist_ok=True)
        final = self.folder(epoch)
        self._write(final, epoch, variables, state)
        for old in self.epochs()[: -self.keep]:
            shutil.rmtree(self.folder(old), ignore_errors=True)
        self._remove_stale_temporaries()
        return final

    def _write(self, final: Path, epoch: int, variables: dict, state: dict) -> Path:
        """Write the checkpoint into ``final``'s sibling temporary folder and rename it to ``final``."""
        tmp = final.parent / f".tmp-{final.name}-{os.getpid()}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        with open(tmp / VARIABLES, "wb") as f:
            np.savez(f, **variables)
            f.flush()
            os.fsync(f.fileno())
        doc = {"format": FORMAT, "epoch": epoch, "recipe": self.recipe, **_plain(state)}
        with open(tmp / STATE, "w") as f:
            json.dump(doc, f)
            f.flush()
            os.fsync(f.fileno())
        if final.exists():  # a checkpoint of this epoch from an earlier, interrupted attempt
            shutil.rmtree(final)
        os.replace(tmp, final)
        return final

    def _remove_stale_temporaries(self):
        for p in self.run.glob(".tmp-epoch-*"):
            shutil.rmtree(p, ignore_errors=True)

    # ---- reading
    def load(self, epoch: int | None = None) -> tuple[dict, dict]:
        """``(state, variables)`` of checkpoint ``epoch`` (default: the newest). A damaged checkpoint raises
        :class:`CheckpointError` naming its folder."""
        epochs = self.epochs()
        if not epochs:
            raise CheckpointError(f"no checkpoint in {self.run}")
        want = epochs[-1] if epoch is None else epoch
        folder = self.folder(want)
        older = [e for e in epochs if e < want]
        hint = (f"delete {folder} to resume from epoch {older[-1]}" if older else f"delete {self.run}") + ", or the whole folder to start afresh"
        try:
            if (folder / STATE).stat().st_size > MAX_STATE_BYTES:  # never parse an unbounded file
                raise ValueError(f"{(folder / STATE).stat().st_size} bytes, more than the {MAX_STATE_BYTES} a state holds")
            state = json.loads((folder / STATE).read_text())
            if not isinstance(state, dict) or state.get("format") != FORMAT or not isinstance(state.get("epoch"), int):
                raise ValueError(f"unknown checkpoint format {state.get('format') if isinstance(state, dict) else type(state).__name__!r}")
        except (OSError, ValueError) as err:
            raise CheckpointError(f"checkpoint {folder} is damaged: its {STATE} cannot be read ({type(err).__name__}: {err}); {hint}") from None
        # An edited or moved state: the folder names the epoch and the recipe's hash; the file must agree with both.
        if state["epoch"] != want:
            raise CheckpointError(f"checkpoint {folder} is damaged: its {STATE} says epoch {state['epoch']}, its folder epoch {want}; {hint}")
        if _plain(state.get("recipe")) != self.recipe:
            diff = describe_difference(state.get("recipe") if isinstance(state.get("recipe"), dict) else {}, self.recipe)
            raise CheckpointError(f"checkpoint {folder} is damaged: the recipe in its {STATE} is not the one its folder was made for "
                                  f"({'; '.join(diff[:3])}); {hint}")
        try:
            with np.load(folder / VARIABLES, allow_pickle=False) as npz:  # never unpickle a checkpoint
                variables = {k: npz[k] for k in npz.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
            raise CheckpointError(f"checkpoint {folder} is damaged: its {VARIABLES} cannot be read ({type(err).__name__}: {err}); {hint}") from None
        odd = [k for k, a in variables.items() if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool)]
        if odd:
            raise CheckpointError(f"checkpoint {folder} is damaged: {VARIABLES} holds non-numeric arrays {odd[:3]}; {hint}")
        return state, variables


# -- models <-> arrays ---------------------------------------------------------------------------------------


def collect_variables(model, optimizers: dict) -> dict:
    """Every variable of ``model`` (weights, statistics, seed-generator states) and of each optimizer in
    ``optimizers`` ({name: optimizer}), as ``{"model/<i>": array, "<name>/<i>": array}`` in their fixed order."""
    out = {f"model/{i:04d}": np.asarray(v) for i, v in enumerate(model.variables)}
    for name, opt in optimizers.items():
        out.update({f"{name}/{i:04d}": np.asarray(v) for i, v in enumerate(opt.variables)})
    return out


def _variable_table(model, optimizers: dict) -> dict:
    table = {f"model/{i:04d}": v for i, v in enumerate(model.variables)}
    for name, opt in optimizers.items():
        table.update({f"{name}/{i:04d}": v for i, v in enumerate(opt.variables)})
    return table


def restore_variables(model, optimizers: dict, arrays: dict, where: Path) -> None:
    """Assign saved ``arrays`` back to the variables :func:`collect_variables` read them from; any mismatch in
    names or shapes raises :class:`CheckpointError` (a different model saved them)."""
    table = _variable_table(model, optimizers)
    if set(table) != set(arrays):
        missing, extra = sorted(set(table) - set(arrays))[:5], sorted(set(arrays) - set(table))[:5]
        raise CheckpointError(f"the checkpoint in {where} was saved by a different model or optimizer (variables missing: {missing}, "
                              f"unexpected: {extra}); delete that folder to start afresh")
    for key, var in table.items():
        if tuple(var.shape) != tuple(arrays[key].shape):
            raise CheckpointError(f"the checkpoint in {where} was saved by a different model: {var.path} has shape {tuple(var.shape)}, "
                                  f"the checkpoint {arrays[key].shape}; delete that folder to start afresh")
    for key, var in table.items():
        var.assign(arrays[key])


def weights_digest(model) -> str:
    """A short hash of ``model``'s current weights (a strided sample of every variable's bytes): what a model
    trained against another one records, so it is not reused once that one changed."""
    h = hashlib.sha256()
    for v in model.weights:
        a = np.ascontiguousarray(np.asarray(v)).reshape(-1)
        h.update(a[:: max(1, a.size // 4096)].tobytes())
    return h.hexdigest()[:10]


def finite_state(arrays: dict) -> list[str]:
    """Names of the floating-point arrays holding NaN or infinity (empty when the state is finite)."""
    return [k for k, a in arrays.items() if np.issubdtype(a.dtype, np.floating) and not np.all(np.isfinite(a))]
