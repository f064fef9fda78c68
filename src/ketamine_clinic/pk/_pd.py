"""Pharmacodynamics, only where a published model exists.

Olofsen 2022 (Anesthesiology 136:792-801) links the psychedelic/perception effect of
S-ketamine to an effect site with t1/2 ke0 8.3 min and C50 0.51 nmol/mL (about 121
ng/mL S-ketamine, arterial) [C]. The slope (Hill coefficient) was not retrieved, so a
probability of dissociation cannot be computed faithfully: ``dissociation_probability``
raises ``NoPublishedModel`` and ``perception_relative_to_c50`` reports Ce / C50 instead.
No published model links concentration to blood pressure, heart rate or CADSS for the
clinic's regimens in the project's PK reference; those functions raise too.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "OLOFSEN_C50_NG_PER_ML",
    "OLOFSEN_KE0_PER_MIN",
    "NoPublishedModel",
    "blood_pressure_change",
    "dissociation_probability",
    "perception_relative_to_c50",
]

OLOFSEN_KE0_PER_MIN = 0.084
OLOFSEN_C50_NG_PER_ML = 121.0


class NoPublishedModel(LookupError):
    """The effect has no published concentration-effect model the engine could use."""


def perception_relative_to_c50(effect_s_ketamine_ng_per_ml: NDArray[np.float64]) -> NDArray[np.float64]:
    """Effect-site S-ketamine over the Olofsen 2022 C50 (1.0 = half-maximal perception effect)."""
    return np.asarray(effect_s_ketamine_ng_per_ml, dtype=float) / OLOFSEN_C50_NG_PER_ML


def dissociation_probability(effect_s_ketamine_ng_per_ml: NDArray[np.float64]) -> NDArray[np.float64]:
    raise NoPublishedModel(
        "Olofsen 2022's slope was not retrieved: no probability is computed (use perception_relative_to_c50)"
    )


def blood_pressure_change(effect_ng_per_ml: NDArray[np.float64]) -> NDArray[np.float64]:
    raise NoPublishedModel(
        "no published ketamine concentration-blood pressure model is available to the engine "
        "(Abuhelwa 2022's parameters were not retrieved)"
    )
