"""Training on several devices with ``tf.distribute``, and the replica-aware pieces every ``train_step`` of
the kit uses, so that nothing in the kit assumes a single replica.

One line moves a notebook onto every GPU of a machine::

    strategy = kit.distribute.strategy()          # MirroredStrategy over the GPUs, or the default strategy
    with strategy.scope():
        gan = kit.gans.GAN(...)                   # build and compile inside the scope ...
        gan.compile(g_optimizer=..., d_optimizer=..., jit_compile=P.jit_compile)
    kit.gans.fit_gan(gan, make_dataset(x, batch_size=64 * strategy.num_replicas_in_sync), ...)  # ... fit as always

What the kit does for it (each one a documented pitfall of Keras 3 custom ``train_step`` models under a
strategy, TensorFlow backend, Keras 3.13-3.16):

- every model has a ``call()``, and ``compile`` builds both optimizers inside the scope;
- ``steps_per_execution`` stays 1 (:func:`check_steps_per_execution`);
- a hand-written mean over the replica's examples is divided by the number of replicas before its gradient
  (:func:`scale_for_replicas`), because the optimizer sums the replicas' gradients; the logged value is the
  unscaled one, which the metric trackers average over replicas;
- random draws fold the replica id into the seed (:func:`normal`, :func:`uniform`), because a
  ``keras.random.SeedGenerator`` gives every replica the same numbers;
- batch normalisation is synchronised across replicas (``BatchNormalization(synchronized=True)``, a no-op on
  one device), so N replicas compute what one replica computes on the global batch;
- variables that a ``train_step`` assigns itself (a weight average) are updated in cross-replica context
  (:func:`assign`).

Several machines: with ``TF_CONFIG`` set (the cluster's ``host:port`` workers and this process's task),
:func:`strategy` returns a ``MultiWorkerMirroredStrategy``; run the same script on every worker. Only the chief
(worker 0, or the task of type ``chief``) writes checkpoints (:func:`is_chief`); the others write theirs to a
temporary folder that is deleted at once, as the Keras multi-worker guide does, so that every worker runs the
same code (a save may need every worker) and none overwrites the chief's files. ``benchmarks/distribute.py
--multi-worker`` runs two worker processes on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import os

import tensorflow as tf
from keras import tree
from keras.src.backend.tensorflow import trainer  # private: its reduce_per_replica is fixed below (_mean_scalars_across_workers)

from kit.checks import check_positive_int

_NOISE_MODES = ("per_replica", "global")
_noise_mode = "per_replica"


def strategy(devices=None) -> tf.distribute.Strategy:
    """The strategy to build and train under: ``MirroredStrategy`` over ``devices`` (e.g. ``["/gpu:0",
    "/gpu:1"]`` or ``["/cpu:0", "/cpu:1"]`` for logical CPUs), else ``MultiWorkerMirroredStrategy`` when the
    environment variable ``TF_CONFIG`` describes a cluster (:func:`cluster_config`; call this first thing in
    the program, before TensorFlow runs anything), else ``MirroredStrategy`` over every visible GPU when there
    are two or more, else the default (single-device) strategy. ``devices`` and ``TF_CONFIG`` are checked
    before any strategy is built (:func:`check_devices`)."""
    if devices is None and os.environ.get("TF_CONFIG"):
        cluster_config()  # a readable error before TensorFlow's own
        # RING: the collective implementation that works on CPUs and on GPUs without NCCL.
        options = tf.distribute.experimental.CommunicationOptions(implementation=tf.distribute.experimental.CommunicationImplementation.RING)
        try:
            built = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
        except (RuntimeError, ValueError) as err:
            raise RuntimeError(f"cannot start MultiWorkerMirroredStrategy from TF_CONFIG ({err}): build the strategy first thing in a "
                               "fresh process, before TensorFlow runs any operation") from None
        _mean_scalars_across_workers()
        # Strategy.reduce is documented to take a nested structure; this strategy's does not (TensorFlow 2.20-2.21),
        # and Keras' fit reduces the first (images, labels) batch with it to build the model. One value at a time:
        reduce_one = built.reduce
        built.reduce = lambda reduce_op, value, axis: tf.nest.map_structure(lambda v: reduce_one(reduce_op, v, axis), value)
        return built
    if devices is not None:
        devices = check_devices(devices)
        return tf.distribute.MirroredStrategy(devices) if len(devices) > 1 else tf.distribute.OneDeviceStrategy(devices[0])
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy([d.name for d in gpus])
    return tf.distribute.get_strategy()


def _mean_scalars_across_workers() -> None:
    """Make Keras average a ``train_step``'s scalar logs across workers.

    Keras 3 (3.13 to 3.16, TensorFlow backend) reduces every value a ``train_step`` returns with
    ``strategy.reduce("MEAN", value, axis=0)`` under ``MultiWorkerMirroredStrategy``, which fails for the scalars
    that every ``train_step`` returns ("Invalid reduction dimension 0 for input with 0 dimensions",
    tensorflow/tensorflow#72388): ``fit`` cannot run at all. Kept here, not worked around in each model, because
    the students' ``train_step`` must stay the plain Keras one. Scalars are averaged over all replicas
    (``axis=None``); everything else goes to Keras' own function. Applied once, when such a strategy is built.
    """
    original = trainer.reduce_per_replica
    if getattr(original, "kit_scalar_fix", False):
        return

    def reduce_per_replica(values, strategy, reduction):
        if reduction not in ("auto", "mean") or not trainer._collective_all_reduce_multi_worker(strategy):
            return original(values, strategy, reduction)

        def one(value):
            if strategy.experimental_local_results(value)[0].shape.rank == 0:
                return strategy.reduce("MEAN", value, axis=None)
            return original(value, strategy, reduction)

        return tree.map_structure(one, values)

    reduce_per_replica.kit_scalar_fix = True
    trainer.reduce_per_replica = reduce_per_replica


def cluster_config(environ=None) -> dict | None:
    """``TF_CONFIG`` (from ``environ``, default ``os.environ``) read and checked: None when it is unset or empty,
    else the dict ``{"cluster": {"worker": ["host:port", ...], "chief": [...]?}, "task": {"type": ..., "index":
    ...}}``. A value that is not that raises ValueError naming what is wrong, for example::

        TF_CONFIG='{"cluster": {"worker": ["10.0.0.1:12345", "10.0.0.2:12345"]}, "task": {"type": "worker", "index": 0}}'
    """
    raw = (os.environ if environ is None else environ).get("TF_CONFIG", "")
    if not raw.strip():
        return None
    example = ('e.g. {"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}')
    if len(raw) > 1 << 20:
        raise ValueError(f"TF_CONFIG holds {len(raw)} characters; a cluster description is a few hundred ({example})")
    try:
        config = json.loads(raw)
    except ValueError as err:
        raise ValueError(f"TF_CONFIG must be JSON ({example}), got {raw[:120]!r}: {err}") from None
    if not isinstance(config, dict) or not isinstance(config.get("cluster"), dict) or not isinstance(config.get("task"), dict):
        raise ValueError(f"TF_CONFIG must be an object with a 'cluster' and a 'task' object ({example}), got {raw[:120]!r}")
    cluster, task = config["cluster"], config["task"]
    if set(cluster) - {"worker", "chief", "evaluator"}:
        raise ValueError(f"TF_CONFIG's cluster may name 'worker' and 'chief' tasks for MultiWorkerMirroredStrategy, got {sorted(cluster)}")
    for kind, addresses in cluster.items():
        if not isinstance(addresses, list) or not addresses or not all(
                isinstance(a, str) and a.rpartition(":")[0] and a.rpartition(":")[2].isdigit() for a in addresses):
            raise ValueError(f"TF_CONFIG's cluster[{kind!r}] must be a non-empty list of 'host:port' strings, got {addresses!r}")
    if "worker" not in cluster:
        raise ValueError(f"TF_CONFIG's cluster must list its workers under 'worker' ({example}), got {sorted(cluster)}")
    if len(cluster.get("chief", [])) > 1:
        raise ValueError(f"TF_CONFIG's cluster may have one chief, got {cluster['chief']!r}")
    everyone = [a for addresses in cluster.values() for a in addresses]
    twice = sorted({a for a in everyone if everyone.count(a) > 1})
    if twice:
        raise ValueError(f"TF_CONFIG's cluster names {twice} twice: every task needs its own host:port")
    kind, index = task.get("type"), task.get("index")
    if kind not in cluster or isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(cluster[kind]):
        raise ValueError(f"TF_CONFIG's task must name one of the cluster's tasks, type in {sorted(cluster)} and index below its count, "
                         f"got {task!r}")
    return config


def is_chief() -> bool:
    """Whether this process writes the run's files (checkpoints, figures, logs): always outside a multi-worker
    cluster; in one, the task of type ``chief``, or worker 0 when the cluster has no chief."""
    config = cluster_config()  # not the current strategy: callbacks may run outside its scope
    if config is None:
        return True
    kind, index = config["task"]["type"], config["task"]["index"]
    return kind == "chief" or (kind == "worker" and index == 0 and "chief" not in config["cluster"])


def _device_key(name: str) -> tuple[str, int] | None:
    """("GPU", 1) for "/gpu:1", "GPU:1", "/device:GPU:1" or "/job:localhost/replica:0/task:0/device:GPU:1"; None
    for a name that is not one device of one type and index ("gpu", "/gpu:x")."""
    try:
        spec = tf.DeviceSpec.from_string(name)
    except (ValueError, TypeError):
        return None
    if spec.device_type is None or spec.device_index is None or spec.job not in (None, "localhost"):
        return None
    return spec.device_type.upper(), int(spec.device_index)


def check_devices(devices) -> list[str]:
    """``devices`` as a list of device names once it is sure that a strategy can be built over them: a list (or
    tuple) of one or more names of single devices, no device twice, every one a logical device of this machine
    (``tf.config.list_logical_devices()``, after :func:`split_device` where used). Else TypeError or ValueError
    naming the devices at fault and the machine's devices."""
    if isinstance(devices, (str, bytes)):
        raise TypeError(f"devices must be a list of device names such as ['/gpu:0', '/gpu:1'], got the single string {devices!r}: "
                        f"write [{devices!r}]")
    if not isinstance(devices, (list, tuple)):
        raise TypeError(f"devices must be a list of device names such as ['/gpu:0', '/gpu:1'], got {type(devices).__name__} {devices!r}")
    devices = list(devices)
    if not devices or not all(isinstance(d, str) for d in devices):
        raise ValueError(f"devices must be a non-empty list of device names such as '/gpu:0', got {devices!r}")
    keys = [_device_key(d) for d in devices]
    unreadable = [d for d, k in zip(devices, keys) if k is None]
    if unreadable:
        raise ValueError(f"devices must name single local devices of a type and an index such as '/gpu:0' or '/cpu:1', got {unreadable!r}")
    twice = sorted({d for d, k in zip(devices, keys) if keys.count(k) > 1})
    if twice:
        raise ValueError(f"devices must name each device once (one replica per device), got {twice!r} more than once in {devices!r}")
    here = [d.name for d in tf.config.list_logical_devices()]
    known = {_device_key(name) for name in here}
    missing = [d for d, k in zip(devices, keys) if k not in known]
    if missing:
        raise ValueError(f"devices {missing!r} do not exist on this machine, whose logical devices are {here!r} (split one device into "
                         "several with kit.distribute.split_device at the top of a fresh kernel)")
    return devices


def split_device(kind: str = "GPU", parts: int = 2, *, memory_mb: int | None = None) -> list[str]:
    """Split the first physical ``kind`` device ("GPU" or "CPU") into ``parts`` logical devices, e.g. one T4
    into 2 logical GPUs for a classroom demonstration of MirroredStrategy. Must run before TensorFlow first
    uses the device (at the top of a fresh kernel or process). ``memory_mb``: each logical GPU's memory.

    Returns the logical device names, for :func:`strategy`."""
    parts = check_positive_int(parts, "parts")
    physical = tf.config.list_physical_devices(kind)
    if not physical:
        raise RuntimeError(f"no physical {kind} device to split")
    if kind == "GPU":
        if memory_mb is None:
            raise ValueError("splitting a GPU needs memory_mb, the memory of each logical GPU (e.g. 6000 for a 15 GB T4 in two)")
        config = [tf.config.LogicalDeviceConfiguration(memory_limit=check_positive_int(memory_mb, "memory_mb")) for _ in range(parts)]
    else:
        config = [tf.config.LogicalDeviceConfiguration() for _ in range(parts)]
    try:
        tf.config.set_logical_device_configuration(physical[0], config)
    except RuntimeError as err:
        raise RuntimeError(f"cannot split the {kind} now: TensorFlow has already initialised it ({err}); do it first thing in a "
                           "fresh kernel") from None
    return [d.name for d in tf.config.list_logical_devices(kind)]


def replicas() -> int:
    """How many replicas the current strategy runs in sync (1 outside any strategy)."""
    return tf.distribute.get_strategy().num_replicas_in_sync


def replica_id():
    """This replica's index (an int32 tensor under a strategy; 0 outside)."""
    ctx = tf.distribute.get_replica_context()
    if ctx is None:
        return tf.constant(0, tf.int32)
    return tf.cast(ctx.replica_id_in_sync_group, tf.int32)


def scale_for_replicas(loss):
    """A mean over this replica's examples, divided by the number of replicas: the optimizer *sums* the
    replicas' gradients, so this makes the update the gradient of the mean over the global batch."""
    n = replicas()
    return loss if n == 1 else loss / tf.cast(n, loss.dtype)


def check_steps_per_execution(steps_per_execution) -> int:
    """``steps_per_execution`` must stay 1 for the kit's models: larger values are broken under
    ``MirroredStrategy`` in Keras 3 (even for plain models), and the kit's checkpoints and guards act per step."""
    if steps_per_execution != 1:
        raise ValueError(f"steps_per_execution must be 1 for the kit's models (got {steps_per_execution!r}): larger values are "
                         "broken under tf.distribute in Keras 3")
    return 1


@contextlib.contextmanager
def noise_mode(mode: str):
    """Within the block (while models are traced, i.e. around ``fit``): ``"global"`` makes every replica
    take its slice of the noise one replica would draw for the whole global batch, so N replicas compute
    exactly what one does (for testing); ``"per_replica"`` (the default) draws independent noise per replica."""
    global _noise_mode
    if mode not in _NOISE_MODES:
        raise ValueError(f"noise mode must be one of {_NOISE_MODES}, got {mode!r}")
    old, _noise_mode = _noise_mode, mode
    try:
        yield
    finally:
        _noise_mode = old


def _draw(sample, shape, seed_generator):
    seed = tf.cast(seed_generator.next(), tf.int64)  # the same on every replica: they advance in lockstep
    shape = tuple(shape)
    n = replicas()
    if _noise_mode == "global":  # the global batch's noise, as one replica draws it; this replica's rows of it
        local = shape[0]
        full = sample((local * n, *shape[1:]), seed)
        start = replica_id() * local
        return full[start : start + local]
    return sample(shape, tf.random.experimental.stateless_fold_in(seed, tf.cast(replica_id(), tf.int64)))


def normal(shape, seed_generator, dtype="float32"):
    """Standard normal noise of ``shape`` from a ``keras.random.SeedGenerator``, different on every replica."""
    return _draw(lambda s, seed: tf.random.stateless_normal(s, seed, dtype=dtype), shape, seed_generator)


def uniform(shape, seed_generator, minval=0.0, maxval=1.0, dtype="float32"):
    """Uniform noise in [minval, maxval) of ``shape``, different on every replica."""
    return _draw(lambda s, seed: tf.random.stateless_uniform(s, seed, minval=minval, maxval=maxval, dtype=dtype), shape, seed_generator)


def randint(shape, seed_generator, minval: int, maxval: int):
    """Uniform integers in [minval, maxval) of ``shape`` (int32), different on every replica."""
    return _draw(lambda s, seed: tf.random.stateless_uniform(s, seed, minval=minval, maxval=maxval, dtype=tf.int32), shape, seed_generator)


def assign(variables, values) -> None:
    """``variable.assign(value)`` for each pair, also inside a ``train_step`` under a strategy (where a
    mirrored variable can only be updated from cross-replica context). The values must be the same on every
    replica (e.g. computed from synchronised weights)."""
    variables, values = list(variables), list(values)
    ctx = tf.distribute.get_replica_context()
    if ctx is None or tf.distribute.get_strategy().num_replicas_in_sync == 1 or not tf.distribute.has_strategy():
        for var, value in zip(variables, values):
            var.assign(value)
        return

    def update(strategy, pairs):
        for var, value in pairs:
            strategy.extended.update(getattr(var, "value", var), lambda v, x: v.assign(x), args=(value,), group=False)

    ctx.merge_call(update, args=(list(zip(variables, values)),))
