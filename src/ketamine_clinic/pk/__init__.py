"""The PK/PD engine: published ketamine models, exact simulation, target-controlled
infusion and virtual populations. Times in minutes, doses in mg of free base,
concentrations in ng/mL."""

from ketamine_clinic.pk._models import Model, Parameter, Patient, Validity, model, models
from ketamine_clinic.pk._pd import (
    NoPublishedModel,
    blood_pressure_change,
    dissociation_probability,
    perception_relative_to_c50,
)
from ketamine_clinic.pk._population import Population, draw_individuals, simulate_population
from ketamine_clinic.pk._simulate import (
    Bolus,
    Infusion,
    NasalDose,
    OutOfRangeWarning,
    Profile,
    salt_to_base_mg,
    simulate,
)
from ketamine_clinic.pk._tci import TciSchedule, tci

__all__ = [
    "Bolus",
    "Infusion",
    "Model",
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
