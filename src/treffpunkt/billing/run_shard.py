"""One worker process of a billing run shared out over several (``services.run.shared_out``).

Reads its job as one JSON object on stdin (the month, its shard, the database and the document
directory of the process that started it), invoices its contracts and prints the counts as one
JSON line on stdout. Not for running by hand: ``run_billing`` starts it."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main() -> int:
    job = json.loads(sys.stdin.read())
    import django
    from django.conf import settings

    # Before set-up: the same database and document storage as the starting process.
    settings.DATABASES["default"]["NAME"] = job["database"]
    settings.PRIVATE_FILES_DIR = Path(job["private_files_dir"])
    django.setup()
    from treffpunkt.billing.services.run import invoice_shard

    print(json.dumps(invoice_shard(job)))  # the result for the starting process
    return 0


if __name__ == "__main__":
    sys.exit(main())
