"""The MovieLens archives from GroupLens: fetched once, checked, cached, read.

:func:`fetch_movielens` downloads an official GroupLens archive once, checks
its SHA-256, caches it under ``data_home`` and reads its ratings file with
:func:`dmc.data.readers.read_ratings`. MovieLens data is licensed by GroupLens
for research use; dmc never ships it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import urllib.request
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._validation import check_choice, check_float
from .readers import read_ratings

logger = logging.getLogger(__name__)

__all__ = ["MOVIELENS", "MovieLensArchive", "fetch_movielens", "get_data_home"]


@dataclass(frozen=True)
class MovieLensArchive:
    """Where a MovieLens variant lives and how to read it.

    ``sha256`` is None where no checksum is known to dmc; :func:`fetch_movielens`
    then warns and prints the checksum of what it downloaded, for pinning.
    """

    url: str
    member: str
    format: str
    sha256: str | None
    size: int | None = None


_GROUPLENS = "https://files.grouplens.org/datasets/movielens/"

#: Official GroupLens archives. The SHA-256 sums and sizes are those recorded by
#: TensorFlow Datasets (tensorflow_datasets/url_checksums/movielens.txt); dmc has
#: not re-downloaded the archives to check them. "latest-small" is re-issued by
#: GroupLens from time to time, so its checksum can go stale. No SHA-256 is known
#: for "10m" and "32m".
MOVIELENS = {
    "100k": MovieLensArchive(
        _GROUPLENS + "ml-100k.zip",
        "ml-100k/u.data",
        "udata",
        "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
        4924029,
    ),
    "1m": MovieLensArchive(
        _GROUPLENS + "ml-1m.zip",
        "ml-1m/ratings.dat",
        "dat",
        "a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20",
        5917549,
    ),
    "10m": MovieLensArchive(_GROUPLENS + "ml-10m.zip", "ml-10M100K/ratings.dat", "dat", None),
    "20m": MovieLensArchive(
        _GROUPLENS + "ml-20m.zip",
        "ml-20m/ratings.csv",
        "csv",
        "96f243c338a8665f6bcc89c53edf6ee39162a846940de6b7c8c48aeada765ff3",
        198702078,
    ),
    "25m": MovieLensArchive(
        _GROUPLENS + "ml-25m.zip",
        "ml-25m/ratings.csv",
        "csv",
        "8b21cfb7eb1706b4ec0aac894368d90acf26ebdfb6aced3ebd4ad5bd1eb9c6aa",
        261978986,
    ),
    "32m": MovieLensArchive(_GROUPLENS + "ml-32m.zip", "ml-32m/ratings.csv", "csv", None),
    "latest-small": MovieLensArchive(
        _GROUPLENS + "ml-latest-small.zip",
        "ml-latest-small/ratings.csv",
        "csv",
        "696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436",
        978202,
    ),
}


# -- fetching ----------------------------------------------------------------------


def get_data_home(data_home: str | os.PathLike[str] | None = None) -> Path:
    """The cache folder: ``data_home``, else ``$DMC_DATA``, else ``~/dmc_data`` (created).

    Examples
    --------
    >>> import tempfile
    >>> from dmc.data.movielens import get_data_home
    >>> get_data_home(tempfile.mkdtemp()).is_dir()
    True
    """
    if data_home is None:
        data_home = os.environ.get("DMC_DATA") or Path("~") / "dmc_data"
    home = Path(os.fspath(data_home)).expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home


def fetch_movielens(
    variant: str = "100k",
    *,
    data_home: str | os.PathLike[str] | None = None,
    download_if_missing: bool = True,
    url: str | None = None,
    sha256: str | None = None,
    as_frame: bool = True,
    timeout: float = 60.0,
) -> Any:
    """The ratings of a MovieLens variant, downloaded once from GroupLens and cached.

    The archive is saved as ``data_home/<name>.zip`` after its SHA-256 matched
    :data:`MOVIELENS` (or ``sha256``); only its ratings file is extracted, to
    ``data_home/<member>``, and later calls read that file without network.

    Parameters
    ----------
    variant : {"100k", "1m", "10m", "20m", "25m", "32m", "latest-small"}
    data_home : path or None
        Cache folder; None: ``$DMC_DATA`` or ``~/dmc_data``.
    download_if_missing : bool, default True
        False raises ``FileNotFoundError`` instead of downloading.
    url : str or None
        Download from here instead of GroupLens (a mirror; tests serve a
        small archive on localhost). The archive must have the official layout.
    sha256 : str or None
        Expected SHA-256 (hex) of the archive; None takes the table's. With no
        checksum at all the download is kept with a warning stating its SHA-256.
    as_frame : bool, default True
        As in :func:`read_ratings`.
    timeout : float, default 60
        Seconds before a stalled connection is abandoned.

    Returns
    -------
    DataFrame or dict of ndarray
        As :func:`read_ratings`.

    Raises
    ------
    OSError
        The download failed, or the archive's SHA-256 differs from the
        expected one (the file is then deleted, never used).
    """
    variant = check_choice(variant, "variant", tuple(MOVIELENS))
    archive = MOVIELENS[variant]
    if url is not None and not isinstance(url, str):
        raise TypeError(f"The 'url' parameter must be a str or None. Got {url!r} instead.")
    expected = archive.sha256 if sha256 is None else _check_sha256(sha256)
    timeout = check_float(timeout, "timeout", low=0.0, low_open=True)
    home = get_data_home(data_home)
    target = home / archive.member
    if not target.is_file():
        zip_path = home / archive.url.rsplit("/", 1)[-1]
        if zip_path.is_file() and expected is not None and _sha256_of(zip_path) != expected:
            logger.warning("cached %s does not match its SHA-256: downloading again", zip_path)
            zip_path.unlink()
        if not zip_path.is_file():
            if not download_if_missing:
                raise FileNotFoundError(
                    f"MovieLens {variant!r} is not in {str(home)!r} and download_if_missing=False."
                )
            _download(url or archive.url, zip_path, expected, variant, timeout)
        _extract(zip_path, archive.member, target)
    return read_ratings(target, format=archive.format, as_frame=as_frame)


def _check_sha256(value):
    ok = isinstance(value, str) and len(value) == 64
    ok = ok and all(c in "0123456789abcdef" for c in value.lower())
    if not ok:
        raise ValueError(
            f"The 'sha256' parameter must be 64 hexadecimal digits or None. Got {value!r} instead."
        )
    return value.lower()


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(url, zip_path: Path, expected, variant, timeout):
    logger.info("downloading %s to %s", url, zip_path)
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=zip_path.parent, prefix=zip_path.name, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    for block in iter(lambda: response.read(1 << 20), b""):
                        digest.update(block)
                        out.write(block)
            except OSError as exc:  # URLError, HTTPError, timeouts
                raise OSError(
                    f"Could not download MovieLens {variant!r} from {url}: {exc}"
                ) from exc
        got = digest.hexdigest()
        if expected is None:
            warnings.warn(
                f"No SHA-256 is known for MovieLens {variant!r}; the archive downloaded from "
                f"{url} has SHA-256 {got}. Pass sha256= to pin it.",
                UserWarning,
                stacklevel=3,
            )
        elif got != expected:
            raise OSError(
                f"The archive downloaded from {url} has SHA-256 {got}, but MovieLens "
                f"{variant!r} should have {expected}: the file is corrupt or not the official "
                "one, and was deleted."
            )
        os.replace(tmp, zip_path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _extract(zip_path: Path, member: str, target: Path):
    """Copy one member out of the archive (by its known name: no path from the zip is used)."""
    try:
        with zipfile.ZipFile(zip_path) as zf:
            try:
                src = zf.open(member)
            except KeyError:
                raise OSError(
                    f"The archive {str(zip_path)!r} has no {member!r}: not a MovieLens archive "
                    "of the expected layout."
                ) from None
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
            try:
                with src, os.fdopen(fd, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                os.replace(tmp, target)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
    except zipfile.BadZipFile as exc:
        raise OSError(f"The archive {str(zip_path)!r} is not a valid zip file: {exc}") from exc
