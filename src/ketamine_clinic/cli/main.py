"""The ``kclinic`` command: serve, demo, users, audit, pk, and Django's own commands.

Exit codes: 0 success, 1 a check failed (e.g. a broken audit chain), 2 bad usage or
configuration.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

__all__ = ["build_parser", "main"]


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketamine_clinic.web.settings")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def build_parser() -> argparse.ArgumentParser:
    from ketamine_clinic.cli import admin, backup, ledger, pk, tokens

    parser = argparse.ArgumentParser(prog="kclinic", description="Ketamine Clinic: run the clinic's server and tools.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    admin.register(sub)
    ledger.register(sub)
    backup.register(sub)
    pk.register(sub)
    tokens.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from ketamine_clinic.config import ConfigError

    parser = build_parser()
    args = parser.parse_args(argv)
    os.umask(0o077)  # the database, outbox, checkpoints and backups are the clinic's alone
    try:
        if getattr(args, "needs_django", False):
            _setup_django()
        return int(args.func(args))
    except ConfigError as exc:
        print(f"kclinic: configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
