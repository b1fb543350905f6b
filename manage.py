#!/usr/bin/env python
"""ShipOps command line: ``python manage.py help`` lists the commands."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shipops.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:
        # A configuration mistake gets one sentence, not a traceback.
        sys.stderr.write(f"ShipOps configuration error: {error}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
