"""Save and load fitted models in files that run no code when read.

:func:`save` writes a fitted :class:`~dmc.DeepMatrixCompletion` or
:class:`~dmc.RatingsModel` with :mod:`dmc._io`: a zip archive of ``.npy``
arrays and a JSON manifest, every part checksummed, written to a temporary
file that replaces the target only when complete, and read back with
``allow_pickle=False``. :func:`load` rebuilds an object of the saved class
whose ``transform``, ``score``, ``predict``, ``recommend``, ``recommend_many``
and ``fold_in`` return bitwise what the saved object returned (on CPU).

What a file holds:

* the constructor parameters. Two of them are not data and are not kept: a
  ``callback`` is stored as None, and a ``random_state`` that is a numpy
  Generator or RandomState as None (an int is kept). A numpy or torch
  ``dtype`` is stored by its name ("float32") and a ``torch.device`` as its
  string; both select the same precision and device as before.
* every attribute that ``fit`` (and ``fold_in``) set, under its own name:
  arrays as ``.npy`` with their dtype, numbers, strings, tuples and dicts as
  tagged JSON, the ids of a ratings model as an int64, unicode or other plain
  array when they have one dtype (an object array of strings as unicode) and
  as tagged JSON items otherwise (mixed types, tuples, very large ints), so
  that they come back equal and of the same Python or numpy type.
* a ratings model's deep fit ``completion_``: its factor tensors (copied to the
  CPU), requires-grad flags, method, iteration count, stop reason and history.
  It is rebuilt as a :class:`~dmc.CompletionResult` on the CPU, so ``.predict``,
  ``.factors()``, ``.to_dense()`` and ``.history`` keep working.
* ``trained_on``, for information: the device of a ratings model's deep fit,
  or the estimator's ``device`` parameter (it keeps no tensors).

Loading always builds CPU objects, whatever ``device`` the model was trained
on. Nothing after ``fit`` uses ``device`` (transform, fold-in and
recommendations are numpy), so a model trained with ``device="cuda"`` loads and
predicts on a machine without CUDA; ``device`` keeps its stored value and only a
new ``fit`` there needs ``device="cpu"``.

Ids, dtypes and attribute types that a file cannot hold without pickle (an
arbitrary user class as an id, complex numbers) are refused when saving, with
a ``TypeError`` that names the value.
"""

from __future__ import annotations

import inspect
import numbers
import os
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from sklearn.exceptions import NotFittedError

from ..core.complete import CompletionResult
from ..core.models import CompressedNetwork, DeepNetwork
from ..exceptions import FileFormatError
from ..impute.estimator import DeepMatrixCompletion
from ..recommend.model import RatingsModel, _IdIndex, _Prior, _Seen
from . import archive

__all__ = ["load", "save"]

#: the classes a dmc model file can hold; the file's kind is the class name
_CLASSES = {cls.__name__: cls for cls in (DeepMatrixCompletion, RatingsModel)}

#: attribute names accepted from a file: public or single-underscore, never dunder
_ATTRIBUTE = re.compile(r"_?[A-Za-z][A-Za-z0-9_]*")

_INT64 = np.iinfo(np.int64)


def save(model, path) -> Path:
    """Write a fitted model to ``path``; return the path.

    Parameters
    ----------
    model : DeepMatrixCompletion or RatingsModel
        A fitted model.
    path : str or os.PathLike
        The file to write (any name; ``.dmc`` is the convention). An existing
        file is replaced only once the new one is complete.

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``model`` is not fitted.
    TypeError
        If ``model`` is of another class, or holds a value (an id of a user
        class, say) that cannot be stored without pickle.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import dmc
    >>> M = dmc.low_rank_matrix((30, 20), 2, random_state=0).to_dense()
    >>> X = np.where(np.random.default_rng(0).random(M.shape) < 0.7, M, np.nan)
    >>> imputer = dmc.DeepMatrixCompletion(rank=2, random_state=0).fit(X)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = dmc.io.persistence.save(imputer, os.path.join(folder, "imputer.dmc"))
    ...     restored = dmc.load(path)
    >>> bool(np.array_equal(restored.transform(X), imputer.transform(X)))
    True
    """
    cls = type(model)
    if _CLASSES.get(cls.__name__) is not cls:
        raise TypeError(
            "The 'model' parameter must be a DeepMatrixCompletion or a RatingsModel. "
            f"Got {cls.__name__} instead."
        )
    if not _is_fitted(model):
        raise NotFittedError(f"This {cls.__name__} is not fitted yet: call 'fit' before saving it.")
    arrays = {}
    params = {}
    for name in _param_names(cls):
        value = _storable_param(name, getattr(model, name))
        params[name] = _encode_named(value, arrays, name, f"parameter {name!r}", cls)
    attributes = {
        name: _encode_named(value, arrays, name, f"attribute {name!r}", cls)
        for name, value in vars(model).items()
        if name not in params
    }
    import dmc  # the package, for its version (it imports this module)

    meta = {
        "dmc_version": dmc.__version__,
        "trained_on": _trained_on(model),
        "params": params,
        "attributes": attributes,
    }
    return archive.write_archive(path, cls.__name__, meta, arrays)


def load(path, cls=None):
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
        Fitted, on the CPU, with the stored parameters (see :mod:`dmc.persistence`
        for the two that are not kept).

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    dmc.FileFormatError
        If the file is not a dmc model file, is truncated or damaged, or holds
        another kind of model than ``cls``.

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
    meta, arrays, kind = archive.read_archive(path, tuple(_CLASSES))
    shown = repr(os.fspath(path))
    if cls is not None and kind != cls.__name__:
        raise FileFormatError(
            f"{shown} holds a {kind}, not a {cls.__name__}: load it with {kind}.load(path) "
            "or dmc.load(path)."
        )
    try:
        return _build(_CLASSES[kind], meta, arrays)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError) as exc:
        # (FileFormatError is a ValueError: the path is added to its message too)
        raise FileFormatError(f"{shown} holds a malformed {kind}: {exc}") from exc


# -- parameters and attributes ---------------------------------------------------------


def _param_names(cls) -> list[str]:
    """The constructor's parameters (as scikit-learn's ``get_params`` finds them)."""
    return [name for name in inspect.signature(cls.__init__).parameters if name != "self"]


def _storable_param(name, value):
    """The value of a parameter as it is stored (see the module docstring)."""
    if name == "callback":
        return None
    if name == "random_state":
        integral = isinstance(value, numbers.Integral) and not isinstance(value, bool)
        return value if value is None or integral else None
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


def _trained_on(model) -> str:
    result = getattr(model, "completion_", None)
    if isinstance(result, CompletionResult):
        return str(next(result.model.parameters()).device)
    return str(getattr(model, "device", "cpu"))


def _build(cls, meta, arrays):
    params = {name: _decode(node, arrays) for name, node in meta["params"].items()}
    model = cls(**params)
    for name, node in meta["attributes"].items():
        if not _ATTRIBUTE.fullmatch(name) or name in params:
            raise FileFormatError(f"the file names an invalid attribute {name!r}")
        setattr(model, name, _decode(node, arrays))
    if not _is_fitted(model):
        raise FileFormatError("the file holds no fitted attributes")
    return model


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
    if type(value) is _IdIndex:
        return {"$": "id_index", "ids": _encode(value.ids, arrays, hint), "sorted": value._sorted}
    if type(value) is _Seen:
        return _encode_seen(value, arrays, hint)
    if type(value) is _Prior:
        fields = {f: _encode(getattr(value, f), arrays, f"{hint}.{f}") for f in _Prior._fields}
        return {"$": "prior", **fields}
    if type(value) is CompletionResult:
        return _encode_completion(value, arrays, hint)
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
        dtype = np.dtype(node["dtype"])
        if dtype.kind not in "biuf":
            raise FileFormatError(f"unexpected scalar dtype {node['dtype']!r}")
        return dtype.type(node["value"])
    if tag == "tuple":
        return tuple(_decode(v, arrays) for v in node["items"])
    if tag == "dict":
        return {_decode(k, arrays): _decode(v, arrays) for k, v in node["items"]}
    if tag == "bytes":
        return bytes.fromhex(node["hex"])
    if tag == "id_index":
        ids = _decode(node["ids"], arrays)
        if not isinstance(ids, np.ndarray) or ids.ndim != 1:
            raise FileFormatError("the ids of an index must be a 1-D array")
        return _IdIndex(ids, bool(node["sorted"]))
    if tag == "seen":
        return _decode_seen(node, arrays)
    if tag == "prior":
        return _Prior(*(_decode(node[f], arrays) for f in _Prior._fields))
    if tag == "completion":
        return _decode_completion(node, arrays)
    raise FileFormatError(f"unknown value tag {tag!r}")


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


def _encode_list(values, arrays, hint):
    if len(values) > 1 and all(type(v) is float for v in values):
        return {"$": "list", "array": _add(arrays, hint, np.array(values, dtype=np.float64))}
    if len(values) > 1 and all(type(v) is int and _INT64.min <= v <= _INT64.max for v in values):
        return {"$": "list", "array": _add(arrays, hint, np.array(values, dtype=np.int64))}
    return [_encode(v, arrays, f"{hint}.{t}") for t, v in enumerate(values)]


def _encode_seen(seen, arrays, hint):
    users = np.array([int(u) for u in seen.overrides], dtype=np.int64)
    lists = [np.asarray(v, dtype=np.int64) for v in seen.overrides.values()]
    ptr = np.concatenate([[0], np.cumsum([v.size for v in lists], dtype=np.int64)])
    items = np.concatenate(lists) if lists else np.zeros(0, dtype=np.int64)
    return {
        "$": "seen",
        "ptr": _encode(seen.ptr, arrays, f"{hint}.ptr"),
        "items": _encode(seen.items, arrays, f"{hint}.items"),
        "override_users": _encode(users, arrays, f"{hint}.override_users"),
        "override_ptr": _encode(ptr.astype(np.int64), arrays, f"{hint}.override_ptr"),
        "override_items": _encode(items, arrays, f"{hint}.override_items"),
    }


def _decode_seen(node, arrays):
    users = _decode(node["override_users"], arrays)
    ptr = _decode(node["override_ptr"], arrays)
    items = _decode(node["override_items"], arrays)
    overrides = {int(u): items[ptr[t] : ptr[t + 1]].copy() for t, u in enumerate(users.tolist())}
    return _Seen(_decode(node["ptr"], arrays), _decode(node["items"], arrays), overrides)


# -- the deep fit of a ratings model -------------------------------------------------------

#: attributes of a CompletionResult that its constructor derives from the model
_DERIVED = ("model", "shape", "n_parameters")


def _encode_completion(result, arrays, hint):
    model = result.model

    def tensor(t, name):
        return _encode(t.detach().cpu().numpy(), arrays, f"{hint}.{name}")

    if type(model) is CompressedNetwork:
        factors = {
            "class": "CompressedNetwork",
            "U": tensor(model.U, "U"),
            "cores": [tensor(c, f"core{t}") for t, c in enumerate(model.cores)],
            "V": tensor(model.V, "V"),
            "gamma": model.gamma,
        }
    elif type(model) is DeepNetwork:
        factors = {
            "class": "DeepNetwork",
            "weights": [tensor(w, f"weight{t}") for t, w in enumerate(model.weights)],
            "dense_predict": bool(model.dense_predict),
        }
    else:
        raise TypeError(f"a deep fit of type {type(model).__name__} cannot be saved.")
    state = {
        name: _encode(value, arrays, f"{hint}.{name}")
        for name, value in vars(result).items()
        if name not in _DERIVED
    }
    return {
        "$": "completion",
        "model": factors,
        "requires_grad": [p.requires_grad for p in model.parameters()],
        "state": state,
    }


def _decode_completion(node, arrays):
    factors = node["model"]

    def tensor(sub):
        array = _decode(sub, arrays)
        if not isinstance(array, np.ndarray) or array.dtype.kind != "f":
            raise FileFormatError("the factors of a deep fit must be float arrays")
        return torch.from_numpy(array)

    if factors["class"] == "CompressedNetwork":
        cores = [tensor(c) for c in factors["cores"]]
        gamma = float(factors["gamma"])
        model = CompressedNetwork(tensor(factors["U"]), cores, tensor(factors["V"]), gamma)
    elif factors["class"] == "DeepNetwork":
        weights = [tensor(w) for w in factors["weights"]]
        model = DeepNetwork(weights, dense_predict=bool(factors["dense_predict"]))
    else:
        raise FileFormatError(f"unknown deep fit {factors['class']!r}")
    flags = node["requires_grad"]
    parameters = list(model.parameters())
    if len(flags) != len(parameters):
        raise FileFormatError("the deep fit's requires-grad flags do not match its factors")
    for parameter, flag in zip(parameters, flags):
        parameter.requires_grad_(bool(flag))
    state = {name: _decode(value, arrays) for name, value in node["state"].items()}
    result = CompletionResult(model, state["method"], SimpleNamespace(**state))
    for name, value in state.items():
        if not _ATTRIBUTE.fullmatch(name):
            raise FileFormatError(f"the file names an invalid attribute {name!r}")
        setattr(result, name, value)
    return result
