"""Create (or reset) the demo staff user and print its password; refused in production."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Field


class Command(BaseCommand):
    help = "Create or reset the demo staff user (development only) and print its login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="demo")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        if not settings.SHIPOPS_ALLOW_DEMO:
            raise CommandError(
                "The demo user is refused here: SHIPOPS_ENV is production or "
                "SHIPOPS_ALLOW_DEMO is off. Create real staff users with createsuperuser."
            )
        field = get_user_model()._meta.get_field(get_user_model().USERNAME_FIELD)
        try:
            if not isinstance(field, Field):
                raise ValidationError("the user model has no username field")
            username = field.clean(username, None)
        except ValidationError as error:
            raise CommandError(
                f"{username!r} is not a username: {' '.join(error.messages)}"
            ) from None
        password = secrets.token_urlsafe(12)
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.com"}
        )
        user.is_staff = True
        user.is_superuser = True
        user.is_active = True
        user.set_password(password)
        user.save()
        user.user_permissions.add(Permission.objects.get(codename="approve_job"))
        verb = "Created" if created else "Reset"
        self.stdout.write(self.style.SUCCESS(f"{verb} the demo staff user (demo only)."))
        self.stdout.write(f"  login:    {username}\n  password: {password}")
