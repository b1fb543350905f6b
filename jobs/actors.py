"""Who did something: a person (a user) or a part of the system (a labelled process)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from django.contrib.auth.models import User


@dataclass(frozen=True)
class SystemActor:
    """A process acting on its own, such as a worker or the recovery schedule."""

    label: str


Actor = User | SystemActor


def system_actor(role: str) -> SystemActor:
    """Return an actor labelled with ``role``, this host and this process id."""
    return SystemActor(label=f"{role} {socket.gethostname()}:{os.getpid()}")


def actor_label(actor: Actor) -> str:
    """Return how the audit trail names ``actor``."""
    if isinstance(actor, SystemActor):
        return actor.label
    return actor.get_username()


def actor_user(actor: Actor) -> User | None:
    """Return the user behind ``actor``, or None for a system actor."""
    if isinstance(actor, SystemActor):
        return None
    return actor
