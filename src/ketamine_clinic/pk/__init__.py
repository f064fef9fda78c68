"""The PK/PD engine: published ketamine models, exact simulation, target-controlled
infusion and virtual populations. Times in minutes, doses in mg of free base,
concentrations in ng/mL. Importing it loads numpy only (numba is loaded the first time a
cohort is simulated).

Errors: ``ValueError`` for bad input; its subclass ``ModelError`` for a model whose
constants are not a compartment system. ``OutOfRangeWarning`` outside a model's population.
"""

from ketamine_clinic.pk._linear import ModelError
from ketamine_clinic.pk._models import ANCESTRIES, Model, Parameter, Patient, Validity, model, models
from ketamine_clinic.pk._pd import (
    NoPublishedModel,
    blood_pressure_change,
    dissociation_probability,
    perception_relative_to_c50,
)
from ketamine_clinic.pk._population import Population, draw_individuals, simulate_population
from ketamine_clinic.pk._simulate import (
    DOSE_WINDOW_MIN,
    Bolus,
    Infusion,
    NasalDose,
    OutOfRangeWarning,
    Profile,
    salt_to_base_mg,
    simulate,
)
from ketamine_clinic.pk._tci import DEFAULT_LOOKAHEAD_MIN, DEFAULT_PLASMA_CEILING_FACTOR, TciSchedule, tci

__all__ = [
    "ANCESTRIES",
    "DEFAULT_LOOKAHEAD_MIN",
    "DEFAULT_PLASMA_CEILING_FACTOR",
    "DOSE_WINDOW_MIN",
    "Bolus",
    "Infusion",
    "Model",
    "ModelError",
    "NasalDose",
    "NoPublishedModel",
    "OutOfRangeWarning",
    "Parameter",
    "Patient",
    "Population",
    "Profile",
    "TciSchedule",
    "Validity",
    "blood_pressure_change",
    "dissociation_probability",
    "draw_individuals",
    "model",
    "models",
    "perception_relative_to_c50",
    "salt_to_base_mg",
    "simulate",
    "simulate_population",
    "tci",
]
