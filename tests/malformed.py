"""Shared by the malformed-input tests of every sub-package (tests/*/test_malformed_*.py).

One table per entry point: a malformed input, the exception it must raise
(ValueError or TypeError, or a documented subclass; never an IndexError,
KeyError, AttributeError, RuntimeError or a torch error) and a pattern its
message must match. Every message must also name the parameter and say what
was received ("Got ..."). Calls on an already fitted estimator or ratings
model, re-``fit`` included, must leave the model's state unchanged, which is
checked by hashing every attribute before and after.

Inputs that a documented policy accepts (empty rows or columns, fully
observed data, duplicates with a merging policy, huge ids) are at the end of
each file, with the warning and the result the docs promise.
docs/input-validation.md is the same table in prose.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest
import torch

import dmc

FORBIDDEN = (IndexError, KeyError, AttributeError, RuntimeError, OverflowError)
RECEIVED = re.compile(r"\b[Gg]ot\b|expecting")


# -- data and fitted models ------------------------------------------------------------


def _matrix(shape=(30, 20), fraction=0.6, seed=0):
    M = dmc.low_rank_matrix(shape, 2, random_state=seed).to_dense()
    mask = np.random.default_rng(seed).random(shape) < fraction
    mask[np.arange(shape[0]), np.arange(shape[0]) % shape[1]] = True  # no empty row
    mask[np.arange(shape[1]) % shape[0], np.arange(shape[1])] = True  # no empty column
    return np.where(mask, M, np.nan), M


def _ratings(n_users=25, n_items=15, n=200, seed=0):
    rng = np.random.default_rng(seed)
    pairs = rng.permutation(n_users * n_items)[:n]
    users, items = pairs // n_items, pairs % n_items
    ratings = np.clip(np.round(3 + (users % 3) - (items % 2) + rng.normal(0, 0.5, n)), 1, 5)
    return users, items, ratings


X, M = _matrix()
U, I, R = _ratings()


# -- the state hash ----------------------------------------------------------------------


def state_hash(obj) -> str:
    """SHA-256 of everything in ``vars(obj)``, recursively."""
    h = hashlib.sha256()
    _feed(h, obj, set())
    return h.hexdigest()


def _feed(h, value, seen):
    if isinstance(value, np.ndarray):
        h.update(f"nd{value.dtype.str}{value.shape}".encode())
        h.update(repr(value.tolist()).encode() if value.dtype == object else value.tobytes())
    elif isinstance(value, torch.Tensor):
        _feed(h, value.detach().cpu().numpy(), seen)
    elif isinstance(value, torch.nn.Module):
        _feed(h, dict(value.state_dict()), seen)
    elif isinstance(value, dict):
        h.update(b"dict")
        for key in sorted(value, key=repr):
            h.update(repr(key).encode())
            _feed(h, value[key], seen)
    elif isinstance(value, (list, tuple)):
        h.update(f"{type(value).__name__}{len(value)}".encode())
        for item in value:
            _feed(h, item, seen)
    elif isinstance(value, (str, bytes, int, float, complex, bool, type(None), np.generic)):
        h.update(repr(value).encode())
    elif type(value).__name__ == "IdIndex":  # ids; its dict is a lookup cache
        _feed(h, (value.ids, value._sorted), seen)
    elif hasattr(value, "__dict__") and not callable(value):
        if id(value) in seen:
            return
        seen.add(id(value))
        h.update(type(value).__name__.encode())
        _feed(h, dict(vars(value)), seen)
    else:
        h.update(repr(value).encode())


# -- checking one case ----------------------------------------------------------------------


def check_error(call, exc, name, match):
    """``call()`` raises ``exc`` whose message names ``name``, matches ``match`` and says 'Got'."""
    with pytest.raises(exc) as info:
        call()
    error = info.value
    assert not isinstance(error, FORBIDDEN) or isinstance(error, (ValueError, TypeError)), error
    assert isinstance(error, (ValueError, TypeError)), f"{type(error).__name__}: {error}"
    message = str(error)
    assert name in message, f"{name!r} not named in: {message}"
    assert re.search(match, message), f"{match!r} does not match: {message}"
    assert RECEIVED.search(message), f"nothing received is shown in: {message}"
    return error


def case(call, exc, name, match, id):
    return pytest.param(call, exc, name, match, id=id)


def _pandas():
    return pytest.importorskip("pandas")
