"""Signed checkpoints of the audit chain's head, kept outside the database.

A checkpoint says "lane ``lane`` of the chain had ``length`` rows and its row number
``length`` had hash ``head_hash``", MAC'd with the audit key. They live in
``KC_DATA_DIR/audit/``:

* ``head-<lane>.json``: the lane's latest checkpoint, rewritten in place after every
  committed append (under a lock on the file, and only by a longer chain), so cutting even
  one row off is seen. Every append of the clinic, page views included, writes it, so it is
  one fixed-size write over the old line rather than a new file renamed into place (the
  rename was a twentieth of the server's CPU under load); readers take the file's shared
  lock, so they never see a line half-written;
* ``checkpoints.jsonl``: an append-only history, one line every ``LOG_EVERY`` rows and
  for each ``kclinic audit checkpoint`` (which may also mail it).

Errors: ``OSError`` from the file system propagates from ``write_checkpoint`` (the CLI
reports it); after a commit a failure to write is logged, never raised into the request.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from ketamine_clinic.services._audit_keys import checkpoint_mac

__all__ = [
    "LOG_EVERY",
    "Checkpoint",
    "after_commit",
    "audit_dir",
    "copy_locked",
    "read_checkpoints",
    "write_checkpoint",
]

LOG_EVERY = 100
#: Bytes of ``head-<lane>.json``: the line, padded with spaces (JSON ignores them), so each
#: rewrite covers the whole of the previous one.
HEAD_SIZE = 512
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checkpoint:
    lane: int
    length: int
    head_hash: str
    at: str
    mac: str
    source: str = ""

    @property
    def canonical(self) -> str:
        body = {"v": 1, "lane": self.lane, "length": self.length, "head_hash": self.head_hash, "at": self.at}
        return json.dumps(body, sort_keys=True, separators=(",", ":"))

    def line(self) -> str:
        return json.dumps({**json.loads(self.canonical), "mac": self.mac}, sort_keys=True)

    @property
    def valid(self) -> bool:
        import hmac

        return hmac.compare_digest(self.mac, checkpoint_mac(self.canonical))


def audit_dir() -> Path:
    path = Path(settings.KC_AUDIT_DIR)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _signed(lane: int, length: int, head_hash: str) -> Checkpoint:
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    unsigned = Checkpoint(lane, length, head_hash, at, "")
    return Checkpoint(lane, length, head_hash, at, checkpoint_mac(unsigned.canonical))


def _write_private(path: Path, text: str, *, append: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "a" if append else "w", encoding="utf-8") as handle:
        handle.write(text)


def _open_head(directory: Path, lane: int, first: str) -> int:
    """The lane's head file opened for rewriting. The first checkpoint of a lane appears
    whole (written aside, then linked into place), so a reader never finds it empty."""
    path = directory / f"head-{lane}.json"
    try:
        return os.open(path, os.O_RDWR)
    except FileNotFoundError:
        aside = directory / f"head-{lane}.json.{os.getpid()}.{threading.get_ident()}.tmp"
        _write_private(aside, first, append=False)
        try:
            os.link(aside, path)
        except FileExistsError:  # another writer's first checkpoint came first
            pass
        finally:
            os.unlink(aside)
        return os.open(path, os.O_RDWR)


def _write_all(fd: int, data: bytes) -> None:
    if os.pwrite(fd, data, 0) != len(data):
        raise OSError(f"short write to the audit checkpoint ({len(data)} bytes)")


def write_checkpoint(lane: int, length: int, head_hash: str, *, log: bool = True) -> Checkpoint:
    """Record a lane's head; ``head-<lane>.json`` only moves forward."""
    directory = audit_dir()
    point = _signed(lane, length, head_hash)
    text = (point.line() + "\n").ljust(HEAD_SIZE)
    data = text.encode("utf-8")
    fd = _open_head(directory, lane, text)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        raw = os.pread(fd, max(os.fstat(fd).st_size, HEAD_SIZE), 0)
        current = _parse(raw.decode("utf-8", "replace"), f"head-{lane}.json")
        if current is None or length >= current.length:
            _write_all(fd, data)
            if os.fstat(fd).st_size > len(data):  # a longer line written before (by hand, or an older version)
                os.ftruncate(fd, len(data))
        if log:
            _write_private(directory / "checkpoints.jsonl", point.line() + "\n", append=True)
    finally:
        os.close(fd)  # releases the lock
    return point


def _read_locked(path: Path) -> bytes:
    """The file's bytes, read under its shared lock (a writer rewrites a head in place)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def copy_locked(source: str, target: str) -> str:
    """``shutil.copytree``'s copy function for the audit directory (backups): a head is
    copied whole, never half-rewritten."""
    Path(target).write_bytes(_read_locked(Path(source)))
    os.chmod(target, 0o600)
    shutil.copystat(source, target)  # as copytree's default copy keeps times
    return target


def after_commit(lane: int, length: int, head_hash: str) -> None:
    """Checkpoint a committed append; a file-system failure must not fail the request."""
    try:
        write_checkpoint(lane, length, head_hash, log=length % LOG_EVERY == 0)
    except OSError:
        _log.exception("could not write the audit checkpoint")


def _parse(text: str, source: str) -> Checkpoint | None:
    try:
        raw = json.loads(text)
        return Checkpoint(
            int(raw["lane"]), int(raw["length"]), str(raw["head_hash"]), str(raw["at"]), str(raw["mac"]), source
        )
    except (ValueError, KeyError, TypeError):
        return None


def read_checkpoints() -> Iterator[Checkpoint | str]:
    """Every checkpoint on disk, or a description of a line that is not one."""
    directory = Path(settings.KC_AUDIT_DIR)
    for head in sorted(directory.glob("head-*.json")):
        text = _read_locked(head).decode("utf-8", "replace")
        yield _parse(text, head.name) or f"{head.name} is not a checkpoint"
    log = directory / "checkpoints.jsonl"
    if log.exists():
        for number, line in enumerate(log.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                yield _parse(line, f"checkpoints.jsonl line {number}") or f"checkpoints.jsonl line {number} is garbled"
