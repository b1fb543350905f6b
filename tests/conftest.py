from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _isolated_storage(settings: LazySettings, tmp_path: Path) -> None:
    """Give every test its own media and source folders and a fast password hasher."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SHIPOPS_SOURCE_ROOT = tmp_path / "sources"
    settings.SHIPOPS_SOURCE_ROOT.mkdir()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def approver(db: None) -> User:
    """A staff user with the approve permission."""
    return UserFactory.create(username="dana", approver=True)


# Shared fixture modules: the UPS sandbox over real HTTP, and source files on disk.
pytest_plugins = ["tests.fixtures.ups_sandbox", "tests.fixtures.sources"]
