"""Rating files in the common layouts (the MovieLens archives: :mod:`dmc.data.movielens`).

:func:`read_ratings` reads

* ``"udata"``: MovieLens-100k ``u.data``, tab-separated, no header,
  ``user item rating [timestamp]``;
* ``"dat"``: MovieLens-1M/10M ``ratings.dat``, ``user::item::rating::timestamp``;
* ``"csv"``: a CSV file with a header, e.g. MovieLens-20M and later
  ``userId,movieId,rating,timestamp``; any column names through ``columns``;
* ``"inter"``: RecBole atomic files, tab-separated, header ``name:type``
  fields such as ``user_id:token  item_id:token  rating:float  timestamp:float``;

and returns the columns ``user``, ``item``, ``rating`` and, when the file has
one, ``timestamp``: a pandas DataFrame (``as_frame=True``, needs pandas, the
``ratings`` extra) or a dict of numpy arrays (``as_frame=False``, no pandas).

MovieLens data is licensed by GroupLens for research use; dmc never ships it:
:func:`dmc.data.movielens.fetch_movielens` downloads it.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_bool, check_choice
from .fastcsv import read_plain
from .parts import FilePart, check_part

logger = logging.getLogger(__name__)

__all__ = ["FORMATS", "read_ratings"]

#: layouts understood by :func:`read_ratings`
FORMATS = ("auto", "udata", "dat", "csv", "inter")

_ALIASES = {
    "user": ("user", "userid", "user_id", "uid"),
    "item": ("item", "itemid", "item_id", "movieid", "movie_id", "movie", "iid"),
    "rating": ("rating", "ratings", "score"),
    "timestamp": ("timestamp", "time", "ts"),
}
_CHUNK = 1 << 19  # rows converted to numpy at a time

#: the characters of a plain decimal number (code points below 128; 0 pads numpy strings)
_PLAIN = np.zeros(128, dtype=bool)
_PLAIN[[0, *map(ord, "0123456789+-.eE")]] = True


# -- reading -----------------------------------------------------------------------


def read_ratings(
    path: str | os.PathLike[str],
    *,
    format: str = "auto",
    columns: dict[str, str] | None = None,
    sep: str | None = None,
    as_frame: bool = True,
    encoding: str = "utf-8",
    part: tuple[int, int] | None = None,
) -> Any:
    """Read a ratings file into columns ``user``, ``item``, ``rating`` (+ ``timestamp``).

    Parameters
    ----------
    path : str or path-like
    format : {"auto", "udata", "dat", "csv", "inter"}, default "auto"
        The layout (see the module docstring). "auto" decides by the file name
        (``.inter``, ``.dat``, ``.csv``; ``u.data``, ``.data``, ``.base``,
        ``.test``), then by the first line (``::``, tabs, commas).
    columns : mapping or None
        For files with a header ("csv", "inter"): the header names of the
        columns, e.g. ``{"user": "customer", "item": "sku", "rating": "stars"}``
        (``timestamp`` optional). None looks for the usual names
        (``userId``/``user_id``/``user``, ``movieId``/``item_id``/``item``,
        ``rating``, ``timestamp``), case-insensitively.
    sep : str or None
        Field separator of a "csv" file (default ``,``).
    as_frame : bool, default True
        Return a pandas DataFrame (needs pandas: ``pip install 'dmc[ratings]'``);
        False returns a dict of numpy arrays.
    encoding : str, default "utf-8"
        A text encoding. For UTF-8, a byte-order mark at the start of the file
        is skipped (read as "utf-8-sig"), never made part of the first field.

    Returns
    -------
    DataFrame or dict of ndarray
        ``user`` and ``item``: int64 when every id in the column is written as
        a plain decimal integer (``"7"``, not ``"007"`` or ``"7.0"``), else
        strings, exactly as written. ``rating``: float64. ``timestamp``: int64
        (float64 when not integral), present when the file has the column.
        Ratings and timestamps must be plain decimal numbers (digits, sign,
        point, exponent: not ``"1_000"``); a timestamp must be read exactly (an
        integer within int64, or a number below 2**53). Lines that hold only
        white space are skipped, like empty lines.

    Raises
    ------
    ValueError
        For an unknown layout, a line with the wrong number of fields, a
        rating that is not a number or not finite, missing or repeated
        columns, an empty file, a field too long for the CSV reader, a NUL
        character, or text not in ``encoding``; the message names the file,
        the row and the value.
    part : (int, int) or None
        ``(k, n)``: read only slice ``k`` of ``n`` of the file's lines, e.g.
        ``(rank, world_size)`` for :class:`~dmc.recommend.RatingsModel` with
        ``distributed=True``. The body (after the header) is cut into ``n``
        byte ranges of equal size moved to line starts: every line is in
        exactly one slice, and each rank reads about ``1/n`` of the file. Row
        numbers in messages count within the slice. Needs an encoding whose
        line end is the byte ``\n`` (UTF-8, Latin-1, ...).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from dmc.data.readers import read_ratings
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "u.data"
    >>> _ = path.write_text("196\\t242\\t3\\t881250949\\n186\\t302\\t3\\t891717742\\n")
    >>> data = read_ratings(path, as_frame=False)
    >>> data["user"], data["rating"]
    (array([196, 186]), array([3., 3.]))
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"The 'path' parameter must be a str or path-like. Got {path!r} instead.")
    path = Path(os.fspath(path))
    fmt = check_choice(format, "format", FORMATS)
    as_frame = check_bool(as_frame, "as_frame")
    if not isinstance(encoding, str):
        raise TypeError(f"The 'encoding' parameter must be a str. Got {encoding!r} instead.")
    try:
        codec = codecs.lookup(encoding).name
        "".encode(encoding)  # rot13, hex, base64 are codecs, not text encodings
    except LookupError:
        raise ValueError(
            f"The 'encoding' parameter must name a text encoding known to Python (e.g. "
            f"'utf-8', 'latin-1'). Got {encoding!r} instead."
        ) from None
    if not path.is_file():
        raise FileNotFoundError(f"The 'path' parameter must name a file. Got {str(path)!r}.")
    part = check_part(part)
    if part is not None and "\n".encode(encoding) != b"\n":
        raise ValueError(
            "The 'part' parameter needs an encoding whose line end is the byte '\\n' "
            f"(UTF-8, Latin-1, ...). Got part={part!r} with encoding={encoding!r}."
        )
    # a UTF-8 byte-order mark is not part of the first field
    reading = "utf-8-sig" if codec == "utf-8" else encoding
    try:
        return _read_ratings(path, fmt, columns, sep, as_frame, reading, part)
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"The file {str(path)!r} must be text in the encoding {encoding!r}. Got byte "
            f"{exc.object[exc.start : exc.start + 1]!r} at byte offset {exc.start}, which "
            f"is not valid {encoding!r}; pass the file's encoding, e.g. encoding='latin-1'."
        ) from None
    except UnicodeError as exc:  # e.g. "UTF-16 stream does not start with BOM"
        raise ValueError(
            f"The file {str(path)!r} must be text in the encoding {encoding!r}. Got "
            f"{exc!s:.200}; pass the file's encoding, e.g. encoding='utf-8'."
        ) from None


def _read_ratings(path, fmt, columns, sep, as_frame, encoding, part=None):
    if fmt == "auto":
        fmt = _guess_format(path, encoding)
    if part is not None:  # read as if the slice were the file (header included)
        path = FilePart(path, *part, header=fmt in ("csv", "inter"))
    if sep is not None and (fmt != "csv" or not isinstance(sep, str) or len(sep) != 1):
        raise ValueError(
            "The 'sep' parameter must be one character, and only for format='csv'. "
            f"Got sep={sep!r} with format={fmt!r} instead."
        )
    if columns is not None and fmt in ("udata", "dat"):
        raise ValueError(
            f"The 'columns' parameter is only for files with a header ('csv', 'inter'). "
            f"Got columns={columns!r} with format={fmt!r}."
        )
    separator = {"udata": "\t", "dat": "::", "inter": "\t", "csv": sep or ","}[fmt]
    has_header = fmt in ("csv", "inter")
    plain = read_plain(path, separator, encoding, has_header, fmt)  # None: read exactly
    header, fields = plain or _read_fields(path, separator, encoding, has_header, fmt)
    if header is None:
        positions = {"user": 0, "item": 1, "rating": 2}
        if len(fields) >= 4:
            positions["timestamp"] = 3
    else:
        names = [h.split(":", 1)[0] if fmt == "inter" else h for h in header]
        positions = _match_columns(names, columns, path)
    out = _plain_columns(fields, positions) if plain is not None else None
    if out is not None:
        logger.info("read %d ratings from %s (%s, C parser)", out["rating"].size, path, fmt)
        return _as_output(out, as_frame)
    if plain is not None:  # parsed, but not as the exact reader would: read it exactly
        header, fields = _read_fields(path, separator, encoding, has_header, fmt)
    out = {}
    for key, pos in positions.items():
        raw = fields[pos]
        if key in ("user", "item"):
            empty = np.flatnonzero(raw == "")
            if empty.size:
                raise ValueError(
                    f"The file {str(path)!r} must have an id in every {key!r} field. "
                    f"Got an empty one on data row {int(empty[0]) + 1}."
                )
            out[key] = _parse_ids(raw)
        elif key == "rating":
            out[key] = _parse_numbers(raw, path, "rating", integral=False)
        else:
            out[key] = _parse_numbers(raw, path, "timestamp", integral=True)
    logger.info("read %d ratings from %s (%s)", out["rating"].size, path, fmt)
    return _as_output(out, as_frame)


def _plain_columns(fields, positions):
    """The columns of a file the C parser read, if they are what the exact reader gives."""
    out = {}
    for key, pos in positions.items():
        column = fields[pos]
        if key == "rating":
            out[key] = column.astype(np.float64)
        elif column.dtype != np.int64:  # ids and timestamps: int64, or read exactly
            return None
        else:
            out[key] = column
    return out


def _guess_format(path: Path, encoding: str) -> str:
    name = path.name.lower()
    if name.endswith(".inter"):
        return "inter"
    if name.endswith(".dat"):
        return "dat"
    if name.endswith(".csv"):
        return "csv"
    if name == "u.data" or name.endswith((".data", ".base", ".test")):
        return "udata"
    with open(path, encoding=encoding, errors="replace") as fh:
        first = fh.readline()
    if "::" in first:
        return "dat"
    if "\t" in first:
        fields = first.strip().split("\t")
        if all(_is_number(f) for f in fields):
            return "udata"
        if all(":" in f for f in fields):
            return "inter"
    if "," in first:
        return "csv"
    raise ValueError(
        f"The 'format' parameter could not be guessed for {str(path)!r} (first line "
        f"{first[:80]!r}). Got format='auto'; pass one of 'udata', 'dat', 'csv', 'inter'."
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_fields(path, sep, encoding, has_header, fmt):
    """Header (or None) and one numpy string array per column."""
    opened = (
        path.open_text(encoding, newline="")
        if isinstance(path, FilePart)
        else open(path, newline="", encoding=encoding)
    )
    with opened as fh:
        lines = _text_lines(fh, path)
        if len(sep) > 1:
            rows = (line.rstrip("\r\n").split(sep) for line in lines)
        else:
            quoting = csv.QUOTE_MINIMAL if fmt == "csv" else csv.QUOTE_NONE
            rows = _csv_rows(csv.reader(lines, delimiter=sep, quoting=quoting), path, fmt)
        # lines of nothing but white space are skipped, like empty ones
        rows = (row for row in rows if row and (row[0].strip() or any(map(str.strip, row))))
        header = None
        if has_header:
            header = next(rows, None)
            if header is None:
                raise ValueError(
                    f"The file {str(path)!r} is empty: it must have a header line and "
                    "ratings. Got no line at all."
                )
            header = [h.strip() for h in header]
        width = None if header is None else len(header)
        parts: list[list[np.ndarray]] = []
        done = 0
        while True:
            chunk = list(itertools.islice(rows, _CHUNK))
            if not chunk:
                break
            if width is None:
                width = len(chunk[0])
                if width < 3:
                    raise ValueError(
                        f"The file {str(path)!r} must have at least 3 fields per line "
                        f"(user, item, rating) in layout {fmt!r}. Got {width} on data row 1: "
                        f"{chunk[0]!r}."
                    )
            lengths = np.fromiter(map(len, chunk), dtype=np.int64, count=len(chunk))
            bad = np.flatnonzero(lengths != width)
            if bad.size:
                t = int(bad[0])
                raise ValueError(
                    f"The file {str(path)!r} must have {width} fields on every line "
                    f"(layout {fmt!r}). Got {lengths[t]} on data row {done + t + 1}: "
                    f"{chunk[t]!r}."
                )
            parts.append([np.char.strip(np.array(col, dtype=str)) for col in zip(*chunk)])
            done += len(chunk)
    if not parts:
        raise ValueError(
            f"The file {str(path)!r} holds no ratings: it must have at least one data line. "
            f"Got {'only a header' if header is not None else 'no data line'}."
        )
    fields = [np.concatenate([p[c] for p in parts]) for c in range(width)]
    return header, fields


def _text_lines(fh, path):
    """The lines of ``fh``, refusing a NUL character (numpy would drop a trailing one)."""
    done = 0
    while block := fh.readlines(1 << 20):
        if "\x00" in "".join(block):
            t = next(t for t, line in enumerate(block) if "\x00" in line)
            raise ValueError(
                f"The file {str(path)!r} must be text without NUL characters (a binary or "
                f"damaged file?). Got one on line {done + t + 1}."
            )
        done += len(block)
        yield from block


def _csv_rows(reader, path, fmt):
    """The rows of a ``csv.reader``, its errors (e.g. a field over 131,072 characters)
    as ValueErrors naming the file and the line."""
    try:
        yield from reader
    except csv.Error as exc:
        kind = "CSV" if fmt == "csv" else f"{fmt!r}"
        raise ValueError(
            f"The file {str(path)!r} must be a readable {kind} file. Got {exc} on line "
            f"{reader.line_num}."
        ) from None


def _match_columns(names, columns, path):
    lowered = [n.lower() for n in names]
    positions = {}
    if columns is not None:
        if not hasattr(columns, "items"):
            raise TypeError(
                "The 'columns' parameter must be a mapping such as {'user': 'userId', "
                f"'item': 'movieId', 'rating': 'rating'}}. Got {type(columns).__name__} instead."
            )
        unknown = set(columns) - set(_ALIASES)
        if unknown:
            raise ValueError(
                "The 'columns' parameter's keys must be among 'user', 'item', 'rating', "
                f"'timestamp'. Got {sorted(unknown)} instead."
            )
        for key, name in columns.items():
            if name not in names:
                raise ValueError(
                    f"The 'columns' parameter names column {name!r} for {key!r}, but the "
                    f"header of {str(path)!r} has {names}. Got columns={dict(columns)!r}."
                )
            _check_unique(names, name, path)
            positions[key] = names.index(name)
    for key, aliases in _ALIASES.items():
        if key in positions:
            continue
        for alias in aliases:
            if alias in lowered:
                _check_unique(lowered, alias, path)
                positions[key] = lowered.index(alias)
                break
    missing = [k for k in ("user", "item", "rating") if k not in positions]
    if missing:
        raise ValueError(
            f"The header of {str(path)!r} has no column for {missing} among {names}: it "
            "must name a user, an item and a rating column; got none of the usual names for "
            f"{', '.join(missing)}. Name them with the 'columns' parameter, e.g. "
            "columns={'user': ..., 'item': ..., 'rating': ...}."
        )
    return positions


def _check_unique(names, name, path):
    if names.count(name) > 1:
        raise ValueError(
            f"The header of {str(path)!r} must name each column once. Got {name!r} "
            f"{names.count(name)} times in {names}; rename one, or choose with the "
            "'columns' parameter."
        )


def _parse_ids(raw: np.ndarray) -> np.ndarray:
    """int64 when every id is a plain decimal integer, else the strings as written."""
    try:
        ints = raw.astype(np.int64)
    except (ValueError, OverflowError):
        return raw
    if np.array_equal(ints.astype(str), raw):
        return ints
    return raw


def _parse_numbers(raw, path, name, integral):
    """Plain decimal numbers as float64; ``integral``: int64 when read exactly."""
    if integral:
        try:
            ints = raw.astype(np.int64)  # exact, where floats would round above 2**53
        except (ValueError, OverflowError):
            pass
        else:
            _check_plain(raw, path, name)
            return ints
    try:
        values = raw.astype(np.float64)
    except ValueError:
        for t, text in enumerate(raw.tolist()):
            if not _is_number(text):
                raise ValueError(
                    f"The file {str(path)!r} must hold numbers in column {name!r}. "
                    f"Got {text!r} on data row {t + 1}."
                ) from None
        raise
    if not np.isfinite(values).all():
        t = int(np.flatnonzero(~np.isfinite(values))[0])
        raise ValueError(
            f"The file {str(path)!r} must hold finite numbers in column {name!r}. "
            f"Got {str(raw[t])!r} on data row {t + 1}."
        )
    _check_plain(raw, path, name)
    if integral and np.abs(values).max() >= 2**53:
        t = int(np.flatnonzero(np.abs(values) >= 2**53)[0])
        raise ValueError(
            f"The file {str(path)!r} must hold exact numbers in column {name!r}: integers "
            f"within int64, or numbers below 2**53. Got {str(raw[t])!r} on data row {t + 1}."
        )
    if integral and np.all(values == np.round(values)):
        return values.astype(np.int64)
    return values


def _check_plain(raw, path, name):
    """Refuse what Python reads as a number but a rating file should not hold:
    ``1_000``, digits of other scripts (``٣``)."""
    codes = np.ascontiguousarray(raw).view(np.uint32).reshape(raw.size, -1)
    plain = (codes < 128) & _PLAIN[np.minimum(codes, 127)]
    bad = np.flatnonzero(~plain.all(axis=1))
    if bad.size:
        t = int(bad[0])
        raise ValueError(
            f"The file {str(path)!r} must hold plain decimal numbers in column {name!r} "
            f"(digits, sign, point, exponent). Got {str(raw[t])!r} on data row {t + 1}."
        )


def _as_output(columns: dict, as_frame: bool):
    if not as_frame:
        return columns
    try:
        import pandas as pd
    except ImportError:
        raise ImportError(
            "as_frame=True needs pandas: pip install 'dmc[ratings]' (or pandas), or pass "
            "as_frame=False for a dict of numpy arrays."
        ) from None
    return pd.DataFrame(columns)
