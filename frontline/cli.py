"""The ``frontline`` console script: ``manage.py`` under a friendlier name.

``frontline serve`` runs the web server, ``frontline demo`` loads the demo company,
``frontline token create EMAIL`` prints a new API token; every other Django command
works as with manage.py (``frontline migrate``, ``frontline shell`` …).
``frontline plan`` plans a field-service day from JSON; it is pure Python and runs
without Django settings or a database.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["plan"]:
        from frontline.dispatch.optimiser.cli import main as plan

        sys.exit(plan(args[1:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "frontline.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["frontline", *args])


if __name__ == "__main__":
    main()
