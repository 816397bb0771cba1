"""The fast path of :func:`dmc.data.readers.read_ratings`: pandas' C parser on plain files.

A ratings file of tens of millions of lines is read with ``pandas.read_csv``
(C engine) when it is *plain*: after its header, nothing but digits, the
separator, line ends, ``.``, ``-``, ``+``, ``e`` and ``E``, no field starting
with ``+``, ``-0`` or a ``0`` followed by a digit, every column parsed as
numbers with no missing field. For such a file the C parser gives exactly what
the exact reader gives (ids written as plain decimal integers are int64, ratings
float64 read with round-trip precision, integral timestamps int64). Anything
else (string ids, quotes, spaces, ``007``, a short line, an error of any
kind) returns None, and the exact reader, with its messages, reads the file.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Literal

import numpy as np

__all__ = ["read_plain"]

_ALLOWED = np.zeros(256, dtype=bool)
_ALLOWED[list(b"0123456789.-+eE\r\n")] = True
_BLOCK = 1 << 24  # bytes scanned at a time
_PLAIN_TEXT = "0123456789.-+eE,\t:\r\n"
_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[list(b"0123456789")] = True


def read_plain(path: Path, sep: str, encoding: str, has_header: bool, fmt: str):
    """``(header or None, [column arrays])`` of a plain file, or None (read it exactly).

    ``sep`` is one character, or ``"::"`` (MovieLens ``ratings.dat``).
    """
    try:
        import pandas as pd
    except ImportError:
        return None
    try:  # the plain bytes must mean what they mean in ASCII
        text = "utf-8" if encoding == "utf-8-sig" else encoding  # a BOM is in the header
        if _PLAIN_TEXT.encode(text) != _PLAIN_TEXT.encode("ascii"):
            return None
    except (UnicodeError, LookupError):
        return None
    data = path.read_bytes()
    header, start = None, 0
    if has_header:
        end = data.find(b"\n")
        try:
            first = data[: len(data) if end < 0 else end].decode(encoding)
        except (UnicodeError, LookupError):
            return None
        quoting: Literal[0, 3] = csv.QUOTE_MINIMAL if fmt == "csv" else csv.QUOTE_NONE
        rows = list(csv.reader([first.rstrip("\r\n")], delimiter=sep, quoting=quoting))
        if end < 0 or not rows or not first.strip() or "\x00" in first:
            return None
        header, start = [h.strip() for h in rows[0]], end + 1
    body = np.frombuffer(data, dtype=np.uint8)[start:]
    code = sep.encode()
    if len(code) > 1:  # "::": the C parser takes one character
        if b":" in data[start:].replace(code, b""):
            return None
        data, code, start = data[:start] + data[start:].replace(code, b":"), b":", start
        body = np.frombuffer(data, dtype=np.uint8)[start:]
    if len(code) != 1 or not body.size or not _is_plain(body, code[0]):
        return None
    del body
    width = len(header) if header is not None else _first_width(data[start:], code)
    if width < 3:
        return None
    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            sep=code.decode(),
            header=None,
            skiprows=1 if has_header else 0,
            names=list(range(width)),
            engine="c",
            na_filter=False,
            **_precise(pd),
            skip_blank_lines=True,
        )
    except Exception:  # noqa: BLE001 -- any trouble: the exact reader says what it is
        return None
    del data
    columns = [frame[c].to_numpy() for c in range(width)]
    if not columns[0].size or any(c.dtype.kind not in "iuf" for c in columns):
        return None
    if any(c.dtype.kind == "f" and not np.isfinite(c).all() for c in columns):
        return None
    return header, columns


def _is_plain(body: np.ndarray, sep: int) -> bool:
    """Only the plain bytes, and no field opening with ``+``, ``-0`` or ``0`` and a digit.

    Block by block, so that the masks stay small next to the file.
    """
    allowed = _ALLOWED.copy()
    allowed[sep] = True
    ends = np.zeros(256, dtype=bool)
    ends[[sep, ord("\n"), ord("\r")]] = True
    step = _BLOCK
    for s in range(0, body.size, step):
        if not allowed[body[s : s + step]].all():
            return False
        lo = max(s - 1, 0)
        part = body[lo : s + step + 2]  # a byte before (an end?) and two after
        opening = np.flatnonzero(ends[part[: s + step - lo]]) + 1
        if s == 0:
            opening = np.concatenate([[0], opening])
        opening = opening[opening < part.size]
        first = part[opening]
        second = part[np.minimum(opening + 1, part.size - 1)]
        second = np.where(opening + 1 < part.size, second, 0)
        if (first == ord("+")).any() or ((first == ord("-")) & (second == ord("0"))).any():
            return False
        if ((first == ord("0")) & _DIGIT[second]).any():
            return False
    return True


def _precise(pd) -> dict:
    """Floats read as Python reads them: pandas 3's default; ``round_trip`` before."""
    return {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}


def _first_width(body: bytes, code: bytes) -> int:
    for line in io.BytesIO(body):
        if line.strip():
            return line.count(code) + 1
    return 0
