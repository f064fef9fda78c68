"""General linear compartment systems: inputs into any compartment (nasal and gut depots,
a hepato-portal liver, metabolites). Solved exactly between events from the eigen-
decomposition of the rate matrix (complex arithmetic where needed), so a model whose
drug does not enter the central compartment directly is still simulated without a grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Input", "LinearSystem", "solve"]


@dataclass(frozen=True)
class LinearSystem:
    a_per_min: NDArray[np.float64]  # dx/dt = A x + u, amounts in mg
    names: tuple[str, ...]
    central: int
    central_volume_l: float
    metabolite: int | None = None
    metabolite_volume_l: float | None = None
    effect: int | None = None  # an effect compartment whose "amount" is Ce times the central volume


@dataclass(frozen=True)
class Input:
    compartment: int
    start_min: float
    duration_min: float  # 0 for an instantaneous dose
    amount_mg: float


def solve(system: LinearSystem, inputs: Sequence[Input], times: NDArray[np.float64]) -> NDArray[np.float64]:
    """Amounts (times x compartments) at ``times`` (sorted or not)."""
    a = system.a_per_min
    n = a.shape[0]
    lam, vec = np.linalg.eig(a.astype(complex))
    inv = np.linalg.inv(vec)
    edges = sorted({0.0, *[i.start_min for i in inputs], *[i.start_min + i.duration_min for i in inputs]})
    grid = np.array(edges)

    def rate_at(t: float) -> NDArray[np.float64]:
        u = np.zeros(n)
        for i in inputs:
            if i.duration_min > 0 and i.start_min <= t < i.start_min + i.duration_min:
                u[i.compartment] += i.amount_mg / i.duration_min
        return u

    def bolus_at(t: float) -> NDArray[np.float64]:
        b = np.zeros(n)
        for i in inputs:
            if i.duration_min == 0 and i.start_min == t:
                b[i.compartment] += i.amount_mg
        return b

    def advance(x: NDArray[np.complex128], h: NDArray[np.float64], u: NDArray[np.float64]) -> NDArray[np.complex128]:
        z0, w = inv @ x, inv @ u
        lh = np.multiply.outer(h, lam)
        safe = np.where(lam == 0, 1.0, lam)
        factor = np.where(lam == 0, h[:, None], np.expm1(lh) / safe)
        return np.asarray((z0 * np.exp(lh) + w * factor) @ vec.T)

    states = np.zeros((len(grid), n), dtype=complex)
    x = np.zeros(n, dtype=complex)
    for k, t in enumerate(grid):
        if k:
            x = advance(x, np.array([t - grid[k - 1]]), rate_at(grid[k - 1]))[0]
        x = x + bolus_at(t)
        states[k] = x
    idx = np.searchsorted(grid, times, side="right") - 1
    out = np.empty((times.size, n))
    for k in np.unique(idx):
        mask = idx == k
        out[mask] = advance(states[k], times[mask] - grid[k], rate_at(grid[k])).real
    return out
