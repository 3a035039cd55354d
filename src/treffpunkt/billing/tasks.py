from __future__ import annotations

from pathlib import Path

from django_tasks import task

from treffpunkt.billing.services import run_billing
from treffpunkt.billing.services.payments import import_statement


@task()
def run_billing_task() -> dict[str, int]:
    return run_billing()


@task()
def plan_hardware_deliveries_task() -> dict[str, int]:
    from treffpunkt.billing.services.hardware import plan_open_orders

    return plan_open_orders()


@task()
def run_dunning_task() -> dict[str, int]:
    from treffpunkt.billing.services.dunning import run_dunning

    return run_dunning()


# --- the bank statement folder ------------------------------------------------------------------

# Files younger than this may still be being written (by the bank's transfer); the next run
# takes them.
SETTLE_SECONDS = 30


def _free_path(folder: Path, name: str) -> Path:
    """``folder/name``, or with a counter before the suffix when that is taken."""
    target = folder / name
    counter = 1
    while target.exists() or target.with_name(target.name + ".txt").exists():
        target = folder / f"{Path(name).stem}.{counter}{Path(name).suffix}"
        counter += 1
    return target


def _file_away(path: Path, subfolder: str, reason: str = "") -> None:
    folder = path.parent / subfolder
    folder.mkdir(exist_ok=True)
    target = _free_path(folder, path.name)
    if reason:
        target.with_name(target.name + ".txt").write_text(reason + "\n", encoding="utf-8")
    path.replace(target)


def import_statement_folder(directory: str | Path | None = None) -> dict[str, int]:
    """Import every ``*.xml`` file in ``settings.BANK_STATEMENT_DIR`` (nothing when unset) and
    move it to ``done/`` (imported, or imported before: a duplicate, with a note) or to
    ``refused/`` with the reason in ``<name>.txt``. A file that fails for another reason (the
    database away, an import at the same time) stays for the next run."""
    import logging
    import time

    from django.conf import settings
    from django.db import IntegrityError

    from treffpunkt.billing import camt
    from treffpunkt.core.errors import DomainError

    log = logging.getLogger(__name__)
    result = {"imported": 0, "duplicates": 0, "refused": 0, "left": 0}
    configured = (
        directory if directory is not None else getattr(settings, "BANK_STATEMENT_DIR", None)
    )
    if not configured:
        return result
    folder = Path(configured)
    if not folder.is_dir():
        log.warning("BANK_STATEMENT_DIR %s is not a directory", folder)
        return result
    now = time.time()
    for path in sorted(folder.glob("*.xml")):
        if not path.is_file() or path.is_symlink():
            continue
        if now - path.stat().st_mtime < SETTLE_SECONDS:
            result["left"] += 1
            continue
        with path.open("rb") as handle:
            data = handle.read(camt.MAX_BYTES + 1)  # the parser refuses anything larger
        try:
            import_statement(actor=None, data=data, filename=path.name)
        except DomainError as exc:
            if exc.code == "camt_already_imported":
                _file_away(path, "done", str(exc.message))
                result["duplicates"] += 1
            else:
                _file_away(path, "refused", str(exc.message))
                result["refused"] += 1
        except IntegrityError:
            log.warning("%s was being imported at the same time; left for the next run", path)
            result["left"] += 1
        else:
            _file_away(path, "done")
            result["imported"] += 1
    return result


@task()
def import_statement_folder_task() -> dict[str, int]:
    return import_statement_folder()


@task()
def anonymize_call_traffic_task() -> dict[str, int]:
    from treffpunkt.billing.services.traffic import anonymize_call_traffic

    return anonymize_call_traffic()
