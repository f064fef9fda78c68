"""The PK/PD engine: published ketamine models, exact simulation.

Times in minutes, doses in mg of free base, concentrations in ng/mL.
"""

from ketamine_clinic.pk._models import Model, Parameter, Patient, Validity, model, models
from ketamine_clinic.pk._simulate import Bolus, Infusion, OutOfRangeWarning, Profile, simulate

__all__ = [
    "Bolus",
    "Infusion",
    "Model",
    "OutOfRangeWarning",
    "Parameter",
    "Patient",
    "Profile",
    "Validity",
    "model",
    "models",
    "simulate",
]
