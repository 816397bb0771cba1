"""Issue 16: read_ratings' C-parser path gives exactly what the exact reader gives."""

import numpy as np
import pytest

from dmc.data import fastcsv, readers
from dmc.data.readers import read_ratings

PLAIN = {
    "ratings.csv": "userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3,1260759179\n"
    "7,31,0.5,-5\n\n10,2,5.0,0\r\n",
    "u.data": "196\t242\t3\t881250949\n186\t302\t3\t891717742\n0\t1\t4.5\t1\n",
    "ratings.dat": "1::1193::5::978300760\n1::661::3::978302109\n2::3::1e0::978301968\n",
    "x.inter": "user_id:token\titem_id:token\trating:float\n1\t2\t3.25\n4\t5\t1\n",
    "noheader.csv": "user,item,rating\n-3,4,2\n5,6,1e-1\n",
}

#: files the C parser must leave to the exact reader (its rules, its messages)
NOT_PLAIN = {
    "zeros.csv": "user,item,rating\n007,1,3\n",  # "007" stays a string id
    "plus.csv": "user,item,rating\n+7,1,3\n",
    "minus_zero.csv": "user,item,rating\n-0,1,3\n",
    "strings.csv": "user,item,rating\nu1,i1,3\n",
    "spaces.csv": "user,item,rating\n 1 , 2 ,3\n",
    "float_ids.csv": "user,item,rating\n1.0,2,3\n",
    "short.csv": "user,item,rating,timestamp\n1,2,3,4\n1,2,3\n",
    "long.csv": "user,item,rating\n1,2,3\n1,2,3,4\n",
    "inf.csv": "user,item,rating\n1,2,1e999\n",
    "float_ts.csv": "user,item,rating,timestamp\n1,2,3,4.5\n",
    "quoted.csv": 'user,item,rating\n"1",2,3\n',
    "triple.dat": "1:::2::3::4\n",
    "empty_id.csv": "user,item,rating\n,2,3\n",
}


def exact(path, monkeypatch, **kwargs):
    with monkeypatch.context() as m:
        m.setattr(readers, "read_plain", lambda *args: None)
        try:
            return read_ratings(path, as_frame=False, **kwargs)
        except ValueError as exc:
            return exc


def same(a, b):
    if isinstance(a, Exception) or isinstance(b, Exception):
        return type(a) is type(b) and str(a) == str(b)
    return a.keys() == b.keys() and all(
        a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]) for k in a
    )


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_a_plain_file_goes_through_the_c_parser_with_the_same_result(tmp_path, monkeypatch, name):
    path = tmp_path / name
    path.write_text(PLAIN[name], newline="")
    calls = []
    real = fastcsv.read_plain

    def spy(*args):
        calls.append(real(*args))
        return calls[-1]

    monkeypatch.setattr(readers, "read_plain", spy)
    fast = read_ratings(path, as_frame=False)
    monkeypatch.undo()
    assert calls and calls[0] is not None
    assert same(fast, exact(path, monkeypatch))


@pytest.mark.parametrize("name", sorted(NOT_PLAIN))
def test_anything_else_is_read_exactly(tmp_path, monkeypatch, name):
    path = tmp_path / name
    path.write_text(NOT_PLAIN[name], newline="")
    try:
        fast = read_ratings(path, as_frame=False)
    except ValueError as exc:
        fast = exc
    assert same(fast, exact(path, monkeypatch))


def test_leading_zero_ids_stay_strings(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("user,item,rating\n007,10,3\n7,0,4\n")
    data = read_ratings(path, as_frame=False)
    assert data["user"].tolist() == ["007", "7"] and data["item"].tolist() == [10, 0]


@pytest.mark.parametrize("block", [5, 7, 64])
def test_the_byte_scan_sees_across_its_blocks(tmp_path, monkeypatch, block):
    """Past the first block of the byte scan, an "08" id still sends the file to the exact reader."""
    monkeypatch.setattr(fastcsv, "_BLOCK", block)
    rng = np.random.default_rng(0)
    n = 300
    rows = zip(rng.integers(1, 999, n), rng.integers(1, 99, n), rng.integers(1, 10, n) / 2)
    path = tmp_path / "big.csv"
    path.write_text("user,item,rating\n" + "".join(f"{u},{i},{r}\n" for u, i, r in rows))
    assert fastcsv.read_plain(path, ",", "utf-8", True, "csv") is not None
    assert same(read_ratings(path, as_frame=False), exact(path, monkeypatch))
    for bad in ("08,1,3\n", "8,1,+3\n", "8,-0,3\n"):
        with open(path, "a") as fh:
            fh.write(bad)
        assert fastcsv.read_plain(path, ",", "utf-8", True, "csv") is None
        assert same(read_ratings(path, as_frame=False), exact(path, monkeypatch))
        path.write_text(path.read_text()[: -len(bad)])
