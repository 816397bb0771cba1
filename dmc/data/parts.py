"""One of ``n`` slices of a ratings file, for the ranks of a data-parallel fit.

``read_ratings(path, part=(k, n))`` reads only the lines of slice ``k``: the
file's body (after its header line, when it has one) is cut into ``n`` byte
ranges of equal size, each moved forward to the next line start, so that every
line falls in exactly one slice whatever the layout, and each rank reads about
``1/n`` of the file (plus its header).
"""

from __future__ import annotations

import io
import numbers
import os
from pathlib import Path

__all__ = ["FilePart", "check_part"]


def check_part(part) -> tuple[int, int] | None:
    """The ``part`` parameter of :func:`~dmc.data.readers.read_ratings`, checked."""
    if part is None:
        return None
    ok = (
        isinstance(part, tuple)
        and len(part) == 2
        and all(isinstance(x, numbers.Integral) and not isinstance(x, bool) for x in part)
        and 0 <= part[0] < part[1]
    )
    if not ok:
        raise ValueError(
            "The 'part' parameter must be None or a pair (k, n) of ints with 0 <= k < n "
            f"(slice k of n, e.g. (rank, world_size)). Got {part!r} instead."
        )
    return int(part[0]), int(part[1])


class FilePart:
    """Slice ``k`` of ``n`` of the file at ``path``, read as if it were the whole file.

    ``header``: the file's first line belongs to every slice (a header).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
    >>> _ = path.write_bytes(b"u,i,r\\n1,1,5\\n1,2,4\\n2,1,3\\n")
    >>> [FilePart(path, k, 2, header=True).read_bytes() for k in range(2)]
    [b'u,i,r\\n1,1,5\\n1,2,4\\n', b'u,i,r\\n2,1,3\\n']
    """

    def __init__(self, path: Path, k: int, n: int, *, header: bool):
        self.path, self.k, self.n, self.header = Path(path), k, n, header
        self.name = self.path.name

    def __str__(self) -> str:
        return f"{self.path} (part {self.k} of {self.n})"

    def __fspath__(self) -> str:  # the messages name the file
        return os.fspath(self.path)

    def read_bytes(self) -> bytes:
        with open(self.path, "rb") as fh:
            head = fh.readline() if self.header else b""
            body = fh.tell()
            size = fh.seek(0, os.SEEK_END)
            start = _line_start(fh, body + (size - body) * self.k // self.n, body)
            stop = _line_start(fh, body + (size - body) * (self.k + 1) // self.n, body)
            fh.seek(start)
            return head + fh.read(stop - start)

    def open_text(self, encoding: str, newline: str | None = None, errors: str = "strict"):
        return io.TextIOWrapper(
            io.BytesIO(self.read_bytes()), encoding=encoding, newline=newline, errors=errors
        )


def _line_start(fh, offset: int, body: int) -> int:
    """The first line start at or after ``offset`` (``body``: where the lines begin)."""
    if offset <= body:
        return body
    fh.seek(offset - 1)
    fh.readline()  # to the end of the line holding byte offset - 1
    return fh.tell()
