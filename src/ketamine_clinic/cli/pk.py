"""``kclinic pk``: the PK engine from the command line."""

from __future__ import annotations

import argparse
import csv
import sys
import warnings
from typing import Any

import numpy as np

from ketamine_clinic import pk


def register(sub: Any) -> None:
    parser = sub.add_parser("pk", help="the PK/PD engine")
    pk_sub = parser.add_subparsers(dest="pk_command", required=True, metavar="ACTION")
    listing = pk_sub.add_parser("models", help="list the models and their provenance")
    listing.set_defaults(func=_models)
    sim = pk_sub.add_parser("simulate", help="simulate an infusion and print the concentration")
    sim.add_argument("--model", default="domino", help="one model or several, comma-separated")
    sim.add_argument("--weight", type=float, default=70.0, help="kg")
    sim.add_argument("--age", type=float, default=40.0, help="years")
    sim.add_argument("--sex", choices=["female", "male"], default="female")
    sim.add_argument("--dose-mg-per-kg", type=float, default=0.5)
    sim.add_argument("--duration", type=float, default=40.0, help="minutes")
    sim.add_argument("--until", type=float, default=240.0, help="minutes")
    sim.add_argument("--step", type=float, default=10.0, help="minutes between rows")
    sim.add_argument("--csv", action="store_true", help="CSV instead of a table")
    sim.add_argument("--plot", metavar="FILE", help="write an SVG or PNG plot")
    sim.set_defaults(func=_simulate)


def _models(args: argparse.Namespace) -> int:
    for name in pk.models():
        m = pk.model(name)
        print(f"{name:<12} {m.title}")
        print(f"{'':<12} {m.citation}; population: {m.validity.population}")
        print(f"{'':<12} ke0: {m.ke0_note}")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    names = [n.strip() for n in args.model.split(",") if n.strip()]
    patient = pk.Patient(args.weight, args.age, args.sex)
    dose = args.dose_mg_per_kg * args.weight
    regimen = [pk.Infusion(0.0, args.duration, dose)]
    times = np.arange(0.0, args.until + 1e-9, args.step)
    curves = {}
    for name in names:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            curves[name] = pk.simulate(pk.model(name), patient, regimen, times).plasma_ng_per_ml
        for w in caught:
            print(f"warning: {w.message}", file=sys.stderr)
    if args.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(["time_min", *[f"{n}_ng_per_ml" for n in names]])
        for i, t in enumerate(times):
            writer.writerow([f"{t:g}", *[f"{curves[n][i]:.4f}" for n in names]])
    else:
        print(f"{dose:.1f} mg over {args.duration:g} min, {args.weight:g} kg")
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
