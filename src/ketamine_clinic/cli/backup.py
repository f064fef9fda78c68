"""``kclinic backup DIR`` and ``kclinic restore DIR``: a consistent online copy of the
database (SQLite's backup API, or ``pg_dump``) with the audit checkpoints beside it.

The audit key is never in a backup: keep ``KC_AUDIT_KEY`` apart, or a restored copy could
be rewritten and re-signed by whoever holds the backup (docs/decisions/0013-at-rest.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["backup", "register", "restore", "secure_data_dir"]

SQLITE_NAME = "kclinic.sqlite3"
PG_NAME = "kclinic.pgdump"


def register(sub: Any) -> None:
    make = sub.add_parser("backup", help="a consistent copy of the database and audit checkpoints into DIR")
    make.add_argument("dir", type=Path)
    make.set_defaults(func=_backup, needs_django=True)
    back = sub.add_parser("restore", help="restore a backup DIR into an empty KC_DATA_DIR / database")
    back.add_argument("dir", type=Path)
    back.set_defaults(func=_restore, needs_django=True)


def secure_data_dir(path: Path) -> None:
    """Directories 0700 and files 0600 under ``path`` (the database, the outbox, the keys)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    for root, dirs, files in os.walk(path):
        for name in dirs:
            os.chmod(Path(root) / name, 0o700)
        for name in files:
            os.chmod(Path(root) / name, 0o600)


def _pg_env(db: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    args = ["--host", str(db["HOST"] or "localhost"), "--username", str(db["USER"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    env = {**os.environ, "PGPASSWORD": str(db.get("PASSWORD") or "")}
    return args, env


def backup(target: Path) -> Path:
    """Write the backup into ``target`` (created, 0700; refused if it holds files)."""
    from django.conf import settings
    from django.db import connection

    from ketamine_clinic.services import audit_checkpoints
    from ketamine_clinic.storage.models import AuditChainHead

    if target.exists() and any(target.iterdir()):
        raise FileExistsError(f"{target} is not empty")
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        with sqlite3.connect(target / SQLITE_NAME) as copy:
            connection.connection.backup(copy)  # a consistent snapshot while the clinic runs
        copy.close()
    else:
        db = settings.DATABASES["default"]
        args, env = _pg_env(db)
        dump = ["pg_dump", *args, "--format=custom", "--no-owner", "--file", str(target / PG_NAME), str(db["NAME"])]
        subprocess.run(dump, check=True, env=env)
    audit_dir = Path(settings.KC_AUDIT_DIR)
    if audit_dir.exists():
        shutil.copytree(
            audit_dir,
            target / "audit",
            ignore=shutil.ignore_patterns(".lock-*", "*.tmp"),
            copy_function=audit_checkpoints.copy_locked,
        )
    heads = {h.singleton: h.length for h in AuditChainHead.objects.all() if h.length}
    manifest = {"created_at": datetime.now(UTC).isoformat(), "database": connection.vendor, "audit_lanes": heads}
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    secure_data_dir(target)
    return target


def restore(source: Path) -> None:
    """Restore ``source`` into the configured, empty database and data directory."""
    from django.conf import settings
    from django.db import connection

    manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    if manifest["database"] != connection.vendor:
        raise ValueError(f"this backup is of a {manifest['database']} database, the target is {connection.vendor}")
    if connection.introspection.table_names():
        raise FileExistsError("the target database is not empty; restore into a fresh one")
    data_dir = Path(settings.CONFIG.data_dir)
    secure_data_dir(data_dir)
    if connection.vendor == "sqlite":
        connection.close()
        with (
            sqlite3.connect(source / SQLITE_NAME) as original,
            sqlite3.connect(settings.DATABASES["default"]["NAME"]) as copy,
        ):
            original.backup(copy)
    else:
        db = settings.DATABASES["default"]
        args, env = _pg_env(db)
        load = [
            "pg_restore",
            *args,
            "--no-owner",
            "--exit-on-error",
            "--dbname",
            str(db["NAME"]),
            str(source / PG_NAME),
        ]
        subprocess.run(load, check=True, env=env)
    if (source / "audit").exists():
        shutil.copytree(source / "audit", Path(settings.KC_AUDIT_DIR), dirs_exist_ok=True)
    secure_data_dir(data_dir)


def _backup(args: argparse.Namespace) -> int:
    try:
        path = backup(args.dir)
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"kclinic backup: {exc}", file=sys.stderr)
        return 1
    print(f"Backup written to {path}. The audit key is not in it: keep KC_AUDIT_KEY apart.")
    return 0


def _restore(args: argparse.Namespace) -> int:
    try:
        restore(args.dir)
    except (OSError, ValueError, KeyError, subprocess.CalledProcessError) as exc:
        print(f"kclinic restore: {exc}", file=sys.stderr)
        return 1
    print("Restored. Run `kclinic audit verify` (with the clinic's KC_AUDIT_KEY) before serving.")
    return 0
