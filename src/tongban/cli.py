"""The `tongban` console script: Django's manage.py with the settings preset.

`tongban demo load`, `tongban catalog validate PATH`, `tongban workdays add ...` are management
commands whose first word names a group; this entry point joins the group and its verb
(`catalog validate` -> the `catalog` command with sub-command `validate`).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["tongban", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
