"""Read settings from the environment, failing with a message that names the variable."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    """Return the variable's value, or ``default`` when it is unset."""
    return os.environ.get(name, default)


def env_required(name: str, why: str) -> str:
    """Return the variable's value or raise ImproperlyConfigured saying why it is needed."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"{name} is not set: {why}")
    return value


def env_bool(name: str, default: bool = False) -> bool:
    """Parse a yes/no variable (1/0, true/false, yes/no, on/off)."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a yes/no value; use 1 or 0.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    """Parse a whole-number variable, refusing values below ``minimum``."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum of {minimum}.")
    return value


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    """Parse a decimal variable (seconds, for instance), refusing values below ``minimum``."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum of {minimum}.")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """Parse a comma-separated variable into a list of non-empty items."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_path(name: str, default: Path) -> Path:
    """Return the variable as an absolute path, or ``default``."""
    raw = os.environ.get(name, "").strip()
    return Path(raw).expanduser().resolve() if raw else default


POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql"}


def sqlite_database(path: str | Path) -> dict[str, Any]:
    """Return the DATABASES entry of the SQLite file ``path``, with ShipOps' settings.

    WAL lets the web server read while the cluster writes; IMMEDIATE takes the
    write lock up front instead of failing on upgrade. ``synchronous=FULL``
    makes every commit reach the disk before it returns: with NORMAL, a power
    cut or an operating-system crash could undo the last commits, and with
    them a row's *in flight* mark or a tracking number UPS already returned
    (docs/reliability.md). It costs about 0.3 ms per commit
    (docs/performance.md).
    """
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        },
    }


def database_from_url(url: str, *, variable: str = "DATABASE_URL") -> dict[str, Any]:
    """Turn ``postgres://user:pass@host:port/name`` or ``sqlite:///path`` into a DATABASES entry."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        # sqlite:////abs/path.db is absolute; sqlite:///rel.db is relative to the working folder.
        path = unquote(parts.path)[1:]
        if not path or path == "/":
            raise ImproperlyConfigured(
                f"{variable} names no SQLite file; write it as sqlite:////absolute/path.db."
            )
        return sqlite_database(path)
    if scheme not in POSTGRES_SCHEMES:
        shown = scheme or "(none)"
        raise ImproperlyConfigured(
            f"{variable} has the scheme {shown!r}; ShipOps understands postgres:// and sqlite://."
        )
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ImproperlyConfigured(
            f"{variable} names no database; write it as postgres://user@host:5432/dbname."
        )
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"{variable} has a port that is not a number.") from None
    options = dict(parse_qsl(parts.query))
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(port or ""),
        "OPTIONS": options,
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
