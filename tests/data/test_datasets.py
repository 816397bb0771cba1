import hashlib
import http.server
import io
import threading
import urllib.request
import zipfile

import numpy as np
import pytest

import dmc.data.movielens as ml
import dmc.data.readers as ds
from dmc.data.movielens import fetch_movielens, get_data_home
from dmc.data.readers import read_ratings

ROWS = [(196, 242, 3, 881250949), (186, 302, 3.5, 891717742), (22, 377, 1, 878887116)]


def _check(data, users=(196, 186, 22), items=(242, 302, 377), timestamps=True):
    assert list(data["user"]) == list(users)
    assert list(data["item"]) == list(items)
    assert data["rating"].dtype == np.float64
    assert data["rating"].tolist() == [3.0, 3.5, 1.0]
    if timestamps:
        assert data["timestamp"].dtype == np.int64
        assert data["timestamp"].tolist() == [881250949, 891717742, 878887116]
    else:
        assert "timestamp" not in data


# -- layouts -------------------------------------------------------------------------


def test_udata(tmp_path):
    path = tmp_path / "u.data"
    path.write_text("".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in ROWS))
    data = read_ratings(path, as_frame=False)
    _check(data)
    assert data["user"].dtype == np.int64
    assert set(data) == {"user", "item", "rating", "timestamp"}


def test_dat_with_double_colons(tmp_path):
    path = tmp_path / "ratings.dat"
    path.write_text("".join(f"{u}::{i}::{r}::{t}\r\n" for u, i, r, t in ROWS))
    _check(read_ratings(path, as_frame=False))


def test_movielens_csv_with_header(tmp_path):
    path = tmp_path / "ratings.csv"
    text = "userId,movieId,rating,timestamp\n" + "".join(
        f"{u},{i},{r},{t}\n" for u, i, r, t in ROWS
    )
    path.write_text(text)
    _check(read_ratings(path, as_frame=False))


def test_recbole_inter(tmp_path):
    path = tmp_path / "ml.inter"
    header = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
    path.write_text(header + "".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in ROWS))
    _check(read_ratings(path, as_frame=False))


def test_any_csv_with_named_columns(tmp_path):
    path = tmp_path / "shop.txt"
    text = "when;stars;customer;sku\n" + "".join(f"{t};{r};c{u};{i}\n" for u, i, r, t in ROWS)
    path.write_text(text)
    data = read_ratings(
        path,
        format="csv",
        sep=";",
        columns={"user": "customer", "item": "sku", "rating": "stars", "timestamp": "when"},
        as_frame=False,
    )
    _check(data, users=("c196", "c186", "c22"))


def test_csv_quoted_fields_spaces_and_blank_lines(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text('user,item,rating\n"Smith, J.", film 1 , 3\n\nbob,"film 2",3.5\nbob,x,1\n\n')
    data = read_ratings(path, as_frame=False)
    assert data["user"].tolist() == ["Smith, J.", "bob", "bob"]
    assert data["item"].tolist() == ["film 1", "film 2", "x"]
    assert data["rating"].tolist() == [3.0, 3.5, 1.0] and "timestamp" not in data


def test_three_column_file_without_timestamps(tmp_path):
    path = tmp_path / "u.data"
    path.write_text("".join(f"{u}\t{i}\t{r}\n" for u, i, r, _ in ROWS))
    _check(read_ratings(path, as_frame=False), timestamps=False)


def test_ids_stay_as_written_unless_plain_integers(tmp_path):
    big = 2**63 - 1
    path = tmp_path / "r.csv"
    path.write_text(f"user,item,rating\n007,{big},4\n7,{big - 1},5\n-3,12,2\n")
    data = read_ratings(path, as_frame=False)
    assert data["user"].tolist() == ["007", "7", "-3"]  # "007" is not 7
    assert data["item"].dtype == np.int64 and data["item"].tolist() == [big, big - 1, 12]
    path.write_text(f"user,item,rating\n1,{2**64},4\n")  # beyond int64: kept as text
    assert read_ratings(path, as_frame=False)["item"].tolist() == [str(2**64)]


@pytest.mark.parametrize(
    "name, first_line, expected",
    [
        ("ratings.txt", "1::2::3::4", "dat"),
        ("data.tsv", "1\t2\t3\t4", "udata"),
        ("data.txt", "user,item,rating", "csv"),
        ("u1.base", "1\t2\t3\t4", "udata"),
        ("x.inter", "user_id:token\titem_id:token\trating:float", "inter"),
    ],
)
def test_auto_format(tmp_path, name, first_line, expected):
    path = tmp_path / name
    path.write_text(first_line + "\n")
    assert ds._guess_format(path, "utf-8") == expected


def test_dataframe_output(tmp_path):
    pd = pytest.importorskip("pandas")
    path = tmp_path / "u.data"
    path.write_text("".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in ROWS))
    frame = read_ratings(path)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["user", "item", "rating", "timestamp"]
    assert frame["rating"].tolist() == [3.0, 3.5, 1.0]


def test_dataframe_output_without_pandas(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas":
            raise ImportError("no pandas here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    path = tmp_path / "u.data"
    path.write_text("1\t2\t3\n")
    with pytest.raises(ImportError, match=r"pip install 'dmc\[ratings\]'.*as_frame=False"):
        read_ratings(path)


@pytest.mark.parametrize(
    "name, text, kwargs, exc, match",
    [
        (
            "u.data",
            "1\t2\t3\t4\n1\t2\n",
            {},
            ValueError,
            "must have 4 fields on every line .* Got 2 on data row 2",
        ),
        (
            "u.data",
            "1\t2\tthree\n",
            {},
            ValueError,
            "must hold numbers in column 'rating'. Got 'three' on data row 1",
        ),
        ("u.data", "1\t2\tnan\n", {}, ValueError, "finite numbers in column 'rating'"),
        ("u.data", "1\t2\n", {}, ValueError, "at least 3 fields per line"),
        (
            "u.data",
            "1\t\t3\n",
            {},
            ValueError,
            "must have an id in every 'item' field. Got an empty one on data row 1",
        ),
        ("u.data", "", {}, ValueError, "holds no ratings"),
        ("r.csv", "", {}, ValueError, "is empty"),
        (
            "r.csv",
            "a,b,c\n1,2,3\n",
            {},
            ValueError,
            "has no column for \\['user', 'item', 'rating'\\] among \\['a', 'b', 'c'\\]",
        ),
        (
            "r.csv",
            "a,b,c\n1,2,3\n",
            {"columns": {"user": "a", "item": "b", "rating": "z"}},
            ValueError,
            "names column 'z' for 'rating'",
        ),
        ("r.csv", "a,b,c\n1,2,3\n", {"columns": {"person": "a"}}, ValueError, "keys must be among"),
        (
            "r.csv",
            "a,b,c\n1,2,3\n",
            {"columns": ["a"]},
            TypeError,
            "'columns' parameter must be a mapping",
        ),
        (
            "u.data",
            "1\t2\t3\n",
            {"columns": {"user": "a"}},
            ValueError,
            "only for files with a header",
        ),
        (
            "u.data",
            "1\t2\t3\n",
            {"sep": ";"},
            ValueError,
            "'sep' parameter must be one character, and only for format='csv'",
        ),
        (
            "u.data",
            "1\t2\t3\n",
            {"format": "xml"},
            ValueError,
            "The 'format' parameter must be one of 'auto', 'udata', 'dat', 'csv', 'inter'. Got 'xml'",
        ),
        ("weird", "1 2 3\n", {}, ValueError, "'format' parameter could not be guessed"),
    ],
)
def test_read_errors(tmp_path, name, text, kwargs, exc, match):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(exc, match=match):
        read_ratings(path, as_frame=False, **kwargs)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="must name a file"):
        read_ratings(tmp_path / "nope.csv")


# -- fetch_movielens against a local server --------------------------------------------


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    """Every URL opened in these tests must be on this machine."""
    real = urllib.request.urlopen

    def local_only(url, *args, **kwargs):
        target = url if isinstance(url, str) else url.full_url
        assert target.startswith("http://127.0.0.1:"), f"test tried to reach {target}"
        return real(url, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", local_only)


def _archive(member="ml-100k/u.data"):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(member, "".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in ROWS))
        zf.writestr("ml-100k/README", "not the real thing")
    return buf.getvalue()


@pytest.fixture
def server():
    """A localhost HTTP server; set ``server.payload`` to the bytes it serves."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            state.requests += 1
            if state.payload is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(state.payload)))
            self.end_headers()
            self.wfile.write(state.payload)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state = type("State", (), {})()
    state.requests, state.payload = 0, _archive()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/ml-100k.zip"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


def test_fetch_downloads_verifies_caches(server, tmp_path):
    sha = hashlib.sha256(server.payload).hexdigest()
    data = fetch_movielens("100k", data_home=tmp_path, url=server.url, sha256=sha, as_frame=False)
    _check(data)
    assert (tmp_path / "ml-100k.zip").read_bytes() == server.payload
    assert (tmp_path / "ml-100k" / "u.data").is_file()
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob("ml-100k/*.part"))
    # the second call reads the cache: no request, even with downloads disabled
    again = fetch_movielens("100k", data_home=tmp_path, download_if_missing=False, as_frame=False)
    _check(again)
    assert server.requests == 1


def test_fetch_with_table_checksum_and_env_data_home(server, tmp_path, monkeypatch):
    sha = hashlib.sha256(server.payload).hexdigest()
    entry = ml.MOVIELENS["100k"]
    monkeypatch.setitem(
        ml.MOVIELENS, "100k", ml.MovieLensArchive(server.url, entry.member, entry.format, sha)
    )
    monkeypatch.setenv("DMC_DATA", str(tmp_path / "from-env"))
    _check(fetch_movielens(as_frame=False))
    assert (tmp_path / "from-env" / "ml-100k.zip").is_file()
    assert get_data_home() == tmp_path / "from-env"


def test_fetch_rejects_a_wrong_checksum_and_keeps_nothing(server, tmp_path):
    with pytest.raises(
        OSError, match="has SHA-256 [0-9a-f]{64}, but MovieLens '100k' should have 0{64}"
    ):
        fetch_movielens("100k", data_home=tmp_path, url=server.url, sha256="0" * 64)
    assert list(tmp_path.iterdir()) == []


def test_fetch_the_official_checksum_guards_against_a_foreign_archive(server, tmp_path):
    # the table's published checksum is used unless one is given: the fake archive fails it
    with pytest.raises(OSError, match=f"should have {ml.MOVIELENS['100k'].sha256}"):
        fetch_movielens("100k", data_home=tmp_path, url=server.url)


def test_fetch_without_known_checksum_warns_with_the_hash(server, tmp_path, monkeypatch):
    entry = ml.MOVIELENS["100k"]
    monkeypatch.setitem(
        ml.MOVIELENS, "100k", ml.MovieLensArchive(entry.url, entry.member, entry.format, None)
    )
    sha = hashlib.sha256(server.payload).hexdigest()
    with pytest.warns(UserWarning, match=f"No SHA-256 is known for MovieLens '100k'.*{sha}"):
        fetch_movielens("100k", data_home=tmp_path, url=server.url, as_frame=False)


def test_fetch_redownloads_a_corrupt_cache(server, tmp_path):
    sha = hashlib.sha256(server.payload).hexdigest()
    (tmp_path / "ml-100k.zip").write_bytes(b"truncated")
    _check(fetch_movielens("100k", data_home=tmp_path, url=server.url, sha256=sha, as_frame=False))
    assert server.requests == 1


def test_fetch_errors(server, tmp_path):
    with pytest.raises(FileNotFoundError, match="download_if_missing=False"):
        fetch_movielens("1m", data_home=tmp_path, download_if_missing=False)
    server.payload = None
    with pytest.raises(OSError, match="Could not download MovieLens '100k' from http://127.0.0.1"):
        fetch_movielens("100k", data_home=tmp_path, url=server.url, sha256="1" * 64)
    assert list(tmp_path.iterdir()) == []
    server.payload = b"not a zip"
    sha = hashlib.sha256(server.payload).hexdigest()
    with pytest.raises(OSError, match="not a valid zip file"):
        fetch_movielens("100k", data_home=tmp_path, url=server.url, sha256=sha)
    server.payload = _archive(member="other/u.data")
    sha = hashlib.sha256(server.payload).hexdigest()
    (tmp_path / "ml-100k.zip").unlink()
    with pytest.raises(OSError, match="has no 'ml-100k/u.data'"):
        fetch_movielens("100k", data_home=tmp_path, url=server.url, sha256=sha)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"variant": "5k"}, ValueError, "The 'variant' parameter must be one of '100k', '1m'"),
        ({"sha256": "abc"}, ValueError, "The 'sha256' parameter must be 64 hexadecimal digits"),
        ({"url": 5}, TypeError, "The 'url' parameter must be a str or None"),
        (
            {"timeout": 0},
            ValueError,
            "The 'timeout' parameter must be a finite real number in \\(0, inf\\]",
        ),
    ],
)
def test_fetch_bad_arguments(tmp_path, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        fetch_movielens(data_home=tmp_path, **kwargs)


def test_the_checksum_table_is_explicit():
    for entry in ml.MOVIELENS.values():
        assert entry.url.startswith("https://files.grouplens.org/datasets/movielens/ml-")
        assert entry.sha256 is None or len(entry.sha256) == 64
        assert entry.format in ds.FORMATS
    unverified = sorted(v for v, e in ml.MOVIELENS.items() if e.sha256 is None)
    assert unverified == ["10m", "32m"]
