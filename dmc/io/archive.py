"""Safe, atomic files for fitted models and checkpoints.

A dmc file is a zip archive (the ``.npz`` layout) holding

* ``manifest.json``: format name and version, the object's ``kind``, its JSON
  metadata, and for every array its dtype, shape and SHA-256;
* ``manifest.sha256``: the SHA-256 of ``manifest.json``;
* ``arrays/<name>.npy``: numeric arrays in numpy's format, written and read with
  ``allow_pickle=False``.

Loading runs no code from the file: no pickle anywhere, object arrays are
refused, every array is checked against its recorded hash, dtype and shape, so
a truncated or edited file raises :class:`~dmc.exceptions.FileFormatError`
instead of returning a model with silently wrong numbers. Writing goes to a
temporary file in the target's folder that is renamed over the target only
when complete, so an interrupted save never leaves a half-written file (or a
destroyed earlier one) behind.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
import stat
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from ..exceptions import FileFormatError

FORMAT = "dmc"
VERSION = 1
_MANIFEST = "manifest.json"
_MANIFEST_HASH = "manifest.sha256"
# plain data only: bool, signed/unsigned int, float, fixed-width bytes and unicode,
# datetime and timedelta; never object ("O") or structured ("V") arrays
_ALLOWED_KINDS = set("biufSUmM")
#: the largest arrays a file may declare: numpy's own limits
_MAX_NDIM = 32
_MAX_BYTES = np.iinfo(np.intp).max


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_archive(
    path, kind: str, meta: dict, arrays: dict[str, np.ndarray], *, param: str = "path"
) -> Path:
    """Write ``arrays`` and JSON ``meta`` to ``path`` atomically; return the path.

    ``path`` must be a regular file (replaced only once the new one is complete)
    or a new name in an existing folder; anything else there (a folder, a
    symbolic link, a FIFO, a device) is refused, with ``param`` named in the
    error, and left untouched. The new file has the permissions of the file it
    replaces (never its setuid, setgid or sticky bits), or those ``open`` gives.
    """
    path = writable_path(path, param)
    entries = {}
    blobs = {}
    for name, value in arrays.items():
        array = np.asarray(value)
        if not array.flags.c_contiguous:  # (np.ascontiguousarray would make 0-d arrays 1-d)
            array = np.ascontiguousarray(array)
        if array.dtype.kind not in _ALLOWED_KINDS:
            raise TypeError(
                f"Array {name!r} has dtype {array.dtype}; only plain numeric or text arrays "
                "are saved."
            )
        buffer = io.BytesIO()
        np.lib.format.write_array(buffer, array, allow_pickle=False)
        blob = buffer.getvalue()
        blobs[name] = blob
        entries[name] = {
            "dtype": array.dtype.str,
            "shape": list(array.shape),
            "sha256": _sha256(blob),
        }
    manifest = json.dumps(
        {"format": FORMAT, "version": VERSION, "kind": kind, "meta": meta, "arrays": entries},
        indent=1,
        sort_keys=True,
        allow_nan=True,
    ).encode()

    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            if hasattr(os, "fchmod"):  # mkstemp makes the file private (0600)
                os.fchmod(handle.fileno(), _file_mode(path))
            with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
                archive.writestr(_MANIFEST, manifest)
                archive.writestr(_MANIFEST_HASH, _sha256(manifest))
                for name, blob in blobs.items():
                    archive.writestr(f"arrays/{name}.npy", blob)
            handle.flush()
            os.fsync(handle.fileno())
        writable_path(path, param)  # again: something may have appeared there meanwhile
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _sync_folder(folder)
    return path


def _file_mode(path: Path) -> int:
    """The permissions of the file being replaced, or those ``open`` would give a new one.

    Only the read, write and execute bits: never setuid, setgid or sticky.
    """
    try:
        return os.lstat(path).st_mode & 0o777
    except OSError:
        pass
    try:
        with open("/proc/self/status") as status:
            umask = next(int(line.split()[1], 8) for line in status if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError, IndexError):
        umask = os.umask(0o022)  # read it the portable way: set and restore
        os.umask(umask)
    return 0o666 & ~umask


def _fspath(path, param: str) -> str:
    """``path`` as a non-empty str, or a TypeError or ValueError naming ``param``."""
    value = os.fspath(path) if isinstance(path, os.PathLike) else path
    if not isinstance(value, str):
        raise TypeError(
            f"The {param!r} parameter must be a path (a str or an os.PathLike giving a str). "
            f"Got {type(path).__name__} {path!r:.80} instead."
        )
    if not value or "\0" in value:
        raise ValueError(
            f"The {param!r} parameter must name a file: a non-empty path without NUL "
            f"characters. Got {value!r:.80} instead."
        )
    return value


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _what(mode: int) -> str:
    return next((what for test, what in _KINDS if test(mode)), "not a regular file")


def writable_path(path, param: str = "path") -> Path:
    """``path`` checked for writing a dmc file there; the parameter is named ``param``.

    It must be a regular file (which is replaced) or a new name in an existing
    folder. A folder, a symbolic link (even to a regular file), a FIFO, a device
    or a socket is refused: replacing it would destroy it, and a link's target
    would never be written.
    """
    value = _fspath(path, param)
    target = Path(value)
    folder = target.parent
    if not folder.is_dir():
        missing = not folder.exists()
        raise (FileNotFoundError if missing else NotADirectoryError)(
            f"The {param!r} parameter must be a path in an existing folder. Got {value!r} "
            f"instead: {str(folder)!r} {'does not exist' if missing else 'is not a folder'}."
        )
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return target
    if not stat.S_ISREG(mode):
        raise ValueError(
            f"The {param!r} parameter must name a regular file (it is replaced) or a path "
            f"where nothing exists yet. Got {value!r} instead, {_what(mode)}; it is left "
            "untouched."
        )
    return target


def readable_path(path, param: str = "path") -> Path:
    """``path`` checked for reading a dmc file; the parameter is named ``param``.

    FileNotFoundError when nothing is there; a ValueError for a folder, a FIFO,
    a device or a socket (reading a FIFO would wait forever). A symbolic link to a
    regular file is read.
    """
    value = _fspath(path, param)
    target = Path(value)
    try:
        mode = os.stat(target).st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise FileNotFoundError(
            f"No dmc file at {value!r}: the {param!r} parameter must name an existing file. "
            f"Got {value!r} instead."
        ) from None
    if not stat.S_ISREG(mode):
        raise ValueError(
            f"The {param!r} parameter must name a dmc file (a regular file). Got {value!r} "
            f"instead, {_what(mode)}."
        )
    return target


def stale_temporaries(path) -> list[Path]:
    """Temporary files that an interrupted :func:`write_archive` to ``path`` left behind.

    Only names of the form ``.<name>.<8 random characters>.tmp`` next to
    ``path`` (the pattern of :func:`write_archive`), and only regular files.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[A-Za-z0-9_]{{8}}\.tmp")
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    found = []
    for name in sorted(names):
        if pattern.fullmatch(name):
            candidate = folder / name
            try:
                if stat.S_ISREG(os.lstat(candidate).st_mode):
                    found.append(candidate)
            except OSError:
                continue
    return found


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); best effort."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_archive(
    path, kind: str | tuple[str, ...], *, param: str = "path", arrays: bool = True
) -> tuple[dict, dict[str, np.ndarray], str]:
    """Read a file written by :func:`write_archive`; return ``(meta, arrays, kind)``.

    Raises FileNotFoundError when there is no such file, a ValueError when
    ``path`` is not a regular file (both naming ``param``), and FileFormatError
    when the file is not a dmc file, is truncated or edited, or holds another kind.
    ``arrays=False`` reads and checks the manifest only (the arrays come back empty).
    """
    path = readable_path(path, param)
    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    try:
        with zipfile.ZipFile(path) as archive:
            header = _read_header(archive, path, kinds)
            loaded = _read_arrays(archive, header, path) if arrays else {}
    except FileFormatError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
        if isinstance(exc, (FileNotFoundError, PermissionError)):
            raise
        raise FileFormatError(
            f"{str(path)!r} is not a readable dmc file (truncated or not a zip archive): {exc}"
        ) from exc
    except (
        ValueError,
        KeyError,
        TypeError,
        OverflowError,
        UnicodeDecodeError,
        RecursionError,
    ) as exc:
        raise FileFormatError(f"{str(path)!r} is not a valid dmc file: {exc}") from exc
    return header["meta"], loaded, header["kind"]


def _read_header(archive: zipfile.ZipFile, path: Path, kinds: tuple[str, ...]) -> dict:
    """The manifest, checked against its checksum and for its format, version and kind."""
    names = set(archive.namelist())
    if _MANIFEST not in names or _MANIFEST_HASH not in names:
        raise FileFormatError(f"{str(path)!r} is a zip archive but not a dmc file.")
    manifest = _read_member(archive, _MANIFEST, path, "its manifest")
    expected = _read_member(archive, _MANIFEST_HASH, path, "its manifest checksum")
    if expected.decode("ascii", "replace") != _sha256(manifest):
        raise FileFormatError(
            f"{str(path)!r} is damaged or was edited: its manifest does not match its checksum."
        )
    header = json.loads(manifest)
    _check_header(header, path, kinds)
    return header


def _read_arrays(archive: zipfile.ZipFile, header: dict, path: Path) -> dict[str, np.ndarray]:
    names = set(archive.namelist())
    arrays = {}
    for name, entry in header["arrays"].items():
        member = f"arrays/{name}.npy"
        if member not in names:
            raise FileFormatError(f"{str(path)!r} is missing the array {name!r}.")
        blob = _read_member(archive, member, path, f"the array {name!r}")
        if _sha256(blob) != entry["sha256"]:
            raise FileFormatError(
                f"{str(path)!r} is damaged or was edited: the array {name!r} does not match "
                "its checksum."
            )
        arrays[name] = _read_npy(blob, entry, name, path)
    return arrays


def _read_member(archive: zipfile.ZipFile, member: str, path: Path, what: str) -> bytes:
    """The bytes of one member: stored (never inflated, so no zip bomb), CRC checked."""
    info = archive.getinfo(member)
    if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
        raise FileFormatError(
            f"{str(path)!r} is not a dmc file as dmc writes it: {what} is compressed."
        )
    try:
        return archive.read(member)
    except zipfile.BadZipFile as exc:  # the zip's own CRC-32 of the member
        raise FileFormatError(
            f"{str(path)!r} is damaged or was edited: {what} does not match its checksum ({exc})."
        ) from exc


def _read_npy(blob: bytes, entry: dict, name: str, path: Path) -> np.ndarray:
    """Parse one ``.npy`` blob after checking its header against the manifest.

    The dtype (plain data only) and the size are checked before anything is
    allocated or parsed, so an object array or a forged huge shape is refused
    without reading further.
    """
    dtype = np.dtype(entry["dtype"])
    shape = entry["shape"]
    plain = dtype.kind in _ALLOWED_KINDS and dtype.fields is None and dtype.subdtype is None
    valid_shape = (
        isinstance(shape, list)
        and len(shape) <= _MAX_NDIM
        and all(type(n) is int and n >= 0 for n in shape)
        # what numpy can allocate: the size in bytes, zero lengths counted as 1
        and math.prod(max(n, 1) for n in shape) * max(dtype.itemsize, 1) <= _MAX_BYTES
    )
    if not plain or not valid_shape:
        raise FileFormatError(
            f"{str(path)!r}: the array {name!r} is recorded with dtype {entry['dtype']!r} and "
            f"shape {shape!r}; dmc files hold only plain numeric or text arrays."
        )
    stream = io.BytesIO(blob)
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        stored_shape, _, stored_dtype = np.lib.format.read_array_header_1_0(stream)
    elif version == (2, 0):
        stored_shape, _, stored_dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise FileFormatError(f"{str(path)!r}: the array {name!r} has npy version {version}.")
    size = math.prod(shape) * dtype.itemsize
    if (
        stored_dtype.str != entry["dtype"]
        or list(stored_shape) != shape
        or len(blob) - stream.tell() != size
    ):
        raise FileFormatError(
            f"{str(path)!r}: the array {name!r} does not have its recorded dtype, shape and size."
        )
    return np.lib.format.read_array(io.BytesIO(blob), allow_pickle=False)


def _check_header(header, path, kinds):
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise FileFormatError(f"{str(path)!r} is not a dmc file.")
    if type(header.get("version")) is not int or header["version"] != VERSION:
        raise FileFormatError(
            f"{str(path)!r} was written in dmc file version {header.get('version')!r}; "
            f"this dmc reads version {VERSION}."
        )
    if header.get("kind") not in kinds:
        raise FileFormatError(
            f"{str(path)!r} holds a {header.get('kind')!r}, expected "
            f"{' or '.join(repr(k) for k in kinds)}."
        )
    if not isinstance(header.get("meta"), dict) or not isinstance(header.get("arrays"), dict):
        raise FileFormatError(f"{str(path)!r} has a malformed manifest.")
