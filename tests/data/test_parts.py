"""read_ratings(part=(k, n)): every line in exactly one slice, for every layout."""

import numpy as np
import pytest

from dmc.data.readers import read_ratings


def write(path, lines, header=None):
    text = "\n".join(([header] if header else []) + lines) + "\n"
    path.write_bytes(text.encode())
    return path


LAYOUTS = {
    "plain.csv": (",", "userId,movieId,rating,timestamp", False),
    "strings.csv": (",", "user,item,rating", True),
    "u.data": ("\t", None, False),
    "ratings.dat": ("::", None, False),
    "r.inter": ("\t", "user_id:token\titem_id:token\trating:float", False),
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
@pytest.mark.parametrize("n", [1, 2, 3, 8])
def test_the_slices_are_the_whole_file_in_order(tmp_path, name, n):
    sep, header, strings = LAYOUTS[name]
    rng = np.random.default_rng(0)
    lines = []
    for t in range(301):
        user = f"u{rng.integers(50)}" if strings else str(rng.integers(1, 50))
        fields = [user, str(t + 1), str(rng.integers(1, 6))]
        if name in ("plain.csv", "u.data", "ratings.dat"):
            fields.append(str(880000000 + t))
        lines.append(sep.join(fields))
    path = write(tmp_path / name, lines, header)
    whole = read_ratings(path, as_frame=False)
    parts = [read_ratings(path, as_frame=False, part=(k, n)) for k in range(n)]
    for key in whole:
        assert np.array_equal(np.concatenate([p[key] for p in parts]), whole[key]), key
    sizes = np.array([p["rating"].size for p in parts])
    assert np.all(np.abs(sizes - 301 / n) <= 0.15 * 301 / n + 2)  # byte ranges of equal size


def test_more_slices_than_lines_leaves_some_empty_and_says_so(tmp_path):
    path = write(tmp_path / "u.data", ["1\t1\t5", "2\t1\t4"])
    got = [read_ratings(path, as_frame=False, part=(0, 1))["rating"].size]
    assert got == [2]
    with pytest.raises(ValueError, match="part 3 of 4"):
        # the slice holds no line: the message names the slice
        read_ratings(path, as_frame=False, part=(3, 4))


@pytest.mark.parametrize("bad", [(2, 2), (-1, 2), (0, 0), [0, 2], (0.0, 2), (True, 2), "0/2"])
def test_a_bad_part_is_refused_by_name(tmp_path, bad):
    path = write(tmp_path / "u.data", ["1\t1\t5"])
    with pytest.raises(ValueError, match="'part' parameter must be None or a pair"):
        read_ratings(path, part=bad)


def test_a_part_needs_a_newline_byte(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("user,item,rating\n1,1,5\n", encoding="utf-16")
    with pytest.raises(ValueError, match="'part' parameter needs an encoding"):
        read_ratings(path, encoding="utf-16", part=(0, 2))
