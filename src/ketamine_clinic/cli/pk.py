"""``kclinic pk``: the PK engine from the command line.

Bad input (an unknown model, a patient outside the engine's limits, a nasal dose on an
IV model ...) ends with one line on stderr, ``kclinic pk: error: ...``, and exit status 2,
never a traceback; model-range warnings are printed as ``warning: ...`` lines.
"""

from __future__ import annotations

import argparse
import csv
import functools
import math
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ketamine_clinic import pk


def _clean(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Run a command with errors as one line and warnings as notes (no tracebacks)."""

    @functools.wraps(func)
    def run(args: argparse.Namespace) -> int:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                status = func(args)
            except (ValueError, ArithmeticError) as exc:
                print(f"kclinic pk: error: {exc}", file=sys.stderr)
                status = 2
        for message in sorted({str(w.message) for w in caught}):
            print(f"warning: {message}", file=sys.stderr)
        return status

    return run


def _require_positive(args: argparse.Namespace, *names: str) -> None:
    for name in names:
        value = getattr(args, name, None)
        if value is not None and not (math.isfinite(value) and value > 0):
            raise ValueError(f"--{name.replace('_', '-')} must be a positive number, got {value:g}")


def register(sub: Any) -> None:
    parser = sub.add_parser("pk", help="the PK/PD engine")
    pk_sub = parser.add_subparsers(dest="pk_command", required=True, metavar="ACTION")
    listing = pk_sub.add_parser("models", help="list the models and their provenance")
    listing.set_defaults(func=_clean(_models))
    sim = pk_sub.add_parser("simulate", help="simulate an infusion and print the concentration")
    sim.add_argument("--model", default="domino", help="one model or several, comma-separated")
    sim.add_argument("--weight", type=float, default=70.0, help="kg")
    sim.add_argument("--age", type=float, default=40.0, help="years")
    sim.add_argument("--sex", choices=["female", "male"], default="female")
    sim.add_argument("--dose-mg-per-kg", type=float, default=0.5)
    sim.add_argument("--duration", type=float, default=40.0, help="minutes")
    sim.add_argument("--until", type=float, default=240.0, help="minutes")
    sim.add_argument("--step", type=float, default=10.0, help="minutes between rows")
    sim.add_argument("--nasal-devices", type=int, help="esketamine: 28 mg devices 5 min apart instead of an infusion")
    sim.add_argument("--csv", action="store_true", help="CSV instead of a table")
    sim.add_argument("--plot", metavar="FILE", help="write an SVG or PNG plot")
    sim.set_defaults(func=_clean(_simulate))

    tci = pk_sub.add_parser("tci", help="target-controlled infusion schedule")
    _patient_args(tci)
    tci.add_argument("--model", default="domino")
    tci.add_argument("--target", type=float, required=True, help="ng/mL")
    tci.add_argument("--duration", type=float, default=40.0, help="minutes")
    tci.add_argument("--site", choices=["plasma", "effect"], default="plasma")
    tci.add_argument("--step-s", type=float, default=10.0)
    tci.add_argument("--max-rate", type=float, help="mg/h")
    tci.add_argument("--max-dose", type=float, help="mg")
    tci.add_argument("--max-plasma", type=float, help="plasma ceiling, ng/mL (effect mode: default 1.2 x the target)")
    tci.add_argument("--lookahead", type=float, default=30.0, help="effect-site look-ahead, minutes")
    tci.add_argument("--every", type=int, default=30, help="print every Nth step")
    tci.add_argument("--csv", action="store_true")
    tci.add_argument("--plot", metavar="FILE")
    tci.set_defaults(func=_clean(_tci))

    pop = pk_sub.add_parser("population", help="simulate a virtual cohort")
    _patient_args(pop)
    pop.add_argument("--model", default="domino")
    pop.add_argument("--n", type=int, default=1000)
    pop.add_argument("--seed", type=int, default=1)
    pop.add_argument("--cv", type=float, default=0.30)
    pop.add_argument("--dose-mg-per-kg", type=float, default=0.5)
    pop.add_argument("--duration", type=float, default=40.0)
    pop.add_argument("--until", type=float, default=240.0)
    pop.add_argument("--threshold", type=float, default=100.0, help="ng/mL for time above")
    pop.add_argument("--nasal-devices", type=int, help="esketamine: 28 mg devices 5 min apart (perez_ruixo2021)")
    pop.add_argument("--csv", action="store_true", help="one row per individual")
    pop.add_argument("--plot", metavar="FILE", help="histogram of the peaks")
    pop.set_defaults(func=_clean(_population))


def _patient_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--weight", type=float, default=70.0, help="kg")
    parser.add_argument("--age", type=float, default=40.0, help="years")
    parser.add_argument("--sex", choices=["female", "male"], default="female")


def _tci(args: argparse.Namespace) -> int:
    _require_positive(args, "target", "duration", "step_s", "max_rate", "max_dose", "max_plasma", "lookahead")
    model = pk.model(args.model)
    patient = pk.Patient(args.weight, args.age, args.sex)
    schedule = pk.tci(
        model,
        patient,
        args.target,
        args.duration,
        site=args.site,
        step_s=args.step_s,
        max_rate_mg_per_h=args.max_rate,
        max_dose_mg=args.max_dose,
        max_plasma_ng_per_ml=args.max_plasma,
        lookahead_min=args.lookahead,
    )
    step_min = args.step_s / 60
    times = np.arange(1, len(schedule.rates_mg_per_h) + 1) * step_min
    profile = pk.simulate(model, patient, schedule.regimen, times)
    if args.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(["end_min", "rate_mg_per_h", "plasma_ng_per_ml", "effect_ng_per_ml"])
        for i, t in enumerate(times):
            effect = profile.effect_ng_per_ml[i] if profile.effect_ng_per_ml is not None else float("nan")
            writer.writerow(
                [f"{t:g}", f"{schedule.rates_mg_per_h[i]:.4f}", f"{profile.plasma_ng_per_ml[i]:.4f}", f"{effect:.4f}"]
            )
    else:
        print(
            f"{args.site} target {args.target:g} ng/mL for {args.duration:g} min with {args.model}: "
            f"{schedule.total_mg:.1f} mg in all"
        )
        bound = (
            ("rate", schedule.rate_cap_bound),
            ("dose", schedule.dose_cap_bound),
            ("plasma ceiling", schedule.plasma_ceiling_bound),
        )
        if any(b for _, b in bound):
            print("caps bound: " + ", ".join(n for n, b in bound if b))
        if schedule.plasma_ceiling_ng_per_ml is not None:
            print(f"plasma ceiling {schedule.plasma_ceiling_ng_per_ml:g} ng/mL")
        print(f"{'min':>7}{'mg/h':>10}{'plasma':>10}{'effect':>10}")
        for i in range(0, len(times), max(1, args.every)):
            effect = profile.effect_ng_per_ml[i] if profile.effect_ng_per_ml is not None else float("nan")
            print(f"{times[i]:7.2f}{schedule.rates_mg_per_h[i]:10.1f}{profile.plasma_ng_per_ml[i]:10.1f}{effect:10.1f}")
    if args.plot:
        _plot(args.plot, times, {f"{args.model} plasma": profile.plasma_ng_per_ml}, args.duration)
    return 0


def _population(args: argparse.Namespace) -> int:
    import time

    _require_positive(args, "n", "dose_mg_per_kg", "duration", "until")
    if not (math.isfinite(args.cv) and 0 <= args.cv <= 2):
        raise ValueError(f"--cv must be from 0 to 2, got {args.cv:g}")
    model = pk.model(args.model)
    patient = pk.Patient(args.weight, args.age, args.sex)
    regimen: list[pk.Bolus | pk.Infusion | pk.NasalDose] = [
        pk.Infusion(0.0, args.duration, args.dose_mg_per_kg * args.weight)
    ]
    if (model.route == "nasal") != bool(args.nasal_devices):
        raise ValueError("--nasal-devices goes with the nasal model (perez_ruixo2021) and only with it")
    if args.nasal_devices:
        regimen = [pk.NasalDose(0.0, args.nasal_devices)]
    times = np.arange(0.0, args.until + 1e-9, 10 / 60)
    chunks = max(1, args.n // 20000)
    sizes = [args.n // chunks + (1 if i < args.n % chunks else 0) for i in range(chunks)]
    rng = np.random.default_rng(args.seed)
    peaks, above = [], []
    started = time.perf_counter()
    for done, size in enumerate(sizes, start=1):
        pop = pk.simulate_population(
            model, regimen, times, n=size, seed=int(rng.integers(2**31)), cv=args.cv, patient=patient, keep_curves=True
        )
        peaks.append(pop.peak_ng_per_ml)
        above.append(pop.time_above_min(args.threshold, times))
        if time.perf_counter() - started > 1.0:
            bar = "#" * (30 * done // chunks)
            print(f"\r[{bar:<30}] {done}/{chunks}", end="", file=sys.stderr, flush=True)
    if time.perf_counter() - started > 1.0:
        print(file=sys.stderr)
    peak, minutes = np.concatenate(peaks), np.concatenate(above)
    if args.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(["individual", "peak_ng_per_ml", f"minutes_above_{args.threshold:g}"])
        for i, (p, m) in enumerate(zip(peak, minutes, strict=True)):
            writer.writerow([i, f"{p:.4f}", f"{m:g}"])
    else:
        how = (
            f"{args.nasal_devices} nasal devices"
            if args.nasal_devices
            else f"{args.dose_mg_per_kg:g} mg/kg over {args.duration:g} min"
        )
        print(f"{args.n} individuals, {args.model}, {how}; {pop.variability}")
        q = np.percentile(peak, [5, 25, 50, 75, 95])
        print("peak ng/mL  p5 {:.0f}  p25 {:.0f}  median {:.0f}  p75 {:.0f}  p95 {:.0f}".format(*q))
        print(f"time above {args.threshold:g} ng/mL: median {np.median(minutes):.0f} min")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(8, 4.5))
        ax.hist(peak, bins=60, color="#1f5f8b")
        ax.set_xlabel("peak plasma ketamine (ng/mL)")
        ax.set_ylabel("individuals")
        fig.tight_layout()
        fig.savefig(args.plot)
        plt.close(fig)
    return 0


def _models(args: argparse.Namespace) -> int:
    for name in pk.models():
        m = pk.model(name)
        print(f"{name:<12} {m.title}")
        print(f"{'':<12} {m.citation}; population: {m.validity.population}")
        print(f"{'':<12} ke0: {m.ke0_note}")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    _require_positive(args, "weight", "duration", "until", "step")
    if not (math.isfinite(args.dose_mg_per_kg) and args.dose_mg_per_kg >= 0):
        raise ValueError("--dose-mg-per-kg must be >= 0")
    names = [n.strip() for n in args.model.split(",") if n.strip()]
    models = [pk.model(n) for n in names]
    routes = {m.route for m in models}
    if args.nasal_devices and routes != {"nasal"}:
        iv = ", ".join(m.name for m in models if m.route != "nasal")
        raise ValueError(f"--nasal-devices needs the nasal model (perez_ruixo2021); {iv} are IV models")
    if not args.nasal_devices and "nasal" in routes:
        raise ValueError("perez_ruixo2021 is the nasal-spray model: give --nasal-devices, or choose an IV model")
    patient = pk.Patient(args.weight, args.age, args.sex)
    dose = args.dose_mg_per_kg * args.weight
    regimen: list[pk.Bolus | pk.Infusion | pk.NasalDose] = [pk.Infusion(0.0, args.duration, dose)]
    if args.nasal_devices:
        regimen = [pk.NasalDose(0.0, args.nasal_devices)]
        dose = 28.0 * args.nasal_devices
    times = np.arange(0.0, args.until + 1e-9, args.step)
    curves = {}
    for model in models:
        curves[model.name] = pk.simulate(model, patient, regimen, times).plasma_ng_per_ml
    if args.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(["time_min", *[f"{n}_ng_per_ml" for n in names]])
        for i, t in enumerate(times):
            writer.writerow([f"{t:g}", *[f"{curves[n][i]:.4f}" for n in names]])
    else:
        how = f"{args.nasal_devices} nasal devices" if args.nasal_devices else f"over {args.duration:g} min"
        print(f"{dose:.1f} mg {how}, {args.weight:g} kg")
        print("min".rjust(6) + "".join(n.rjust(14) for n in names) + "   (ng/mL)")
        for i, t in enumerate(times):
            print(f"{t:6g}" + "".join(f"{curves[n][i]:14.1f}" for n in names))
    if args.plot:
        _plot(args.plot, times, curves, args.duration)
    return 0


def _plot(path: str, times: Any, curves: dict[str, Any], duration: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name, curve in curves.items():
        ax.plot(times, curve, label=name)
    ax.axvspan(0, duration, color="#dbeafe", label="infusion")
    ax.set_xlabel("minutes")
    ax.set_ylabel("plasma ketamine (ng/mL)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
