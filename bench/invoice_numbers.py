"""Benchmark 15: gapless invoice numbers with 8 parallel issuers and one issuer killed halfway.

Data: a throw-away test database of its own (``contracts_data.throwaway_database`` on
``test_treffpunkt_bench_numbers``), one customer (a company with one contact) and one operator
holding the billing capability.

Then 9 issuers, each a separate OS process (this script with ``--issue``) with its own
database connection, start together (each says it is ready; all are then told to go):

- 8 issue 500 invoices each (``--per-issuer``) through ``billing.services.issue_invoice``,
  one fee line each, the billing key "bench:<issuer>:<i>";
- one issues 200 (``--killed``) and gets ``SIGKILL`` as soon as it has reported half of them
  (it may be inside an issuing transaction then); it is started again at once and finishes:
  its invoices carry billing keys too, so the second start skips those already issued
  (``AlreadyBilled``) and issues the rest.

The invoice PDF is rendered after the issuing transaction, outside the number lock; to keep
the run short ``render_pdf`` is a no-op in the issuing processes (``--with-pdf`` renders it).
The number is taken, and the XML built, in the issuing transaction, as always.

Then every number of the year is checked: no gap from 1 to the highest, none twice, as many
numbers as invoices stored, as many invoices as asked for, the sequence's counter at the
highest number, and each of the killed issuer's 200 keys issued exactly once.

    uv run python bench/invoice_numbers.py

Prints invoice_numbers_gapless (yes/no), _total, _duplicates, _gaps, _per_s and more; exit
status 1 if the numbers are not gapless or the counts do not match.
"""

from __future__ import annotations

import argparse
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from common import PG_SERVER_URL, emit, machine_figures, note

ISSUERS = 8
PER_ISSUER = 500
KILLED = 200
DATABASE = "treffpunkt_bench_numbers"  # the test database is test_treffpunkt_bench_numbers
TIMEOUT_S = 600.0
HERE = Path(__file__).resolve()


# --- one issuer (a process of its own) ------------------------------------------------------


def issue(args: argparse.Namespace) -> int:
    """Issue ``args.count`` invoices with keys ``bench:<name>:<i>``; report each on stdout."""
    import django

    django.setup()
    from treffpunkt.accounts.models import User
    from treffpunkt.billing.services import AlreadyBilled, LineDraft, issue_invoice, issuing
    from treffpunkt.core import clock
    from treffpunkt.customers.models import Customer

    if not args.with_pdf:
        # The PDF comes after the issuing transaction; the number does not depend on it.
        def without_pdf(invoice: Any, *, actor: Any, data: Any = None) -> Any:
            return invoice

        issuing.render_pdf = without_pdf
    customer = Customer.objects.get(pk=args.customer)
    actor = User.objects.get(pk=args.actor) if args.actor else None
    today = clock.operator_today()
    month = today.replace(day=1)
    print("ready", flush=True)
    if not args.no_wait and sys.stdin.readline().strip() != "go":
        return 2
    issued = skipped = 0
    began = time.perf_counter()
    for i in range(args.count):
        line = LineDraft(
            description=f"Videoberatung, Monatsentgelt ({args.name} {i})",
            quantity=Decimal("1"),
            unit="MON",
            unit_price=Decimal("249.00"),
            supply_start=month,
            supply_end=today,
        )
        try:
            invoice = issue_invoice(
                actor=actor,
                customer=customer,
                lines=[line],
                billing_key=f"bench:{args.name}:{i}",
                issue_date=today,
            )
        except AlreadyBilled:
            skipped += 1
            continue
        issued += 1
        print(f"issued {i} {invoice.number}", flush=True)
    print(f"done {issued} {skipped} {time.perf_counter() - began:.3f}", flush=True)
    return 0


# --- the conductor --------------------------------------------------------------------------


class Issuer:
    """One issuing process and a thread reading its stdout into a queue."""

    def __init__(self, name: str, count: int, env: dict[str, str], extra: list[str]) -> None:
        self.name = name
        self.count = count
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.issued = 0
        self.skipped = 0
        self.done_at: float | None = None
        self.process = subprocess.Popen(  # this script, our arguments
            [sys.executable, str(HERE), "--issue", "--name", name, "--count", str(count), *extra],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=HERE.parent,
        )
        assert self.process.stdout is not None
        self._reader = threading.Thread(target=self._read, args=(self.process.stdout,))
        self._reader.daemon = True
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line.strip())
        self.lines.put(None)

    def next_line(self, deadline: float) -> str | None:
        try:
            return self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty as exc:
            raise RuntimeError(f"issuer {self.name} said nothing in time") from exc

    def wait_ready(self, deadline: float) -> None:
        line = self.next_line(deadline)
        if line != "ready":
            raise RuntimeError(f"issuer {self.name} did not start: {line!r}")

    def go(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def handle(self, line: str) -> None:
        if line.startswith("issued "):
            self.issued += 1
        elif line.startswith("done "):
            _, issued, skipped, _seconds = line.split()
            self.skipped = int(skipped)
            if int(issued) != self.issued:
                raise RuntimeError(f"issuer {self.name}: {issued} reported, {self.issued} seen")
            self.done_at = time.perf_counter()

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def child_env(test_name: str) -> dict[str, str]:
    """This process's environment, the database URL naming the test database."""
    env = dict(os.environ)
    url = urlsplit(env["DATABASE_URL"])
    env["DATABASE_URL"] = url._replace(path=f"/{test_name}").geturl()
    return env


def make_people() -> tuple[int, int]:
    """A customer with one contact and an operator holding the billing capability."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from treffpunkt.accounts.models import Role, User
    from treffpunkt.accounts.permissions import Capability
    from treffpunkt.customers.models import Customer, CustomerContact, CustomerKind

    customer = Customer.objects.create(
        kind=CustomerKind.COMPANY,
        customer_number="K-00001",
        legal_name="Muster 00001 GmbH",
        legal_form="GmbH",
        street="Industriestraße 1",
        postal_code="10115",
        city="Berlin",
        vat_id="DE123456789",
    )
    CustomerContact.objects.create(
        customer=customer, name="Kontakt 1", email="rechnung@muster-00001.example"
    )
    operator = User.objects.create(
        email="buchhaltung@bench.example.org",
        display_name="Bea Buchhaltung",
        role=Role.OPERATOR,
        organization=None,
        is_staff=True,
        password=make_password(None),
    )
    operator.groups.add(Group.objects.get(permissions__codename=Capability.BILLING.codename))
    return customer.pk, operator.pk


def drive(
    issuers: list[Issuer], killed: Issuer, restart: Any, deadline: float
) -> tuple[Issuer | None, int]:
    """Read every issuer's lines until all are done; kill ``killed`` after half its count and
    start it again (``restart()``). Returns the restarted issuer and how many the killed one
    had reported."""
    running = [*issuers, killed]
    resumed: Issuer | None = None
    killed_after = -1
    while running:
        if time.monotonic() > deadline:
            raise RuntimeError("the issuers did not finish in time")
        progressed = False
        for issuer in list(running):
            try:
                line = issuer.lines.get_nowait()
            except queue.Empty:
                continue
            progressed = True
            if line is None:
                running.remove(issuer)
                issuer.process.wait()
                if issuer is killed:
                    continue
                if issuer.done_at is None:
                    raise RuntimeError(f"issuer {issuer.name} ended early")
                continue
            issuer.handle(line)
            if issuer is killed and killed_after < 0 and issuer.issued >= killed.count // 2:
                issuer.kill()
                killed_after = issuer.issued
                note(f"killed issuer {issuer.name} (SIGKILL) after {killed_after} invoices")
                resumed = restart()
                running.append(resumed)
        if not progressed:
            time.sleep(0.005)
    if killed_after < 0:
        raise RuntimeError("the issuer to be killed finished before half")
    return resumed, killed_after


def check(year: int, expected: int, killed_name: str, killed_count: int) -> dict[str, int]:
    from collections import Counter

    from treffpunkt.billing.models import Invoice, InvoiceSequence

    numbers = [
        int(number.rsplit("-", 1)[1])
        for number in Invoice.objects.filter(number__startswith=f"RE-{year}-").values_list(
            "number", flat=True
        )
    ]
    seen = Counter(numbers)
    highest = max(numbers, default=0)
    sequence = InvoiceSequence.objects.filter(prefix="RE", year=year).first()
    keys = Counter(
        Invoice.objects.filter(billing_key__startswith=f"bench:{killed_name}:").values_list(
            "billing_key", flat=True
        )
    )
    return {
        "total": len(numbers),
        "distinct": len(seen),
        "duplicates": sum(n - 1 for n in seen.values() if n > 1),
        "gaps": sum(1 for n in range(1, highest + 1) if n not in seen),
        "highest": highest,
        "stored": Invoice.objects.count(),
        "expected": expected,
        "sequence_last": sequence.last if sequence else 0,
        "killed_keys": len(keys),
        "killed_keys_twice": sum(1 for n in keys.values() if n > 1),
        "killed_expected": killed_count,
    }


def conduct(args: argparse.Namespace) -> int:
    os.environ.setdefault("DATABASE_URL", f"{PG_SERVER_URL}/{DATABASE}")
    from contracts_data import throwaway_database

    with throwaway_database(keep=args.keep_db) as where:
        from django.db import connection

        from treffpunkt.core import clock

        if connection.vendor != "postgresql":
            note("this benchmark needs PostgreSQL (separate processes on one database)")
            return 2
        customer, actor = make_people()
        test_name = str(connection.settings_dict["NAME"])
        connection.close()
        env = child_env(test_name)
        extra = ["--customer", str(customer), "--actor", str(actor)]
        if args.with_pdf:
            extra.append("--with-pdf")
        emit("invoice_numbers_database", where)
        emit("invoice_numbers_pdf", "rendered" if args.with_pdf else "skipped (render_pdf no-op)")
        emit("invoice_numbers_issuers", args.issuers)
        emit("invoice_numbers_per_issuer", args.per_issuer)
        emit("invoice_numbers_killed_count", args.killed)
        machine_figures("invoice_numbers")

        deadline = time.monotonic() + TIMEOUT_S
        issuers: list[Issuer] = []
        resumed: Issuer | None = None
        try:
            issuers = [Issuer(f"p{k}", args.per_issuer, env, extra) for k in range(args.issuers)]
            killed = Issuer("killed", args.killed, env, extra)
            for issuer in [*issuers, killed]:
                issuer.wait_ready(deadline)
            note(f"{len(issuers) + 1} issuers ready; go")
            began = time.perf_counter()
            for issuer in [*issuers, killed]:
                issuer.go()

            def restart() -> Issuer:
                nonlocal resumed
                resumed = Issuer("killed", args.killed, env, [*extra, "--no-wait"])
                resumed.wait_ready(deadline)
                return resumed

            resumed, killed_after = drive(issuers, killed, restart, deadline)
            wall = time.perf_counter() - began
        finally:
            for issuer in [*issuers, *([resumed] if resumed else [])]:
                issuer.stop()
            if issuers:
                killed.stop()

        assert resumed is not None
        issued = sum(i.issued for i in issuers) + killed.issued + resumed.issued
        parallel_done = max(i.done_at or 0.0 for i in issuers) - began
        year = clock.operator_today().year
        expected = args.issuers * args.per_issuer + args.killed
        found = check(year, expected, "killed", args.killed)
        gapless = (
            found["duplicates"] == 0
            and found["gaps"] == 0
            and found["total"] == found["stored"] == expected
            and found["sequence_last"] == found["highest"] == found["total"]
            and found["killed_keys"] == args.killed
            and found["killed_keys_twice"] == 0
        )
        emit("invoice_numbers_gapless", "yes" if gapless else "no")
        emit("invoice_numbers_total", found["total"])
        emit("invoice_numbers_duplicates", found["duplicates"])
        emit("invoice_numbers_gaps", found["gaps"])
        emit("invoice_numbers_per_s", issued / wall if wall else 0.0)
        emit("invoice_numbers_s", wall)
        emit("invoice_numbers_parallel_issuers_s", parallel_done)
        emit(
            "invoice_numbers_parallel_per_s",
            sum(i.issued for i in issuers) / parallel_done if parallel_done > 0 else 0.0,
        )
        emit("invoice_numbers_reported_issued", issued)
        emit("invoice_numbers_stored", found["stored"])
        emit("invoice_numbers_expected", expected)
        emit("invoice_numbers_highest", found["highest"])
        emit("invoice_numbers_sequence_last", found["sequence_last"])
        emit("invoice_numbers_killed_after", killed_after)
        emit("invoice_numbers_resumed_skipped", resumed.skipped)
        emit("invoice_numbers_resumed_issued", resumed.issued)
        emit("invoice_numbers_killed_keys", found["killed_keys"])
        if issued != found["stored"]:
            # The killed process may have committed an invoice it could not report any more.
            note(f"reported {issued} issued, {found['stored']} stored (killed after a commit)")
        if not gapless:
            note(f"not gapless: {found}")
            return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--issuers", type=int, default=ISSUERS, help="parallel issuers")
    parser.add_argument("--per-issuer", type=int, default=PER_ISSUER, help="invoices each")
    parser.add_argument("--killed", type=int, default=KILLED, help="invoices of the killed one")
    parser.add_argument("--with-pdf", action="store_true", help="render each invoice's PDF")
    parser.add_argument("--keep-db", action="store_true", help="keep the test database")
    # The issuing process (started by the conductor).
    parser.add_argument("--issue", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--name", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--customer", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--actor", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--no-wait", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.issue:
        return issue(args)
    if args.killed < 2:
        parser.error("--killed needs at least 2 invoices")
    return conduct(args)


if __name__ == "__main__":
    sys.exit(main())
