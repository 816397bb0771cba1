"""Refuse, before allocating, models that would not fit in memory."""

from __future__ import annotations

import os

import torch

from ..exceptions import ProblemTooLargeError

__all__ = [
    "check_dense_fits_in_memory",
    "check_factors_fit_in_memory",
    "check_wide_network_fits_in_memory",
]


def _available_memory(device: torch.device) -> int:
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 2**63 - 1


def check_factors_fit_in_memory(m, n, k, dtype, device, method):
    """Refuse, before allocating, outer factors (m x k, n x k) that would not fit.

    A matrix with hundreds of billions of rows (indices beyond int32 are fine,
    a shape of 2**40 rows is not) fails here with a clear message instead of
    a MemoryError from deep inside numpy.
    """
    itemsize = torch.finfo(dtype).bits // 8
    # the initialisation's float64 temporaries and the sparse matrix's row pointers
    host = 8 * (4 * (m + n) * k + 2 * (m + n))
    # parameters, gradients, the line search's copy and step, backward products
    dev = itemsize * 5 * (m + n) * k
    cpu = torch.device("cpu")
    for need, where in ((host, cpu), (dev, device)):
        have = _available_memory(where)
        if need > 0.8 * have:
            gib = 2**30
            raise ProblemTooLargeError(
                f"The {method} model needs about {need / gib:.1f} GiB on {where} for factors "
                f"of width {k}, but only {have / gib:.1f} GiB is available. Got a {m} x {n} "
                "matrix: check the 'shape' of the observations (indices far beyond the "
                "number of rows or columns make a huge matrix) or lower the 'rank'."
            )


def check_wide_network_fits_in_memory(m, n, d, depth, dtype, device):
    """Refuse, before allocating, a wide network whose training would not fit."""
    itemsize = torch.finfo(dtype).bits // 8
    n_params = d * n + (depth - 2) * d * d + m * d
    # parameters, gradients, the line search's copy and step, backward products,
    # plus the dense end-to-end matrix and its gradient
    need = itemsize * (5 * n_params + 3 * m * n)
    have = _available_memory(device)
    if need > 0.8 * have:
        gib = 2**30
        raise ProblemTooLargeError(
            f"The original (wide) network for a {m} x {n} matrix with width {d} and depth "
            f"{depth} needs about {need / gib:.1f} GiB to train, but only {have / gib:.1f} GiB "
            f"is available on {device}. Use method='compressed', which never builds the "
            "d x d weights, or a smaller 'width'."
        )


def check_dense_fits_in_memory(m, n, itemsize, device, what):
    """Refuse, before allocating, a dense ``m x n`` matrix that would not fit.

    The rule of the other checks: more than 80% of the available memory is
    refused. ``what`` names the call (e.g. "CompletionResult.to_dense()").
    A matrix built on a GPU is copied to the host for numpy: both must hold it.
    """
    need = itemsize * m * n
    cpu = torch.device("cpu")
    for where in (device, cpu) if device.type != "cpu" else (cpu,):
        have = _available_memory(where)
        if need > 0.8 * have:
            gib = 2**30
            raise ProblemTooLargeError(
                f"{what} would build the dense {m} x {n} matrix: about {need / gib:.1f} GiB "
                f"on {where}, but only {have / gib:.1f} GiB is available. Got shape "
                f"{(m, n)}, the 'shape' of the observations; use predict(rows, cols) for the "
                "entries you need, or the factors."
            )
