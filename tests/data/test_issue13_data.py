"""Rating files and synthetic problems: behaviours issue 13 asked for.

The refused inputs are rows of tests/data/test_malformed_data.py
(docs/input-validation.md); these are the files that must read, and read right.
"""

from __future__ import annotations

import numpy as np
import pytest
from malformed import check_error

from dmc.cli.main import main as dmc_main
from dmc.data.readers import read_ratings
from dmc.data.synthetic import make_problem


def _read(tmp_path, name, data, **kwargs):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return read_ratings(path, as_frame=False, **kwargs)


@pytest.mark.parametrize("encoding", ["utf-8", "UTF8", "utf_8"])
def test_a_utf8_byte_order_mark_is_not_part_of_the_first_id(tmp_path, encoding):
    bom = "\ufeff"
    plain = _read(tmp_path, "u.data", "196\t242\t3\n186\t302\t4\n")
    marked = _read(tmp_path, "u.data", bom + "196\t242\t3\n186\t302\t4\n", encoding=encoding)
    assert marked["user"].dtype == np.int64 and marked["user"].tolist() == [196, 186]
    assert all(np.array_equal(plain[key], marked[key]) for key in plain)
    csv = _read(tmp_path, "r.csv", bom + "userId,movieId,rating\nu1,m1,4\n", encoding=encoding)
    assert csv["user"].tolist() == ["u1"] and csv["rating"].tolist() == [4.0]
    guessed = _read(tmp_path, "ratings", bom + "1::2::3::4\n")  # format guessed from line 1
    assert guessed["user"].tolist() == [1]


def test_lines_of_spaces_are_skipped_like_empty_lines(tmp_path):
    data = _read(tmp_path, "u.data", "1\t2\t3\n   \n\n \t \n4\t5\t1\n")
    assert data["user"].tolist() == [1, 4]
    csv = _read(tmp_path, "r.csv", "user,item,rating\n  \n1,2,3\n\t\n")
    assert csv["item"].tolist() == [2]
    dat = _read(tmp_path, "ratings.dat", "1::2::3::4\n    \n")
    assert dat["rating"].tolist() == [3.0]


def test_integer_timestamps_are_read_exactly(tmp_path):
    big = 2**62 + 1  # not a float64
    data = _read(tmp_path, "u.data", f"1\t2\t3\t{big}\n1\t3\t4\t-5\n")
    assert data["timestamp"].dtype == np.int64 and data["timestamp"].tolist() == [big, -5]
    frac = _read(tmp_path, "u.data", "1\t2\t3\t1.5\n1\t3\t4\t1e3\n")
    assert frac["timestamp"].dtype == np.float64 and frac["timestamp"].tolist() == [1.5, 1000.0]
    sci = _read(tmp_path, "u.data", "1\t2\t3\t1e3\n1\t3\t4\t+7\n")
    assert sci["timestamp"].dtype == np.int64 and sci["timestamp"].tolist() == [1000, 7]


def test_plain_decimal_numbers_of_every_form_are_read(tmp_path):
    text = "1\t2\t3\n1\t3\t+4.5\n1\t4\t-.5\n1\t5\t2E1\n1\t6\t 7 \n1\t7\t1.e-2\n"
    data = _read(tmp_path, "u.data", text)
    assert data["rating"].tolist() == [3.0, 4.5, -0.5, 20.0, 7.0, 0.01]


def test_noise_that_would_overflow_the_observations_is_named():
    check_error(
        lambda: make_problem((20, 10), 2, fraction=0.5, noise=1e308, random_state=0),
        ValueError,
        "'noise'",
        r"Got 1e\+308",
    )
    problem = make_problem((20, 10), 2, fraction=0.5, noise=1e300, random_state=0)
    assert np.isfinite(problem.observations.values).all()


def test_the_command_line_names_a_field_too_long_for_the_csv_reader(tmp_path, capsys):
    path = tmp_path / "long.csv"
    path.write_text("user,item,rating\n1,2,3\n1,2," + "3" * 140_000 + "\n", encoding="utf-8")
    assert dmc_main(["recommend", str(path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "dmc: error: The file" in err and "field limit (131072) on line 3" in err
    assert "Traceback" not in err and "_csv.Error" not in err


def test_the_command_line_names_the_noise_that_would_overflow(tmp_path, capsys):
    argv = ["compare", "--shape", "20", "10", "--noise", "1e308", "--no-peers"]
    argv += ["--output-dir", str(tmp_path)]
    assert dmc_main(argv) == 2
    err = capsys.readouterr().err
    assert "dmc: error: The 'noise' parameter" in err and "1e+308" in err
    assert "'values'" not in err and "Traceback" not in err
