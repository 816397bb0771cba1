"""Malformed rating files (see tests/malformed.py)."""

from __future__ import annotations

import pytest
from malformed import (
    case,
    check_error,
)

from dmc.data.readers import read_ratings

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# -- read_ratings ----------------------------------------------------------------------------

FILES = [
    case(
        ("u.data", "1\t2\t3\t4\n1\t2\n"), ValueError, "u.data", "Got 2 on data row 2", "short-line"
    ),
    case(("u.data", "1\t2\n"), ValueError, "u.data", "at least 3 fields.*Got 2", "two-fields"),
    case(("u.data", "1\t2\tx\n"), ValueError, "'rating'", "Got 'x' on data row 1", "non-numeric"),
    case(("u.data", "1\t2\tnan\n"), ValueError, "'rating'", "finite.*Got 'nan'", "nan-rating"),
    case(("u.data", "1\t\t3\n"), ValueError, "'item'", "Got an empty one", "empty-id"),
    case(("u.data", ""), ValueError, "u.data", "holds no ratings.*Got no data line", "empty-file"),
    case(("r.csv", ""), ValueError, "r.csv", "is empty.*Got no line", "empty-csv"),
    case(
        ("r.csv", "userId,movieId,rating\n"),
        ValueError,
        "r.csv",
        "holds no ratings.*Got only a header",
        "header-only",
    ),
    case(
        ("r.csv", "userId,movieId\n1,2\n"),
        ValueError,
        "['rating']",
        "has no column for.*got none of the usual names for rating",
        "missing-column",
    ),
    case(
        ("r.csv", "user,user,item,rating\n1,2,3,4\n"),
        ValueError,
        "'user'",
        "each column once. Got 'user' 2 times",
        "repeated-column",
    ),
    case(
        ("r.csv", "a,b,c\n1,2,3\n", {"columns": {"user": "a", "item": "b", "rating": "z"}}),
        ValueError,
        "'columns'",
        "names column 'z' for 'rating'.*Got columns=",
        "columns-unknown-name",
    ),
    case(
        ("r.csv", "a,b,c\n1,2,3\n", {"columns": ["a"]}),
        TypeError,
        "'columns'",
        "mapping.*Got list",
        "columns-not-mapping",
    ),
    case(
        ("r.csv", "a;b;c\n1;2;3\n", {"sep": ";;"}),
        ValueError,
        "'sep'",
        "one character.*Got sep=';;'",
        "sep-two-chars",
    ),
    case(
        ("u.data", "1\t2\t3\n", {"format": "xls"}),
        ValueError,
        "'format'",
        "Got 'xls'",
        "format-unknown",
    ),
    case(
        ("u.data", "1\t2\t3\n", {"encoding": "nope"}),
        ValueError,
        "'encoding'",
        "Got 'nope'",
        "encoding-unknown",
    ),
    case(
        ("r.csv", b"user,item,rating\n\xe9,2,3\n"),
        ValueError,
        "'utf-8'",
        r"Got byte b'\\xe9' at byte offset 17",
        "not-utf8",
    ),
    case(("weird", "1 2 3\n"), ValueError, "'format'", "could not be guessed.*Got", "no-layout"),
    case(
        ("r.csv", "user,item,rating\n1,2,3\n1,2," + "3" * 140_000 + "\n"),
        ValueError,
        "r.csv",
        r"readable CSV.*Got field larger than field limit \(131072\) on line 3",
        "field-too-long",
    ),
    *[
        case(
            ("u.data", "1\t2\t3\n", {"encoding": codec}),
            ValueError,
            "'encoding'",
            f"text encoding.*Got '{codec}'",
            f"encoding-{codec}",
        )
        for codec in ("rot13", "hex", "base64")
    ],
    case(
        ("u.data", "1\t2\t3\n", {"encoding": "utf-16"}),
        ValueError,
        "'utf-16'",
        "must be text in the encoding 'utf-16'. Got .*pass the file's encoding",
        "wrong-encoding-utf16",
    ),
    case(("u.data", "1\t2\t3\x00\n"), ValueError, "u.data", r"NUL.*Got one on line 1", "nul"),
    case(
        ("u.data", "1\t2\t3\n1\t3\t1_000\n"),
        ValueError,
        "'rating'",
        "plain decimal numbers.*Got '1_000' on data row 2",
        "underscore-number",
    ),
    case(
        ("u.data", "1\t2\t\u0663\n"),
        ValueError,
        "'rating'",
        "plain decimal numbers.*Got '\u0663' on data row 1",
        "unicode-digit",
    ),
    case(
        ("u.data", "1\t2\t3\t100000000000000000000000\n"),
        ValueError,
        "'timestamp'",
        "exact.*Got '100000000000000000000000' on data row 1",
        "timestamp-beyond-int64",
    ),
    case(
        ("u.data", "1\t2\t3\n", {"as_frame": "no"}),
        TypeError,
        "'as_frame'",
        "bool. Got 'no'",
        "as-frame-str",
    ),
]


@pytest.mark.parametrize("spec, exc, name, match", FILES)
def test_read_ratings(tmp_path, spec, exc, name, match):
    file_name, content, *kwargs = spec
    path = tmp_path / file_name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    kwargs = {"as_frame": False, **(kwargs[0] if kwargs else {})}
    check_error(lambda: read_ratings(path, **kwargs), exc, name, match)


def test_read_ratings_bad_path(tmp_path):
    check_error(lambda: read_ratings(None), TypeError, "'path'", "str or path-like. Got None")
    with pytest.raises(FileNotFoundError, match="'path' parameter must name a file. Got"):
        read_ratings(tmp_path)  # a folder: an OSError, as for a missing file
