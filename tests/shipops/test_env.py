"""Environment parsing: every mistake names the variable and what to write instead."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from shipops.env import (
    database_from_url,
    env_bool,
    env_int,
    env_list,
    env_required,
    sqlite_database,
)


def test_postgres_url_becomes_a_databases_entry() -> None:
    entry = database_from_url("postgres://ops:s%40cret@db.internal:6543/shipops?sslmode=require")
    assert entry["ENGINE"] == "django.db.backends.postgresql"
    assert (entry["NAME"], entry["USER"], entry["PASSWORD"]) == ("shipops", "ops", "s@cret")
    assert (entry["HOST"], entry["PORT"]) == ("db.internal", "6543")
    assert entry["OPTIONS"] == {"sslmode": "require"}


def test_sqlite_url_names_a_file_with_the_default_databases_settings() -> None:
    entry = database_from_url("sqlite:////srv/shipops/db.sqlite3")
    assert entry == sqlite_database("/srv/shipops/db.sqlite3")
    assert entry["ENGINE"] == "django.db.backends.sqlite3"
    assert entry["NAME"] == "/srv/shipops/db.sqlite3"


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("mysql://root@localhost/db", "scheme 'mysql'"),
        ("localhost:5432/db", "scheme"),
        ("postgres://user@host:port/db", "port that is not a number"),
        ("postgres://user@host:5432/", "names no database"),
        ("sqlite://", "names no SQLite file"),
    ],
)
def test_malformed_database_url_is_explained(url: str, complaint: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL") as refused:
        database_from_url(url)
    assert complaint in str(refused.value)


def test_values_are_parsed_or_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLAG", "yes")
    monkeypatch.setenv("COUNT", "12")
    monkeypatch.setenv("HOSTS", "a.example, b.example,")
    assert env_bool("FLAG") is True
    assert env_int("COUNT", 1) == 12
    assert env_list("HOSTS") == ["a.example", "b.example"]

    monkeypatch.setenv("FLAG", "perhaps")
    with pytest.raises(ImproperlyConfigured, match=r"FLAG='perhaps' is not a yes/no value"):
        env_bool("FLAG")
    monkeypatch.setenv("COUNT", "lots")
    with pytest.raises(ImproperlyConfigured, match=r"COUNT='lots' is not a whole number"):
        env_int("COUNT", 1)
    monkeypatch.setenv("COUNT", "12")
    with pytest.raises(ImproperlyConfigured, match="below the minimum of 20"):
        env_int("COUNT", 1, minimum=20)
    monkeypatch.delenv("MISSING", raising=False)
    with pytest.raises(ImproperlyConfigured, match="MISSING is not set: needed for tests"):
        env_required("MISSING", "needed for tests")
