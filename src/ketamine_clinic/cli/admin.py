"""``kclinic serve | demo | user | audit | manage``: running and administering the clinic."""

from __future__ import annotations

import argparse
import fcntl
import getpass
import os
import shutil
import sys
from typing import Any

from ketamine_clinic.domain.policy import ROLES


def register(sub: Any) -> None:
    serve = sub.add_parser("serve", help="migrate, then serve with gunicorn")
    serve.add_argument("--bind", help="address:port (default KC_BIND or 127.0.0.1:8000)")
    serve.add_argument("--workers", type=int, help="worker processes (default KC_WORKERS)")
    serve.add_argument("--no-migrate", action="store_true")
    serve.add_argument("--no-worker", action="store_true", help="do not start a background-job worker beside it")
    serve.set_defaults(func=_serve, needs_django=True)

    worker = sub.add_parser("worker", help="run background jobs (alerts, deadlines); several may run at once")
    worker.add_argument("--batch", action="store_true", help="run the jobs that are due, then exit")
    worker.add_argument("--interval", type=float, default=1.0, help="seconds between polls when idle (default 1)")
    worker.set_defaults(func=_worker, needs_django=True)

    demo = sub.add_parser("demo", help="load the demo clinic (once; again keeps the data)")
    demo.add_argument(
        "--patients",
        type=int,
        default=0,
        metavar="N",
        help="also add a multi-year network of N patients in bulk, for the scale benchmarks (e.g. 10000)",
    )
    demo.add_argument("--years", type=int, default=3, help="years of network history (default 3)")
    demo.set_defaults(func=_demo, needs_django=True)

    user = sub.add_parser("user", help="manage users")
    user_sub = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = user_sub.add_parser("add", help="add a user")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=[r.value for r in ROLES])
    add.add_argument("--first-name", default="")
    add.add_argument("--last-name", default="")
    add.add_argument("--credentials", default="", help="e.g. MD, PMHNP-BC, CRNA, RN")
    add.add_argument("--email", default="")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=_user_add, needs_django=True)

    audit = sub.add_parser("audit", help="the audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = audit_sub.add_parser("verify", help="check every link of the hash chain")
    verify.set_defaults(func=_audit_verify, needs_django=True)
    checkpoint = audit_sub.add_parser("checkpoint", help="write (and optionally mail) a signed checkpoint of the head")
    checkpoint.add_argument("--mail", action="store_true", help="also mail it to KC_AUDIT_CHECKPOINT_EMAIL")
    checkpoint.set_defaults(func=_audit_checkpoint, needs_django=True)

    manage = sub.add_parser("manage", help="run a Django management command")
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(func=_manage, needs_django=True)


def _call(*args: str) -> None:
    from django.core.management import call_command

    call_command(*args)


#: gunicorn's access log: the path without its query string (a search is a patient's
#: name) and no referrer (it carries the previous page's query string).
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'


def gunicorn_argv(gunicorn: str, bind: str, workers: int) -> list[str]:
    return [
        gunicorn,
        "ketamine_clinic.web.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
        "--access-logformat",
        ACCESS_LOG_FORMAT,
        "--graceful-timeout",
        "5",
    ]


def _serve(args: argparse.Namespace) -> int:
    from django.conf import settings

    from ketamine_clinic.cli.backup import secure_data_dir

    cfg = settings.CONFIG
    secure_data_dir(cfg.data_dir)
    if not args.no_migrate:
        _call("migrate", "--noinput", "-v", "0")
    # several instances may start at once on one data directory: one collects at a time
    # (two collectstatic runs into one folder delete each other's temporary files)
    with open(cfg.data_dir / ".collectstatic.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _call("collectstatic", "--noinput", "-v", "0")
    bind = args.bind or cfg.bind
    workers = args.workers or cfg.workers
    print(f"Ketamine Clinic is serving on http://{bind}/  (Ctrl-C stops it)", flush=True)
    from ketamine_clinic.demo import demo_logins

    logins = demo_logins()
    if logins:
        print(f"Demo logins (password for all: {logins[0][2]}):", flush=True)
        for username, role, _ in logins:
            print(f"  {role:<12} {username}", flush=True)
    gunicorn = shutil.which("gunicorn") or os.path.join(os.path.dirname(sys.executable), "gunicorn")
    argv = gunicorn_argv(gunicorn, bind, workers)
    os.environ["DJANGO_SETTINGS_MODULE"] = settings.SETTINGS_MODULE
    if args.no_worker:
        os.execv(gunicorn, argv)
    worker = [sys.executable, "-m", "ketamine_clinic.cli.main", "worker"]
    print("Background-job worker started beside the web server.", flush=True)
    return _supervise([argv, worker])


def _supervise(commands: list[list[str]]) -> int:
    """Run the web server and the worker together; when one ends or a signal arrives,
    stop the other, so neither outlives ``kclinic serve``."""
    import signal
    import subprocess
    import time

    children = [subprocess.Popen(cmd) for cmd in commands]
    stopping = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    while all(c.poll() is None for c in children) and not stopping:
        time.sleep(0.5)
    _stop(signal.SIGTERM, None)
    codes = [c.wait() for c in children]
    return 0 if stopping else max(abs(code) for code in codes) or 1


def _worker(args: argparse.Namespace) -> int:
    from ketamine_clinic.services.jobs import ensure_job_pruning, run_due_jobs, run_worker
    from ketamine_clinic.services.outreach import ensure_outreach_sweep

    ensure_outreach_sweep()  # reminders and questionnaire links (re-enqueues itself)
    ensure_job_pruning()  # old job results deleted daily (re-enqueues itself)
    if args.batch:
        print(f"Ran {run_due_jobs()} due job(s).")
        return 0
    run_worker(interval=max(0.1, args.interval))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from django.conf import settings

    from ketamine_clinic.cli.backup import secure_data_dir
    from ketamine_clinic.demo import load_demo

    secure_data_dir(settings.CONFIG.data_dir)
    _call("migrate", "--noinput", "-v", "0")
    created = load_demo()
    print("Demo clinic loaded." if created else "Demo clinic already present; kept as it is.")
    if not 0 <= args.patients <= 200_000:
        print("--patients must be from 0 to 200000", file=sys.stderr)
        return 2
    if not 1 <= args.years <= 20:
        print("--years must be from 1 to 20", file=sys.stderr)
        return 2
    if args.patients:
        import time

        from ketamine_clinic.demo.network import load_network

        began = time.perf_counter()
        report = load_network(args.patients, years=args.years)
        print(
            f"Network: {report.patients} new patients, {report.courses} courses, {report.visits} visits, "
            f"{report.sessions} sessions, {report.vitals} vital signs, {report.assessments} assessments, "
            f"{report.audit_rows} audit rows in {time.perf_counter() - began:.0f} s."
        )
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def _user_add(args: argparse.Namespace) -> int:
    from ketamine_clinic.services.accounts import do_create_user
    from ketamine_clinic.services.errors import ServiceError

    try:
        user = do_create_user(
            args.username,
            args.role,
            _read_password(args),
            first_name=args.first_name,
            last_name=args.last_name,
            credentials=args.credentials,
            email=args.email,
            acting_user=None,
        )
    except (ServiceError, ValueError) as exc:
        field = getattr(exc, "field", None)
        print(f"kclinic user add: {field + ': ' if field else ''}{exc}", file=sys.stderr)
        return 2
    print(f"Added {user.username} with role {user.role}.")
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    from ketamine_clinic.services.audit import verify_chain

    report = verify_chain()
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if report.ok:
        print(
            f"Audit trail intact: {report.checked} events checked against {report.checkpoints} checkpoint(s); "
            "clinical entries match their audited values."
        )
        return 0
    if report.broken_id is not None or not report.problems:
        where = f"event #{report.broken_id}" if report.broken_id else "the end of the trail"
        print(
            f"Audit trail BROKEN at {where}: {report.reason} ({report.checked} events verified before it).",
            file=sys.stderr,
        )
    for problem in report.problems:
        print(f"Audit trail BROKEN: {problem}", file=sys.stderr)
    return 1


def _audit_checkpoint(args: argparse.Namespace) -> int:
    from ketamine_clinic.services.audit import do_checkpoint

    try:
        points, mailed = do_checkpoint(mail=args.mail)
    except ValueError as exc:
        print(f"kclinic audit checkpoint: {exc}", file=sys.stderr)
        return 2
    for point in points:
        if point.length or point.lane == 1:
            print(f"Checkpoint written: lane {point.lane}, {point.length} events, head {point.head_hash[:16]}…")
    if mailed:
        print(f"Mailed to {mailed}.")
    return 0


def _manage(args: argparse.Namespace) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kclinic manage", *args.rest])
    return 0
