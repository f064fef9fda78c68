"""``kclinic token create USERNAME [--days N] | revoke PREFIX | list``: API bearer tokens.

``create`` prints the new token once; only its digest is stored, so it cannot be shown
again (docs/decisions/0025-api-tokens-and-problem-details.md)."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(sub: Any) -> None:
    token = sub.add_parser("token", help="API bearer tokens (JSON API and FHIR)")
    token_sub = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_sub.add_parser("create", help="create a token for USERNAME and print it once")
    create.add_argument("username")
    create.add_argument("--days", type=int, default=90, help="days until it expires (1-365, default 90)")
    create.add_argument("--name", default="", help="what the token is for, e.g. 'registry export'")
    create.set_defaults(func=_create, needs_django=True)
    revoke = token_sub.add_parser("revoke", help="revoke the token whose listed prefix is PREFIX")
    revoke.add_argument("prefix")
    revoke.set_defaults(func=_revoke, needs_django=True)
    listing = token_sub.add_parser("list", help="list tokens (prefix, user, expiry; never the token)")
    listing.set_defaults(func=_list, needs_django=True)


def _create(args: argparse.Namespace) -> int:
    from ketamine_clinic.services.api_tokens import do_create_token
    from ketamine_clinic.services.errors import ServiceError
    from ketamine_clinic.storage.models import User

    user = User.objects.filter(username=args.username).first()
    if user is None:
        print(f"kclinic token create: username: no user {args.username!r}", file=sys.stderr)
        return 2
    try:
        row, token = do_create_token(user, days=args.days, name=args.name, acting_user=None)
    except ServiceError as exc:
        print(f"kclinic token create: {exc.field + ': ' if exc.field else ''}{exc.message}", file=sys.stderr)
        return 2
    print(token)
    print(
        f"Token {row.prefix}… for {user.username} ({user.role}), expires {row.expires_at:%Y-%m-%d %H:%M} UTC. "
        "It is shown only now: store it safely.",
        file=sys.stderr,
    )
    return 0


def _revoke(args: argparse.Namespace) -> int:
    from ketamine_clinic.services.api_tokens import do_revoke_token
    from ketamine_clinic.services.errors import ServiceError

    try:
        row = do_revoke_token(args.prefix, acting_user=None)
    except ServiceError as exc:
        print(f"kclinic token revoke: {exc.message}", file=sys.stderr)
        return 2
    print(f"Revoked token {row.prefix}… of {row.user.username}.")
    return 0


def _list(args: argparse.Namespace) -> int:
    from ketamine_clinic.services.api_tokens import tokens_for_admin

    rows = list(tokens_for_admin())
    for row in rows:
        state = "revoked" if row.revoked_at else "active"
        used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never"
        print(f"{row.prefix:<12} {row.user.username:<20} {state:<8} expires {row.expires_at:%Y-%m-%d}  used {used}")
    if not rows:
        print("No tokens.")
    return 0
