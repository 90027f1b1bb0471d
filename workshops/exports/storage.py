"""Where generated files (PDF, JSON, CSV exports) live, one folder per workshop."""

import shutil
from pathlib import Path

from django.conf import settings


def exports_root():
    return Path(settings.VAR_DIR) / "exports"


def workshop_exports(workshop_pk):
    return exports_root() / str(int(workshop_pk))


def remove_exports(workshop_pk):
    shutil.rmtree(workshop_exports(workshop_pk), ignore_errors=True)
