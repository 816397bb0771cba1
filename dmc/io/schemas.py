"""What a dmc file of each kind must hold, checked on load before anything is built.

Checksums prove that a file is intact, not that it is sound: anyone who edits
a file can recompute them. So :func:`dmc.io.load` checks every value it decodes
against the schema of its kind (the name its class is registered under with
:func:`~dmc.io.storable`): which attributes there are, and for each its type,
dtype, shape (with the sizes that must agree between attributes, such as the
number of features) and whether it must be finite. Objects stored inside others
(ids, seen items, the deep fit) are checked the same way before their class
rebuilds them, and once rebuilt against the object that holds them.

A value that fails raises :class:`~dmc.exceptions.FileFormatError` naming the
attribute, what it must be and what the file holds. The schemas are part of the
file format: a new fitted attribute needs its line here (the tests save a fitted
model of every kind and load it back, so a missing line does not go unnoticed).
Classes registered by users have no schema; their own ``_from_state`` or
``_set_state`` checks what they read. The parameters of a model are checked by
the class itself, as its ``fit`` checks them (its ``_check_loaded`` method).
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Sized
from typing import NoReturn

import numpy as np
import torch

from .._validation import resolve_dtype
from ..exceptions import FileFormatError

__all__ = ["check_built", "check_param", "check_state", "check_version"]

#: ``check(value, context, where)``: raises FileFormatError when ``value`` is unsound
Check = Callable[[object, "Context", str], None]


class Context:
    """The sizes named so far while checking one object (e.g. ``n_features``)."""

    def __init__(self, name_of: Callable[[object], str | None]):
        self.sizes: dict[str, int] = {}
        self.name_of = name_of

    def bind(self, dim: str, size: int, where: str) -> None:
        known = self.sizes.setdefault(dim, size)
        if known != size:
            raise FileFormatError(
                f"{where} must have {dim} = {known}, as the attributes before it. Got "
                f"{dim} = {size} instead."
            )


def _show(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    if isinstance(value, torch.Tensor):
        return f"a tensor of dtype {value.dtype} and shape {tuple(value.shape)}"
    return f"{type(value).__name__} {value!r:.60}"


def _fail(where: str, expected: str, value, detail: str = "") -> NoReturn:
    raise FileFormatError(f"{where} must be {expected}. Got {detail or _show(value)} instead.")


# -- checks of one value -------------------------------------------------------------------


def integer(low: int | None = None, dim: str | None = None) -> Check:
    """An int (Python or numpy) ≥ ``low``; ``dim``: it names a size other values share."""
    expected = "an int" + ("" if low is None else f" ≥ {low}")

    def check(value, ctx, where):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            _fail(where, expected, value)
        if low is not None and value < low:
            _fail(where, expected, value)
        if dim is not None:
            ctx.bind(dim, int(value), where)

    return check


def real(
    low: float | None = None, high: float | None = None, *, above: bool = False, finite=True
) -> Check:
    """A real number (not a bool) in ``[low, high]`` (``(low, high]`` when ``above``)."""
    expected = ("a finite " if finite else "a ") + "real number"
    if low is not None or high is not None:
        expected += f" in {'(' if above else '['}{low if low is not None else '-inf'}, "
        expected += f"{high if high is not None else 'inf'}]"

    def check(value, ctx, where):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            _fail(where, expected, value)
        x = float(value)
        if finite and not np.isfinite(x):
            _fail(where, expected, value)
        if low is not None and (x <= low if above else x < low):
            _fail(where, expected, value)
        if high is not None and x > high:
            _fail(where, expected, value)

    return check


def boolean() -> Check:
    def check(value, ctx, where):
        if not isinstance(value, (bool, np.bool_)):
            _fail(where, "True or False", value)

    return check


def text() -> Check:
    def check(value, ctx, where):
        if not isinstance(value, str):
            _fail(where, "a str", value)

    return check


def anything() -> Check:
    """Any value the file format can hold (its decoder already refused the rest)."""
    return lambda value, ctx, where: None


def optional(inner: Check) -> Check:
    def check(value, ctx, where):
        if value is not None:
            inner(value, ctx, where)

    return check


def either(*checks: Check) -> Check:
    """The first check that passes; else the last one's error."""

    def check(value, ctx, where):
        for candidate in checks[:-1]:
            try:
                return candidate(value, ctx, where)
            except FileFormatError:
                continue
        checks[-1](value, ctx, where)

    return check


def pair(first: Check, second: Check, *, order: str = "") -> Check:
    """A tuple of two values; ``order``: "<" or "<=" between them when both are numbers."""

    def check(value, ctx, where):
        if type(value) is not tuple or len(value) != 2:
            _fail(where, "a tuple of two values", value)
        first(value[0], ctx, f"the first value of {where}")
        second(value[1], ctx, f"the second value of {where}")
        low, high = value
        if order and low is not None and high is not None:
            if not (low < high if order == "<" else low <= high):
                _fail(where, f"a pair (low, high) with low {order} high", value)

    return check


def mapping(key: Check, item: Check) -> Check:
    def check(value, ctx, where):
        if type(value) is not dict:
            _fail(where, "a dict", value)
        for k, v in value.items():
            key(k, ctx, f"a key of {where}")
            item(v, ctx, f"the entry {k!r:.40} of {where}")

    return check


def record(fields: dict[str, Check]) -> Check:
    """A dict with exactly the keys of ``fields``, each checked by its check."""

    def check(value, ctx, where):
        if type(value) is not dict or set(value) != set(fields):
            shown = sorted(map(str, value)) if type(value) is dict else value
            _fail(where, f"a dict with the keys {sorted(fields)}", shown, f"{shown!r:.200}")
        for name, inner in fields.items():
            inner(value[name], ctx, f"the entry {name!r} of {where}")

    return check


def sequence(item: Check, dim: str | None = None) -> Check:
    """A list, each item checked; ``dim`` names its length."""

    def check(value, ctx, where):
        if type(value) is not list:
            _fail(where, "a list", value)
        if dim is not None:
            ctx.bind(dim, len(value), where)
        for t, v in enumerate(value):
            item(v, ctx, f"item {t} of {where}")

    return check


_KIND_NAMES = {"f": "float32 or float64", "b": "bool", "i": "int", "u": "unsigned int"}


def array(kinds: str = "f", shape=None, *, finite: bool = True, low=None) -> Check:
    """A numpy array whose dtype kind is among ``kinds`` ("f": float32 or float64 only).

    ``shape``: a tuple of sizes, each an int, the name of a size the attributes
    share (bound by the first that has it) or None (any); ``finite``: no NaN or
    inf (NaT for dates); ``low``: no value below it.
    """
    dims = "" if shape is None else " of shape (" + ", ".join(map(str, shape)) + ")"
    names = " or ".join(_KIND_NAMES.get(k, repr(k)) for k in kinds)
    expected = ("a finite " if finite else "an ") + f"array of {names}{dims}"
    if low is not None:
        expected += f", no value below {low}"

    def check(value, ctx, where):
        if not isinstance(value, np.ndarray) or value.dtype.kind not in kinds:
            _fail(where, expected, value)
        if value.dtype.kind == "f" and value.dtype not in (np.float32, np.float64):
            _fail(where, expected, value)
        if shape is not None:
            if value.ndim != len(shape):
                _fail(where, expected, value)
            for size, n in zip(shape, value.shape):
                if isinstance(size, str):
                    ctx.bind(size, n, where)
                elif size is not None and size != n:
                    _fail(where, expected, value)
        if finite and value.dtype.kind in "fmM" and not _finite(value).all():
            _fail(where, expected, value, f"{_show(value)} holding NaN or inf")
        if low is not None and value.size and not (value >= low).all():
            _fail(where, expected, value, f"{_show(value)} with values below {low}")

    return check


def _finite(value: np.ndarray) -> np.ndarray:
    return ~np.isnat(value) if value.dtype.kind in "mM" else np.isfinite(value)


def tensor() -> Check:
    """A finite float32 or float64 tensor of 1 or 2 dimensions (the factors of a model)."""
    expected = "a finite float32 or float64 tensor of 1 or 2 dimensions"

    def check(value, ctx, where):
        if (
            not isinstance(value, torch.Tensor)
            or value.dtype not in (torch.float32, torch.float64)
            or value.dim() not in (1, 2)
        ):
            _fail(where, expected, value)
        if not torch.isfinite(value).all():
            _fail(where, expected, value, f"{_show(value)} holding NaN or inf")

    return check


def instance(kind: str, then: Check | None = None) -> Check:
    """An object of the class registered as ``kind``; ``then`` checks it further."""

    def check(value, ctx, where):
        if ctx.name_of(value) != kind:
            _fail(where, f"a {kind}", value, type(value).__name__)
        if then is not None:
            then(value, ctx, where)

    return check


# -- cross-checks of objects inside a ratings model ----------------------------------------


def _index_of(dim: str) -> Check:
    def check(index, ctx, where):
        if not isinstance(index, Sized):
            _fail(where, "an index of ids", index)
        ctx.bind(dim, len(index), where)

    return check


def _seen_fits(seen, ctx, where) -> None:
    """The seen items name users and items of the model."""
    n_users, n_items = ctx.sizes["n_users"], ctx.sizes["n_items"]
    users = np.fromiter(seen.overrides, dtype=np.int64, count=len(seen.overrides))
    items = [seen.items, *seen.overrides.values()]
    if seen.ptr.size - 1 > n_users or (users.size and users.max() >= n_users):
        _fail(where, f"the items of at most n_users = {n_users} users", seen, "more users")
    if any(v.size and v.max() >= n_items for v in items):
        _fail(where, f"item indices below n_items = {n_items}", seen, "larger indices")


def _completion_fits(result, ctx, where) -> None:
    m, n = result.shape
    if n > ctx.sizes["n_items"] or m > ctx.sizes["n_users"]:  # fold-ins add rows and columns
        _fail(
            where,
            f"a fit of at most n_users = {ctx.sizes['n_users']} rows and at most n_items = "
            f"{ctx.sizes['n_items']} columns",
            result,
            f"a fit of shape {result.shape}",
        )


def _prior_fits(prior, ctx, where) -> None:
    k = ctx.sizes["k"]
    for name in ("user_cov", "item_cov"):
        if getattr(prior, name).shape != (k, k):
            _fail(f"the {name!r} of {where}", f"of shape (k, k) = ({k}, {k})", getattr(prior, name))


def _ratings_agree(state, ctx) -> None:
    if state["_opts"].get("rank") != state["rank_"]:
        _fail("the attribute 'rank_'", "the rank of the fitted options", state["rank_"])
    if state["_opts"].get("method") != state["completion_"].method:
        _fail(
            "the entry 'method' of the attribute '_opts'",
            "the method of the deep fit",
            state["_opts"].get("method"),
        )


# -- cross-checks inside stored objects ------------------------------------------------------


def _csr(ptr, items, where) -> None:
    if ptr.size == 0 or ptr[0] != 0 or ptr[-1] != items.size or (np.diff(ptr) < 0).any():
        _fail(where, f"offsets from 0 to {items.size}, never decreasing", ptr)


def _seen_state(state, ctx) -> None:
    _csr(state["ptr"], state["items"], "the attribute 'ptr'")
    _csr(state["override_ptr"], state["override_items"], "the attribute 'override_ptr'")
    users = state["override_users"]
    if state["override_ptr"].size != users.size + 1 or np.unique(users).size != users.size:
        _fail("the attribute 'override_users'", "distinct users, one per override", users)


def _ids_state(state, ctx) -> None:
    ids, sorted_ = state["ids"], state["sorted"]
    where = "the attribute 'ids'"
    if ids.dtype.kind in "fmM" and not _finite(ids).all():
        _fail(where, "ids without NaN or NaT", ids)
    # (binary search is used for arrays of one dtype only)
    if sorted_ and ids.dtype != object and ids.size > 1 and not (ids[1:] > ids[:-1]).all():
        _fail(where, "sorted ids without repeats (the index says they are sorted)", ids)
    try:
        distinct = len(set(ids.tolist())) if ids.dtype == object else np.unique(ids).size
    except TypeError:
        _fail(where, "hashable ids", ids)
    if distinct != ids.size:
        _fail(where, "distinct ids", ids, f"{ids.size - distinct} repeated id(s)")


def _imputer_agrees(state, ctx) -> None:
    """The bounds: a pair or two arrays, without NaN, low ≤ high; the indicator's
    features: distinct columns, in increasing order."""
    bounds = [name for name in ("_clip", "_min_value", "_max_value") if name in state]
    if bounds not in (["_clip"], ["_min_value", "_max_value"]):
        _fail("the bounds of the filled values", "'_clip' or '_min_value' and '_max_value'", bounds)
    if "_min_value" in state:
        low, high = state["_min_value"], state["_max_value"]
        if np.isnan(low).any() or np.isnan(high).any() or not (low <= high).all():
            _fail("the attribute '_min_value'", "at most '_max_value', without NaN", low)
    features = state.get("indicator_")
    n = ctx.sizes["n_features"]
    if features is not None and features.size:
        if features.max() >= n or (np.diff(features) <= 0).any():
            _fail(
                "the attribute 'indicator_'", f"increasing columns below n_features = {n}", features
            )


def _history_lengths(state, ctx) -> None:
    lengths = {len(v) for v in state["history"].values()}
    if len(lengths) > 1:
        _fail("the attribute 'history'", "lists of one length", lengths)


_NUMBER = either(boolean(), real(finite=False))
_FLOAT = array("f")

#: kind -> (required attributes, optional attributes, check of the whole state or None);
#: the attributes are checked in this order (the first to name a size binds it)
_SCHEMAS: dict[str, tuple[dict[str, Check], dict[str, Check], Callable | None]] = {
    "DeepMatrixCompletion": (
        {
            "n_features_in_": integer(low=1, dim="n_features"),
            "n_components_": integer(low=0, dim="n_components"),
            "rank_": integer(low=1),
            "n_iter_": integer(low=0),
            "converged_": boolean(),
            "stop_reason_": text(),
            "history_": mapping(text(), array("biuf", ("n_history",), finite=False)),
            "singular_values_": array("f", ("n_components",), low=0),
            "components_": array("f", ("n_components", "n_features")),
            "column_means_": array("f", ("n_features",)),
            "completed_": array("f", ("n_samples", "n_features")),
            "_penalty": real(0, above=True),
        },
        {
            # the bounds of the filled values: files before issue 15 hold a pair
            "_clip": pair(optional(real()), optional(real()), order="<="),
            "_min_value": array("f", ("n_features",), finite=False),
            "_max_value": array("f", ("n_features",), finite=False),
            # files before issue 15 lack these: every feature kept, no indicator
            "_is_empty_feature": array("b", ("n_features",)),
            "indicator_": optional(array("i", (None,), low=0)),
            "_penalty_scale": real(0, above=True),  # files before issue 14
            "_penalty_unit": real(0, above=True),  # (files of dmc 0.1.0 before issue 13 lack it)
            # files before issue 14 lack these: no standardisation, no early stopping
            "_shift": array("f", ("n_features",)),
            "_scale": array("f", ("n_features",), low=0),
            "fold_in_alpha_": real(0, above=True),
            "best_iteration_": optional(integer(low=0)),
            "standardize_": boolean(),  # files before standardize="auto" lack it
            "refine_rounds_": integer(low=0),  # files before refine_rounds lack it
            "feature_names_in_": array("O", ("n_features",), finite=False),
            "_sklearn_output_config": mapping(text(), optional(text())),
        },
        _imputer_agrees,
    ),
    "RatingsModel": (
        {
            "_user_index": instance("IdIndex", _index_of("n_users")),
            "_item_index": instance("IdIndex", _index_of("n_items")),
            "n_duplicates_": integer(low=0),
            "rating_range_": pair(real(), real(), order="<"),
            "validation_rmse_": mapping(real(), real(finite=False)),
            "global_mean_": real(),
            "user_bias_": array("f", ("n_users",)),
            "item_bias_": array("f", ("n_items",)),
            "user_factors_": array("f", ("n_users", "k")),
            "item_factors_": array("f", ("n_items", "k")),
            "shrinkage_": real(0),
            "rank_": integer(low=1),
            "completion_": instance("CompletionResult", _completion_fits),
            "_prior": instance("ShrinkagePrior", _prior_fits),
            # the values are checked by RatingsModel._check_loaded, as fit checks them
            "_opts": mapping(text(), anything()),
            "_seen": instance("SeenItems", _seen_fits),
            "fit_seconds_": real(0),
        },
        {},
        _ratings_agree,
    ),
    "IdIndex": (
        {"ids": array("biufSUmMO", ("n",), finite=False), "sorted": boolean()},
        {},
        _ids_state,
    ),
    "SeenItems": (
        {
            name: array("i", (None,), low=0)
            for name in ("ptr", "items", "override_users", "override_ptr", "override_items")
        },
        {},
        _seen_state,
    ),
    "ShrinkagePrior": (
        {"user_cov": array("f", ("k", "k")), "item_cov": array("f", ("k", "k")), "noise": real(0)},
        {},
        None,
    ),
    "CompletionResult": (
        {
            "method": text(),
            "model_class": text(),
            "config": mapping(text(), anything()),
            "tensors": mapping(text(), tensor()),
            "requires_grad": mapping(text(), boolean()),
            "n_iter": integer(low=0),
            "converged": boolean(),
            "stop_reason": text(),
            "history": mapping(text(), sequence(_NUMBER)),
        },
        {},
        _history_lengths,
    ),
}


def check_state(kind: str, state, name_of) -> None:
    """Check the decoded ``state`` of an object of ``kind``; FileFormatError if unsound.

    ``name_of(value)`` is the registered name of an object's class (None if it
    has none). A kind without a schema (a user's class) is not checked here.
    """
    if kind not in _SCHEMAS:
        return
    required, optional_, whole = _SCHEMAS[kind]
    if type(state) is not dict:
        _fail(f"the state of a {kind}", "a dict of attributes", state)
    unknown = sorted(set(state) - set(required) - set(optional_))
    missing = [name for name in required if name not in state]
    if unknown or missing:
        raise FileFormatError(
            f"the state of a {kind} must hold exactly its fitted attributes. Got unknown "
            f"{unknown} and missing {missing} instead."
        )
    ctx = Context(name_of)
    for name, check in (*required.items(), *optional_.items()):
        if name in state:
            check(state[name], ctx, f"the attribute {name!r}")
    if whole is not None:
        whole(state, ctx)


def check_built(kind: str, value) -> None:
    """Check an object rebuilt from its state: for a deep fit, that its factors multiply."""
    if kind != "CompletionResult":
        return
    try:
        A, B = value.factors()
    except (RuntimeError, ValueError, TypeError, IndexError, KeyError) as exc:
        raise FileFormatError(f"the tensors of the deep fit do not fit together ({exc})") from None
    m, n = value.shape
    if A.ndim != 2 or B.ndim != 2 or A.shape[0] != m or B.shape[0] != n or A.shape[1] != B.shape[1]:
        raise FileFormatError(
            f"the factors of the deep fit must have shapes (m, k) and (n, k) with (m, n) = "
            f"{(m, n)}. Got {A.shape} and {B.shape} instead."
        )
    if not (np.isfinite(A).all() and np.isfinite(B).all()):
        raise FileFormatError("the factors of the deep fit must be finite. Got NaN or inf.")


# -- the version, and the parameters that dmc.io stores in its own way ----------------------

_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?[A-Za-z0-9.+-]{0,40}")


def check_version(version, ours: str | None) -> None:
    """The dmc that wrote the file: None (unknown) or a version no newer than ``ours``."""
    if version is None:
        return
    match = _VERSION.fullmatch(version) if isinstance(version, str) else None
    if match is None:
        raise FileFormatError(
            f"'dmc_version' must be a version number such as '0.1.0'. Got {version!r:.40} instead"
        )
    mine = _VERSION.fullmatch(ours) if ours else None
    release = lambda m: tuple(int(x or 0) for x in m.groups())  # noqa: E731
    if mine is not None and release(match) > release(mine):
        raise FileFormatError(
            f"it must be written by this dmc ({ours}) or an older one. Got a file written by "
            f"dmc {version} instead; upgrade dmc to read it"
        )


def check_param(name: str, value):
    """A parameter that :mod:`dmc.io.persistence` stores in its own way, checked back:
    ``callback`` (stored as None), ``random_state`` (None or an int), ``dtype`` (a
    name) and ``device`` (a string; a CUDA device need not exist here). The class
    checks the others (its ``_check_loaded``). Returns ``value``."""
    if name == "callback" and value is not None:
        raise FileFormatError(
            f"the parameter 'callback' is stored as None. Got {value!r:.40} instead"
        )
    if name == "random_state" and value is not None and (type(value) is not int or value < 0):
        raise FileFormatError(
            f"the parameter 'random_state' must be None or an int ≥ 0. Got {value!r:.40} instead"
        )
    if name == "dtype" and value is not None:
        try:
            resolve_dtype(value)
        except (TypeError, ValueError) as exc:
            raise FileFormatError(str(exc)) from None
    if name == "device":
        valid = isinstance(value, str) and value == "auto"
        if isinstance(value, str) and not valid:
            try:
                valid = torch.device(value).type in ("cpu", "cuda")
            except (RuntimeError, ValueError, TypeError):
                valid = False
        if not valid:
            raise FileFormatError(
                "the parameter 'device' must be 'cpu', 'cuda', 'cuda:N' or 'auto'. "
                f"Got {value!r:.40} instead"
            )
    return value
