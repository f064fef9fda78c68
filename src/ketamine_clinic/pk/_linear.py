"""Exact solution of linear compartment systems under piecewise-constant input.

dx/dt = A x + u(t), amounts in mg, times in minutes. Between events (a bolus, an
infusion starting or stopping) u is constant, so in the eigenbasis of A (x = V z) every
mode obeys z' = lam z + w and z(t + tau) = z(t) e^(lam tau) + w expm1(lam tau) / lam,
exactly. The cost grows with events + output times, never with their product:

1. the modal state at every event comes from one vectorised scan (a cumulative sum in
   time-shifted coordinates, cut into blocks so that no exponential overflows);
2. every output time is then one exponential per mode from the event before it.

Only numpy: this module is imported by web workers that draw a session's curve.

Errors: ``ModelError`` (a ``ValueError``) for a rate matrix that is not a valid
compartment system (non-finite, not diagonalisable, a mode that does not decay).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Input",
    "LinearSystem",
    "ModelError",
    "Modes",
    "Piecewise",
    "Solution",
    "decompose",
    "piecewise",
    "solve",
    "uniform_step",
]

_Arr = NDArray[Any]  # real, or complex for a model with oscillating modes

#: exponent range kept inside one block of the event scan (e^600 ~ 1e260 < float max)
_SPAN = 600.0


class ModelError(ValueError):
    """A model whose equations are not a valid, solvable compartment system."""


@dataclass(frozen=True)
class LinearSystem:
    a_per_min: NDArray[np.float64]  # dx/dt = A x + u, amounts in mg
    names: tuple[str, ...]
    central: int
    central_volume_l: float
    metabolite: int | None = None
    metabolite_volume_l: float | None = None
    effect: int | None = None  # an effect compartment whose "amount" is Ce times the central volume
    nasal_fraction: float = 0.0  # a nasal model's fraction of a first device absorbed through the mucosa


class Input(NamedTuple):
    compartment: int
    start_min: float
    duration_min: float  # 0 for an instantaneous dose
    amount_mg: float


@dataclass(frozen=True)
class Modes:
    lam: _Arr  # eigenvalues (per min)
    vec: _Arr  # columns: eigenvectors
    inv: _Arr
    out: _Arr  # elimination rate of each mode: o @ vec


def decompose(a: NDArray[np.float64], body: Sequence[int]) -> Modes:
    """Eigen-decomposition of ``a``; ``body`` lists the compartments holding drug (the
    others, such as an effect site, hold no mass). Raises ``ModelError`` when ``a`` is not a
    decaying, diagonalisable compartment system. The same patient's system is decomposed
    once (a small cache keyed on the matrix itself)."""
    return _decompose(np.ascontiguousarray(a, dtype=float).tobytes(), a.shape[0], tuple(body))


@lru_cache(maxsize=256)
def _decompose(raw: bytes, n: int, body: tuple[int, ...]) -> Modes:
    a = np.frombuffer(raw, dtype=float).reshape(n, n)
    if not np.all(np.isfinite(a)):
        raise ModelError("the model's rate constants are not finite numbers")
    lam, vec = np.linalg.eig(a)
    if np.any(lam.real >= 0):
        raise ModelError("the model has a compartment that never empties (a rate matrix mode that does not decay)")
    try:
        inv = np.linalg.inv(vec)
    except np.linalg.LinAlgError:
        inv = np.full_like(vec, np.inf)
    scale = float(np.max(np.abs(a)))
    if not np.all(np.isfinite(inv)) or np.max(np.abs((vec * lam) @ inv - a)) > 1e-9 * scale:
        raise ModelError("the model's rate matrix is not diagonalisable (repeated rate constants): perturb them")
    if np.max(np.abs(lam.imag)) <= 1e-12 * np.max(np.abs(lam)):
        lam, vec, inv = lam.real.copy(), vec.real.copy(), inv.real.copy()
    # elimination: whatever leaves the body compartments (column sums of A over the body rows)
    outflow = -a[np.asarray(body)].sum(axis=0)
    outflow[[i for i in range(n) if i not in set(body)]] = 0.0
    for arr in (lam, vec, inv):
        arr.flags.writeable = False
    return Modes(lam, vec, inv, outflow @ vec)


@dataclass(frozen=True)
class Piecewise:
    """Input that is constant between ``times_min`` (ascending, the first 0): after event
    i the input rate is ``rates[i]`` (mg/min per compartment) and ``boluses[i]`` mg arrive
    at it."""

    times_min: NDArray[np.float64]
    rates: NDArray[np.float64]  # (events, compartments)
    boluses: NDArray[np.float64]  # (events, compartments)


def piecewise(inputs: Sequence[Input], n: int) -> Piecewise:
    """Events from ``inputs`` in O(inputs log inputs): rate steps are summed in time
    order, never searched per event."""
    if len(inputs) > 16:
        return _piecewise_many(inputs, n)
    steps: dict[float, list[tuple[int, float, int]]] = {0.0: []}
    boluses: dict[float, list[tuple[int, float]]] = {}
    for i in inputs:
        if i.duration_min > 0:
            rate = i.amount_mg / i.duration_min
            steps.setdefault(i.start_min, []).append((i.compartment, rate, 1))
            steps.setdefault(i.start_min + i.duration_min, []).append((i.compartment, -rate, -1))
        else:
            steps.setdefault(i.start_min, [])
            boluses.setdefault(i.start_min, []).append((i.compartment, i.amount_mg))
    times = sorted(steps)
    rows: list[list[float]] = []
    bolus = np.zeros((len(times), n))
    level, active = [0.0] * n, [0] * n
    for k, t in enumerate(times):
        for c, r, count in steps[t]:
            level[c] += r
            active[c] += count
            if active[c] == 0:
                level[c] = 0.0  # no round-off residue once every infusion has stopped
        rows.append(list(level))
        for c, amount in boluses.get(t, ()):
            bolus[k, c] += amount
    return Piecewise(np.array(times), np.maximum(np.array(rows), 0.0), bolus)


def _piecewise_many(inputs: Sequence[Input], n: int) -> Piecewise:
    raw = np.array(inputs, dtype=float).reshape(-1, 4)
    comp, start, dur, amount = raw[:, 0].astype(np.int64), raw[:, 1], raw[:, 2], raw[:, 3]
    inf = dur > 0
    end = start[inf] + dur[inf]
    times, where = np.unique(np.concatenate(([0.0], start, end)), return_inverse=True)
    at_start, at_end = where[1 : 1 + start.size], where[1 + start.size :]
    flat = times.size * n
    rate = amount[inf] / dur[inf]
    step = np.bincount(at_start[inf] * n + comp[inf], rate, flat) - np.bincount(at_end * n + comp[inf], rate, flat)
    count = np.bincount(at_start[inf] * n + comp[inf], None, flat) - np.bincount(at_end * n + comp[inf], None, flat)
    rates = np.cumsum(step.reshape(-1, n), axis=0)
    active = np.cumsum(count.reshape(-1, n), axis=0) > 0.5
    rates = np.where(active, np.maximum(rates, 0.0), 0.0)  # no round-off residue once infusions stop
    boluses = np.bincount(at_start[~inf] * n + comp[~inf], amount[~inf], flat).reshape(-1, n)
    return Piecewise(times, np.asarray(rates, dtype=float), np.asarray(boluses, dtype=float))


def _event_states(modes: Modes, pw: Piecewise) -> tuple[_Arr, _Arr]:
    """Modal state just after each event's bolus and the modal input rate after each
    event.

    z_i = sum_{l <= i} f_l exp(lam (t_i - t_l)) with f_l what arrives over the step into
    event l: a cumulative sum in coordinates shifted by exp(-lam t). Within a block the
    shift stays below e^600; for input into one compartment every term of a mode has the
    same sign, so the sum loses nothing to cancellation."""
    lam, inv = modes.lam, modes.inv
    w = pw.rates @ inv.T
    d = pw.boluses @ inv.T
    t = pw.times_min
    if t.size == 1:
        return d, w
    if t.size <= 4:  # a step at a time is cheaper than the scan's set-up
        z = d.copy()
        for i in range(1, t.size):
            x = lam * (t[i] - t[i - 1])
            z[i] += z[i - 1] * np.exp(x) + w[i - 1] * (np.expm1(x) / lam)
        return z, w
    h = t[1:] - t[:-1]
    f = d.copy()
    f[1:] += w[:-1] * (np.expm1(h[:, None] * lam) / lam)
    fastest = float(np.max(-lam.real))
    if (t[-1] - t[0]) * fastest <= _SPAN:
        shift = t[:, None] * lam
        z = np.exp(shift) * np.cumsum(f * np.exp(-shift), axis=0)
    else:
        z = np.empty_like(f)
        lo = 0
        while lo < t.size:
            hi = max(int(np.searchsorted(t, t[lo] + _SPAN / fastest, side="right")), lo + 1)
            src = f[lo:hi].copy()
            if lo:
                src[0] += z[lo - 1] * np.exp(lam * (t[lo] - t[lo - 1]))
            shift = (t[lo:hi, None] - t[lo]) * lam
            z[lo:hi] = np.exp(shift) * np.cumsum(src * np.exp(-shift), axis=0)
            lo = hi
    return z, w


def _eliminated_by_events(modes: Modes, pw: Piecewise, z: _Arr, w: _Arr) -> NDArray[np.float64]:
    """Amount eliminated by each event: out . integral of z over each step, which is
    out . (z_before - z_after_previous - w h) / lam."""
    t = pw.times_min
    gone = np.zeros(t.size)
    if t.size > 1:
        d = pw.boluses @ modes.inv.T
        area = (z[1:] - d[1:] - z[:-1] - w[:-1] * (t[1:] - t[:-1])[:, None]) / modes.lam
        np.cumsum((area @ modes.out).real, out=gone[1:])
    return gone


@dataclass(frozen=True, eq=False)
class Solution:
    """The exact solution at ``times``; amounts and the eliminated mass are formed on
    demand, so a caller that needs one concentration pays for one."""

    modes: Modes
    times: NDArray[np.float64]
    events: Piecewise
    z_events: _Arr  # modal state just after each event
    w: _Arr  # modal input rate after each event
    step: float | None = None  # the grid step when ``times`` is a uniform grid

    def project(self, rows: _Arr) -> list[NDArray[np.float64]]:
        """Each row (a combination of compartment amounts) at every output time."""
        weights = rows @ self.modes.vec  # (k, m)
        steady = self.w / self.modes.lam
        coef = (self.z_events + steady)[:, None, :] * weights[None]  # (events, k, m)
        const = steady @ weights.T  # (events, k)
        return _evaluate(self.modes.lam, self.events.times_min, coef, const, self.times, self.step)

    def amount(self, compartment: int) -> NDArray[np.float64]:
        row = np.zeros((1, self.modes.vec.shape[0]))
        row[0, compartment] = 1.0
        return self.project(row)[0]

    @cached_property
    def amounts(self) -> NDArray[np.float64]:
        return np.stack(self.project(np.eye(self.modes.vec.shape[0])), axis=1)

    @cached_property
    def eliminated_mg(self) -> NDArray[np.float64]:
        lam, w, z_ev = self.modes.lam, self.w, self.z_events
        idx = np.searchsorted(self.events.times_min, self.times, side="right") - 1
        tau = self.times - self.events.times_min[idx]
        e = np.exp(np.multiply.outer(tau, lam))
        z = (z_ev + w / lam)[idx] * e - (w / lam)[idx]
        area = (z - z_ev[idx] - w[idx] * tau[:, None]) / lam
        gone = _eliminated_by_events(self.modes, self.events, z_ev, w)
        return np.asarray(gone[idx] + (area @ self.modes.out).real, dtype=np.float64)


#: output times per chunk: temporaries stay small enough to be reused from the heap
#: instead of freshly mapped (page faults cost more than the arithmetic here)
_CHUNK = 2048


def uniform_step(times: NDArray[np.float64]) -> float | None:
    """The step of ``times`` when they are an ascending uniform grid of 3 or more finite
    points (to 1e-9 of a step), else None."""
    if times.size < 3:
        return None
    width = float(times[-1] - times[0]) / (times.size - 1)
    if not (width > 0 and math.isfinite(width) and math.isfinite(times[0])):
        return None
    gaps = np.diff(times)
    return width if float(gaps.max()) - float(gaps.min()) <= 1e-9 * width else None


def _evaluate(
    lam: _Arr,
    event_times: NDArray[np.float64],
    coef: _Arr,
    const: _Arr,
    times: NDArray[np.float64],
    step: float | None,
) -> list[NDArray[np.float64]]:
    """For each row r: sum_j coef[e, r, j] exp(lam_j (t - t_e)) - const[e, r], with e
    the last event at or before t.

    A uniform grid needs only a few exponentials (below); otherwise one per mode and
    output time, from a vectorised gather of the event coefficients."""
    k, m = coef.shape[1], coef.shape[2]
    if step is not None:
        if event_times.size <= 32:
            return _evaluate_uniform_few(lam, event_times, coef, const, times, step)
        return _evaluate_uniform(lam, event_times, coef, const, times, step)
    out = [np.empty(times.size) for _ in range(k)]
    idx = np.searchsorted(event_times, times, side="right") - 1
    tau = times - event_times[idx]
    for r in range(k):
        acc = -const[:, r][idx]
        for j in range(m):
            acc = acc + coef[:, r, j][idx] * np.exp(lam[j] * tau)
        out[r][:] = acc.real
    return out


def _evaluate_uniform_few(
    lam: _Arr,
    event_times: NDArray[np.float64],
    coef: _Arr,
    const: _Arr,
    times: NDArray[np.float64],
    step: float,
) -> list[NDArray[np.float64]]:
    """``_evaluate_uniform`` for a handful of events: segment by segment, with slices."""
    width = max(16, math.isqrt(times.size))
    row = _row(lam.tobytes(), lam.dtype.str, width, step)
    cuts = np.searchsorted(times, event_times, side="left").tolist() + [times.size]
    out = [np.empty(times.size) for _ in range(coef.shape[1])]
    real = not np.iscomplexobj(coef)
    for e in range(event_times.size):
        lo, hi = cuts[e], cuts[e + 1]
        if hi <= lo:
            continue
        head = np.exp(np.multiply.outer(times[lo:hi:width] - event_times[e], lam))  # (chunks, m)
        for r, target in enumerate(out):
            y = (head * coef[e, r]) @ row
            part = target[lo:hi]
            part[:] = (y if real else y.real).reshape(-1)[: hi - lo]
            part -= const[e, r].real
    return out


@lru_cache(maxsize=64)
def _row(lam: bytes, dtype: str, width: int, step: float) -> _Arr:
    """exp(lam i step) for i < width: the shared factor of every chunk (cached per model
    and grid, since a session's curve is redrawn on the same grid)."""
    values = np.frombuffer(lam, dtype=np.dtype(dtype))
    row: _Arr = np.exp(np.multiply.outer(values, np.arange(width) * step))
    row.flags.writeable = False
    return row


def _evaluate_uniform(
    lam: _Arr,
    event_times: NDArray[np.float64],
    coef: _Arr,
    const: _Arr,
    times: NDArray[np.float64],
    step: float,
) -> list[NDArray[np.float64]]:
    """On a uniform grid every segment is cut into chunks of ``width`` points; a point's
    exponential factors into its chunk's exp(lam tau0) and one shared row
    exp(lam i step), so the whole grid is one small matrix product per output row."""
    cuts = np.append(np.searchsorted(times, event_times, side="left"), times.size)
    lengths = np.diff(cuts)
    width = int(max(1, min(lengths.max(), max(16.0, np.sqrt(times.size)))))
    per_seg = -(-lengths // width)
    seg = np.repeat(np.arange(event_times.size), per_seg)
    first = np.cumsum(per_seg) - per_seg
    start = cuts[seg] + (np.arange(seg.size) - np.repeat(first, per_seg)) * width
    tau0 = times[start] - event_times[seg]
    head = np.exp(np.multiply.outer(tau0, lam))  # (chunks, m)
    row = np.exp(np.multiply.outer(lam, np.arange(width) * step))  # (m, width)
    valid = (start[:, None] + np.arange(width)[None, :]) < cuts[seg + 1][:, None]
    whole = bool(valid.all())
    out = []
    for r in range(coef.shape[1]):
        y = (coef[seg, r, :] * head) @ row - const[seg, r][:, None]
        y = y.real if np.iscomplexobj(y) else y
        out.append(y.reshape(-1) if whole else y[valid])
    return out


def solve(modes: Modes, pw: Piecewise, times: NDArray[np.float64], step: float | None = None) -> Solution:
    """The exact solution at ``times`` (any order, all >= 0); ``step`` is
    ``uniform_step(times)`` when the caller has it already."""
    z_ev, w = _event_states(modes, pw)
    return Solution(modes, times, pw, z_ev, w, uniform_step(times) if step is None else step)
