"""A local UPS: the same paths and JSON shapes, checked against the official specs.

Start it with ``python manage.py ups_sandbox`` or ``SandboxServer(...).start()``;
docs/ups.md describes its rules, its control API and its faults.
"""
