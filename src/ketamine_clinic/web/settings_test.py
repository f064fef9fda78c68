"""Settings for the test suite: the shared settings over ``config.load_for_tests()``."""

from __future__ import annotations

from ketamine_clinic import config as _config
from ketamine_clinic.web._common import *  # noqa: F403
from ketamine_clinic.web._common import apply as _apply

CONFIG = _config.load_for_tests()
_apply(CONFIG, globals())
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# whitenoise warns (an error under the suite's rules) when STATIC_ROOT is absent.
(CONFIG.data_dir / "static").mkdir(parents=True, exist_ok=True)
