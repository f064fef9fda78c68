"""Django settings, built from ``ketamine_clinic.config`` (never from os.environ here)."""

from __future__ import annotations

from ketamine_clinic import config as _config
from ketamine_clinic.web._common import *  # noqa: F403
from ketamine_clinic.web._common import apply as _apply

CONFIG = _config.load()
_apply(CONFIG, globals())
