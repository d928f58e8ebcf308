"""Readable, unique case and notice numbers reserved under a row lock.

A case number is `<region code>-<yyyymmdd>-<5-digit sequence>` (e.g. 430100-20260928-00042): which
region received it, on which day, and the how-many-th. The per-(region, day) counter row is locked
with SELECT ... FOR UPDATE (PostgreSQL) or inside an IMMEDIATE transaction (SQLite), so concurrent
intakes never draw the same number; a rolled-back intake leaves a gap, never a duplicate.
"""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import F

from .models import CaseSequence


def reserve_case_number(region_code: str, day: date) -> str:
    return f"{region_code}-{day:%Y%m%d}-{_next(region_code, day):05d}"


def _next(region_code: str, day: date) -> int:
    with transaction.atomic():
        updated = CaseSequence.objects.filter(region_code=region_code, day=day).update(last=F("last") + 1)
        if not updated:
            try:
                with transaction.atomic():
                    CaseSequence.objects.create(region_code=region_code, day=day, last=1)
                    return 1
            except IntegrityError:  # another transaction created the row first: take the next one
                CaseSequence.objects.filter(region_code=region_code, day=day).update(last=F("last") + 1)
        return CaseSequence.objects.get(region_code=region_code, day=day).last
