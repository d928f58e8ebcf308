"""Plans and the smart guide over HTTP. Thin: parse, call one selector, return."""

from __future__ import annotations

from datetime import date
from typing import Any

from ninja import Field, Query, Router, Schema

from . import guide
from .selectors import plan_bundle

router = Router(tags=["bundles"])


class PlanRequest(Schema):
    bundle: str = Field(..., min_length=1, description="bundle code, e.g. open-restaurant")
    region: str = Field(..., pattern=r"^\d{6}$", description="GB/T 2260 region code")
    answers: dict[str, Any] = Field(default_factory=dict)
    on: date | None = Field(None, description="plan with the versions in force on this date")


class GuideHit(Schema):
    kind: str
    code: str
    name: str
    score: float


@router.post("/plans", summary="Plan a one-thing bundle (一件事) for a region and answers")
def create_plan(request, payload: PlanRequest) -> dict:
    return plan_bundle(payload.bundle, payload.region, payload.answers, on=payload.on)


@router.get("/guide", response=list[GuideHit], summary="Smart guide (智能导办): search bundles and items in Chinese")
def search_guide(request, q: str = Query(..., min_length=1, max_length=200), limit: int = Query(10, ge=1, le=50)):
    return [h.as_dict() for h in guide.search(q, limit)]
