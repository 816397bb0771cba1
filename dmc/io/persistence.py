"""Save and load fitted models in files that run no code when read.

A class takes part by registering itself with :func:`storable` and saying what
it holds:

* ``_get_state(self) -> dict``: its state as plain values: None, bool, int,
  float, str, bytes, numpy arrays and scalars, torch tensors, lists, tuples
  and dicts of these, and other storable objects (stored by their registered
  name and their own state, recursively);
* ``_from_state(cls, state)`` (a classmethod), for an object stored inside
  another one: rebuild it from what ``_get_state`` returned;
* ``_set_state(self, state)``, for a model saved on its own (a scikit-learn
  style estimator): :func:`load` builds ``cls(**params)`` from the stored
  constructor parameters and hands it the state.

:func:`save` writes a fitted model of such a class with
:mod:`dmc.io.archive`: a zip archive of ``.npy`` arrays and a JSON manifest,
every part checksummed, written to a temporary file that replaces the target
only when complete, and read back with ``allow_pickle=False``. The archive's
kind is the registered name. :func:`load` rebuilds an object of the saved class
whose ``transform``, ``score``, ``predict``, ``recommend``, ``recommend_many``
and ``fold_in`` return bitwise what the saved object returned (on CPU).

What a file holds:

* the constructor parameters (``get_params()``). Some of them are not data and
  are not kept: a ``callback`` is stored as None, and a ``random_state`` that
  is a numpy Generator or RandomState as None (an int is kept). A
  ``distributed`` process group is stored as True. A numpy or
  torch ``dtype`` is stored by its name ("float32") and a ``torch.device`` as
  its string; both select the same precision and device as before.
* the model's state (``_get_state()``), a name for each entry: arrays as
  ``.npy`` with their dtype, torch tensors as CPU arrays with their
  requires-grad flag, numbers, strings, tuples and dicts as tagged JSON, id
  arrays as an int64, unicode or other plain array when they have one dtype
  (an object array of strings as unicode) and as tagged JSON items otherwise
  (mixed types, tuples, very large ints), so that they come back equal and of
  the same Python or numpy type.
* ``trained_on``, for information: the device of the first tensor among the
  model's attributes (a ratings model's deep fit), or else the model's
  ``device`` parameter.

Loading always builds CPU objects, whatever ``device`` the model was trained
on: tensors come back as CPU tensors. Nothing after ``fit`` uses ``device``
(transform, fold-in and recommendations are numpy), so a model trained with
``device="cuda"`` loads and predicts on a machine without CUDA; ``device`` keeps
its stored value and only a new ``fit`` there needs ``device="cpu"``.

Checksums prove a file intact, not sound: anyone who edits a file can recompute
them. So :func:`load` also checks what the file holds (:mod:`dmc.io.schemas`):
every array's dtype, shape and finiteness, every attribute's type, the names
of the attributes (none may hide a method), the parameters (by the class's
``_check_loaded``, as ``fit`` checks them) and the dmc version that wrote it.

Values that a file cannot hold without pickle (an arbitrary user class as an
id, complex numbers, an object of a class that is not registered) are refused
when saving, with a ``TypeError`` that names the value. A file whose kind is not
a registered class, or that names an unknown class inside, is refused when
loading with a :class:`~dmc.FileFormatError`.
"""

from __future__ import annotations

import functools
import importlib.metadata
import math
import numbers
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.exceptions import NotFittedError

from ..exceptions import FileFormatError
from . import archive, schemas

__all__ = ["load", "save", "storable"]

#: registered name -> class, and back
_CLASSES: dict[str, type] = {}
_NAMES: dict[type, str] = {}

#: names of registered classes, and attribute names accepted from a file:
#: public or single-underscore, never dunder
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.]*")
_ATTRIBUTE = re.compile(r"_?[A-Za-z][A-Za-z0-9_]*")

_INT64 = np.iinfo(np.int64)


def storable(name: str) -> Callable[[type], type]:
    """Class decorator: register the class under ``name``, the stable name files use.

    The class must define ``_get_state`` and ``_from_state`` (when its objects
    are stored inside others) or ``_set_state`` and ``get_params`` (when it is
    saved on its own, as a scikit-learn estimator); see the module docstring.

    Raises
    ------
    ValueError
        If another class is already registered under ``name``, or this class
        under another name.
    TypeError
        If ``name`` is not a name, or the class lacks the methods.

    Examples
    --------
    >>> from dmc.io import storable
    >>> @storable("example.Scale")
    ... class Scale:
    ...     def __init__(self, factor):
    ...         self.factor = factor
    ...
    ...     def _get_state(self):
    ...         return {"factor": self.factor}
    ...
    ...     @classmethod
    ...     def _from_state(cls, state):
    ...         return cls(state["factor"])
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise TypeError(
            "The 'name' parameter of storable must be a str of letters, digits, '_' and '.', "
            f"starting with a letter. Got {name!r} instead."
        )

    def register(cls):
        if not isinstance(cls, type):
            raise TypeError(f"storable({name!r}) decorates a class. Got {cls!r} instead.")
        methods = {m for m in ("_get_state", "_from_state", "_set_state") if hasattr(cls, m)}
        if "_get_state" not in methods or len(methods) < 2:
            raise TypeError(
                f"A storable class must define _get_state and _from_state or _set_state. "
                f"Got {cls.__qualname__} without them."
            )
        if "_set_state" in methods and not hasattr(cls, "get_params"):
            raise TypeError(
                "A storable class saved on its own (with _set_state) must have get_params, "
                f"as scikit-learn estimators do. Got {cls.__qualname__} without it."
            )
        existing = _CLASSES.get(name)
        if existing is not None and existing is not cls:
            raise ValueError(
                f"The storable name {name!r} is already registered by "
                f"{existing.__module__}.{existing.__qualname__}. Got "
                f"{cls.__module__}.{cls.__qualname__} for it too."
            )
        if _NAMES.get(cls, name) != name:
            raise ValueError(
                f"{cls.__qualname__} is already registered as {_NAMES[cls]!r}. Got {name!r} too."
            )
        _CLASSES[name] = cls
        _NAMES[cls] = name
        return cls

    return register


def _models() -> list[str]:
    """Names of the registered classes that are saved on their own, sorted."""
    return sorted(name for name, cls in _CLASSES.items() if hasattr(cls, "_set_state"))


def save(model: Any, path: str | os.PathLike) -> Path:
    """Write a fitted model to ``path``; return the path.

    Parameters
    ----------
    model : DeepMatrixCompletion or RatingsModel
        A fitted model of a registered class (see :func:`storable`).
    path : str or os.PathLike
        The file to write (any name; ``.dmc`` is the convention), in an existing
        folder. An existing regular file is replaced only once the new one is
        complete, keeping its permissions (never setuid, setgid or sticky bits);
        anything else there (a folder, a symbolic link, a FIFO, a device) is
        refused and left untouched.

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``model`` is not fitted.
    TypeError
        If ``model`` is of another class, or holds a value (an id of a user
        class, say) that cannot be stored without pickle, or ``path`` is not a
        str or os.PathLike.
    ValueError
        If ``path`` is empty, or names something other than a regular file.
    FileNotFoundError
        If the folder of ``path`` does not exist.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import dmc
    >>> M = dmc.low_rank_matrix((30, 20), 2, random_state=0).to_dense()
    >>> X = np.where(np.random.default_rng(0).random(M.shape) < 0.7, M, np.nan)
    >>> imputer = dmc.DeepMatrixCompletion(rank=2, random_state=0).fit(X)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = dmc.io.save(imputer, os.path.join(folder, "imputer.dmc"))
    ...     restored = dmc.load(path)
    >>> bool(np.array_equal(restored.transform(X), imputer.transform(X)))
    True
    """
    cls = type(model)
    kind = _NAMES.get(cls)
    if kind not in _models():
        raise TypeError(
            f"The 'model' parameter must be a {' or a '.join(_models())}. "
            f"Got {cls.__name__} instead."
        )
    if not _is_fitted(model):
        raise NotFittedError(f"This {cls.__name__} is not fitted yet: call 'fit' before saving it.")
    path = archive.writable_path(path)  # before any work: checked again just before writing
    arrays: dict[str, np.ndarray] = {}
    params = {}
    for name, value in model.get_params(deep=False).items():
        value = _storable_param(name, value)
        params[name] = _encode_named(value, arrays, name, f"parameter {name!r}", cls)
    state = model._get_state()
    if not isinstance(state, dict) or not all(
        isinstance(name, str) and _ATTRIBUTE.fullmatch(name) for name in state
    ):
        raise TypeError(
            f"{cls.__name__}._get_state must return a dict keyed by attribute names. "
            f"Got {type(state).__name__} {state!r:.80} instead."
        )
    encoded = {
        name: _encode_named(value, arrays, name, f"attribute {name!r}", cls)
        for name, value in state.items()
    }
    meta = {
        "dmc_version": _version(),
        "trained_on": _trained_on(model),
        "params": params,
        "state": encoded,
    }
    return archive.write_archive(path, kind, meta, arrays)


def load(path: str | os.PathLike, cls: type | None = None) -> Any:
    """Read a model written by :func:`save` (or a model's ``save`` method).

    The file's kind says which class comes back. Loading runs no code from the
    file: there is no pickle in it, and a truncated, damaged or edited file
    raises :class:`~dmc.FileFormatError` rather than giving a model with
    wrong numbers.

    Parameters
    ----------
    path : str or os.PathLike
    cls : type or None
        If given (as the classes' ``load`` methods do), the class the file must
        hold; a file of another kind raises :class:`~dmc.FileFormatError`.

    Returns
    -------
    model : DeepMatrixCompletion or RatingsModel
        Fitted, on the CPU, with the stored parameters (see
        :mod:`dmc.io.persistence` for the two that are not kept).

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    TypeError, ValueError
        If ``path`` is not a str or os.PathLike, is empty, or names something
        other than a regular file (a folder, a FIFO).
    dmc.FileFormatError
        If the file is not a dmc model file, is truncated or damaged, holds a
        kind of model that is not registered, or another kind than ``cls``; or
        if what it holds is unsound, checksums or not: an array of the wrong
        dtype or shape, NaN or inf where a fitted model has none, a parameter
        that ``fit`` would refuse, an attribute that would hide a method, a
        file written by a newer dmc (see :mod:`dmc.io.schemas`).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import dmc
    >>> rng = np.random.default_rng(0)
    >>> pairs = rng.permutation(30 * 20)[:300]
    >>> users, items = pairs // 20, pairs % 20
    >>> ratings = np.clip(np.round(3 + users % 3 - items % 2 + rng.normal(0, 0.5, 300)), 1, 5)
    >>> model = dmc.RatingsModel(rank=2, random_state=0).fit(users, items, ratings)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = model.save(os.path.join(folder, "ratings.dmc"))
    ...     restored = dmc.load(path)
    >>> type(restored).__name__
    'RatingsModel'
    >>> bool(np.array_equal(restored.predict(users, items), model.predict(users, items)))
    True
    """
    meta, arrays, kind = archive.read_archive(path, tuple(_models()))
    shown = repr(os.fspath(path))
    if cls is not None and kind != _NAMES.get(cls, cls.__name__):
        raise FileFormatError(
            f"{shown} holds a {kind}, not a {cls.__name__}: load it with {kind}.load(path) "
            "or dmc.load(path)."
        )
    try:
        return _build(_CLASSES[kind], meta, arrays)
    except (
        KeyError,
        TypeError,
        ValueError,
        AttributeError,
        IndexError,
        RecursionError,
        OverflowError,
        RuntimeError,
    ) as exc:
        # (FileFormatError is a ValueError: the path is added to its message too)
        raise FileFormatError(f"{shown} holds a malformed {kind}: {exc}") from exc


# -- parameters and state --------------------------------------------------------------


def _storable_param(name, value):
    """The value of a parameter as it is stored (see the module docstring)."""
    if name == "callback":
        return None
    if name == "random_state":
        integral = isinstance(value, numbers.Integral) and not isinstance(value, bool)
        return value if value is None or integral else None
    if name == "distributed":  # a process group is not data: True stands for it
        return value if isinstance(value, bool) else value is not None
    if isinstance(value, torch.device):
        return str(value)
    if isinstance(value, torch.dtype):
        return str(value).removeprefix("torch.")
    if name == "dtype" and value is not None and not isinstance(value, str):
        try:
            return np.dtype(value).name
        except TypeError:
            return value
    return value


@functools.cache
def _version() -> str | None:
    try:
        return importlib.metadata.version("dmc")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - not installed
        return None


def _trained_on(model) -> str:
    """The device of the first tensor among the model's attributes, else its ``device``."""
    device = _first_device(vars(model), set())
    return str(device) if device is not None else str(getattr(model, "device", "cpu"))


def _first_device(value, seen):
    """The device of the first tensor in ``value``: in containers, torch modules and
    registered objects, looked through (once each); None if there is none."""
    if isinstance(value, torch.Tensor):
        return value.device
    if isinstance(value, torch.nn.Module):
        return next((t.device for t in (*value.parameters(), *value.buffers())), None)
    if isinstance(value, dict):
        children = value.values()
    elif isinstance(value, (list, tuple)):
        children = value
    elif type(value) in _NAMES and hasattr(value, "__dict__"):
        children = vars(value).values()
    else:
        return None
    if id(value) in seen:
        return None
    seen.add(id(value))
    for child in children:
        if (device := _first_device(child, seen)) is not None:
            return device
    return None


def _build(cls, meta, arrays):
    """The model a file describes, every value checked (:mod:`dmc.io.schemas`) first."""
    schemas.check_version(meta.get("dmc_version"), _version())
    if not isinstance(meta.get("trained_on"), str):
        raise FileFormatError(
            f"'trained_on' must be a str. Got {meta.get('trained_on')!r:.40} instead"
        )
    params_node, state_node = meta["params"], meta["state"]
    if not isinstance(params_node, dict) or not isinstance(state_node, dict):
        raise FileFormatError("the parameters and the state must be JSON objects")
    params = {
        name: schemas.check_param(name, _decode(node, arrays)) for name, node in params_node.items()
    }
    for name in state_node:
        if not _ATTRIBUTE.fullmatch(name) or name in params:
            raise FileFormatError(f"the file names an invalid attribute {name!r}")
        if hasattr(cls, name):  # a method or a property of the class: never replaced
            raise FileFormatError(
                f"an attribute of the file must not hide a method or property of "
                f"{cls.__name__}. Got {name!r} instead"
            )
    if not state_node:
        raise FileFormatError("the file holds no fitted attributes")
    state = {name: _decode(node, arrays) for name, node in state_node.items()}
    schemas.check_state(_NAMES[cls], state, _name_of)
    model = cls(**params)
    model._set_state(state)
    if not _is_fitted(model):
        raise FileFormatError("the file holds no fitted attributes")
    if hasattr(model, "_check_loaded"):  # the parameters, checked as fit checks them
        model._check_loaded()
    return model


def _name_of(value) -> str | None:
    """The registered name of ``value``'s class (None for other values)."""
    return _NAMES.get(type(value))


def _is_fitted(model) -> bool:
    """scikit-learn's rule (``check_is_fitted``): an attribute ending in "_" exists."""
    return any(name.endswith("_") and not name.startswith("__") for name in vars(model))


# -- values <-> JSON nodes and arrays ----------------------------------------------------
#
# None, bool, int, float and str are themselves; a list is a JSON list (or an
# array, when it is a long run of floats or ints); every other value is a JSON
# object tagged with "$".


def _encode_named(value, arrays, name, what, cls):
    try:
        return _encode(value, arrays, name)
    except TypeError as exc:
        raise TypeError(f"Cannot save the {what} of this {cls.__name__}: {exc}") from None


def _encode(value, arrays, hint):
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, np.ndarray):
        return _encode_array(value, arrays, hint)
    if isinstance(value, np.generic):
        if value.dtype.kind in "biu" or (value.dtype.kind == "f" and value.dtype.itemsize <= 8):
            return {"$": "scalar", "dtype": value.dtype.str, "value": value.item()}
        return {"$": "scalar", "array": _add(arrays, hint, _plain(np.asarray(value), hint))}
    if isinstance(value, torch.Tensor):
        return _encode_tensor(value, arrays, hint)
    if type(value) is list:
        return _encode_list(value, arrays, hint)
    if type(value) is tuple:
        items = [_encode(v, arrays, f"{hint}.{t}") for t, v in enumerate(value)]
        return {"$": "tuple", "items": items}
    if type(value) is dict:
        pairs = [
            [_encode(k, arrays, hint), _encode(v, arrays, f"{hint}.{k}")] for k, v in value.items()
        ]
        return {"$": "dict", "items": pairs}
    if type(value) is bytes:
        return {"$": "bytes", "hex": value.hex()}
    name = _NAMES.get(type(value))
    if name is not None and hasattr(type(value), "_from_state"):
        state = _encode(value._get_state(), arrays, hint)
        return {"$": "object", "class": name, "state": state}
    raise TypeError(
        f"a value of type {type(value).__name__} ({value!r:.80}) cannot be stored without pickle."
    )


def _decode(node, arrays):
    if node is None or type(node) in (bool, int, float, str):
        return node
    if type(node) is list:
        return [_decode(v, arrays) for v in node]
    if type(node) is not dict:
        raise FileFormatError(f"unexpected value {node!r:.80}")
    tag = node["$"]
    if tag == "array":
        return arrays[node["array"]]
    if tag == "list":
        return arrays[node["array"]].tolist()
    if tag == "object_array":
        return _decode_object_array(node, arrays)
    if tag == "scalar":
        if "array" in node:
            return arrays[node["array"]][()]
        return _decode_scalar(node["dtype"], node["value"])
    if tag == "tensor":
        return _decode_tensor(node, arrays)
    if tag == "tuple":
        return tuple(_decode(v, arrays) for v in node["items"])
    if tag == "dict":
        return {_decode(k, arrays): _decode(v, arrays) for k, v in node["items"]}
    if tag == "bytes":
        return bytes.fromhex(node["hex"])
    if tag == "object":
        kind = node["class"]
        cls = _CLASSES.get(kind) if isinstance(kind, str) else None
        if cls is None or not hasattr(cls, "_from_state"):
            raise FileFormatError(f"unknown storable class {kind!r:.80}")
        state = _decode(node["state"], arrays)
        try:
            schemas.check_state(kind, state, _name_of)
        except FileFormatError as exc:
            raise FileFormatError(f"in a stored {kind}: {exc}") from None
        value = cls._from_state(state)
        schemas.check_built(kind, value)
        return value
    raise FileFormatError(f"unknown value tag {tag!r:.80}")


def _decode_scalar(dtype, value):
    """A numpy scalar of a numeric ``dtype`` holding ``value``, which must fit in it."""
    dtype = np.dtype(dtype)
    if dtype.kind not in "biuf":
        raise FileFormatError(f"unexpected scalar dtype {dtype.str!r}")
    kinds = {"b": (bool,), "i": (int,), "u": (int,), "f": (int, float)}[dtype.kind]
    fits = type(value) in kinds
    if fits and dtype.kind in "iu":
        info = np.iinfo(dtype)
        fits = info.min <= value <= info.max
    elif fits and dtype.kind == "f":  # no overflow to inf (inf and nan are kept)
        try:
            x = float(value)
        except OverflowError:
            x = math.inf
        fits = (not math.isfinite(x) and type(value) is float) or abs(x) <= float(
            np.finfo(dtype).max
        )
    if not fits:
        raise FileFormatError(
            f"a scalar of dtype {dtype.str} must hold a value of that type and range. Got "
            f"{value!r:.40} instead"
        )
    return dtype.type(value)


def _add(arrays, hint, array) -> str:
    """Store ``array`` under a readable name made from ``hint``; return the name."""
    base = re.sub(r"[^A-Za-z0-9_.-]", "_", hint)[:80] or "array"
    name, n = base, 1
    while name in arrays:
        n += 1
        name = f"{base}~{n}"
    arrays[name] = array
    return name


def _plain(array, hint):
    if array.dtype.kind not in archive._ALLOWED_KINDS:
        raise TypeError(
            f"an array of dtype {array.dtype} ({hint}) cannot be stored without pickle."
        )
    return array


def _encode_array(array, arrays, hint):
    if array.dtype != object:
        return {"$": "array", "array": _add(arrays, hint, _plain(array, hint))}
    items = list(array.ravel())
    # numpy's unicode arrays drop trailing NULs: such strings go to JSON
    if all(type(v) is str and not v.endswith("\0") for v in items):
        text = np.array(items, dtype=str).reshape(array.shape)
        return {"$": "object_array", "array": _add(arrays, hint, text)}
    encoded = [_encode(v, arrays, f"{hint}.{t}") for t, v in enumerate(items)]
    return {"$": "object_array", "shape": list(array.shape), "items": encoded}


def _decode_object_array(node, arrays):
    if "array" in node:
        text = arrays[node["array"]]
        if text.dtype.kind != "U":
            raise FileFormatError("an object array of strings must be stored as unicode")
        out = np.empty(text.shape, dtype=object)
        out.ravel()[:] = text.ravel().tolist()
        return out
    items = [_decode(v, arrays) for v in node["items"]]
    out = np.empty(len(items), dtype=object)
    out[:] = items  # element by element: tuples stay elements
    return out.reshape(tuple(node["shape"]))


def _encode_tensor(tensor, arrays, hint):
    """A tensor as a CPU numpy array, with its requires-grad flag."""
    if tensor.layout != torch.strided:
        raise TypeError(
            f"a {tensor.layout} tensor ({hint}) cannot be stored without pickle; "
            "only dense tensors are."
        )
    try:
        array = tensor.detach().cpu().resolve_conj().resolve_neg().numpy()
    except (TypeError, RuntimeError) as exc:  # bfloat16 and the like have no numpy dtype
        raise TypeError(
            f"a tensor of dtype {tensor.dtype} ({hint}) cannot be stored without pickle ({exc})."
        ) from None
    return {
        "$": "tensor",
        "array": _add(arrays, hint, _plain(array, hint)),
        "requires_grad": bool(tensor.requires_grad),
    }


def _decode_tensor(node, arrays):
    array = arrays[node["array"]]
    if array.dtype.kind not in "biuf":
        raise FileFormatError(f"a tensor must be a numeric array. Got dtype {array.dtype}")
    tensor = torch.from_numpy(array)
    if node["requires_grad"] is True:
        if array.dtype.kind != "f":
            raise FileFormatError(f"a tensor of dtype {array.dtype} cannot require gradients")
        tensor.requires_grad_(True)
    return tensor


def _encode_list(values, arrays, hint):
    if len(values) > 1 and all(type(v) is float for v in values):
        return {"$": "list", "array": _add(arrays, hint, np.array(values, dtype=np.float64))}
    if len(values) > 1 and all(type(v) is int and _INT64.min <= v <= _INT64.max for v in values):
        return {"$": "list", "array": _add(arrays, hint, np.array(values, dtype=np.int64))}
    return [_encode(v, arrays, f"{hint}.{t}") for t, v in enumerate(values)]
