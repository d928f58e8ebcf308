"""The platform acting by itself (sweeps: deemed acceptance, broken 容缺 promises, overdue alerts).

`SYSTEM` is a sentinel, not a user: no row, no password, no session, no token. A request's user is
always a `User` (or anonymous), so no request can present it; services that only the platform may
perform (`cases.services.deem_accepted`) check `is_system(actor)` by identity. Read scopes see
nothing for it (it is not authenticated), and the trail records it with actor "system", role "system".
Only the sweep code imports it (tests/access/test_system_actor.py keeps that true).
"""

from __future__ import annotations


class _SystemActor:
    __slots__ = ()
    pk = None
    kind = "platform"
    is_authenticated = False
    is_active = False
    is_superuser = False

    def __new__(cls):
        if getattr(cls, "_made", False):
            raise RuntimeError("the system actor is a singleton: import tongban.core.system.SYSTEM")
        cls._made = True
        return super().__new__(cls)

    def has_role(self, role) -> bool:
        return False

    def get_username(self) -> str:
        return "system"

    def __repr__(self) -> str:
        return "<system actor>"

    def __reduce__(self):  # pickling (sessions, caches) cannot mint a second one
        raise TypeError("the system actor cannot be serialised")


SYSTEM = _SystemActor()


def is_system(actor) -> bool:
    return actor is SYSTEM
