"""Catalogue reads over HTTP: items of a region and the regional comparison of a standard item."""

from __future__ import annotations

from ninja import Field, Query, Router, Schema

from . import diff
from .models import Item

router = Router(tags=["catalog"])


class ItemOut(Schema):
    basic_code: str
    implementation_code: str
    name: str
    region: str = Field(..., alias="region_id")
    department: str = Field(..., alias="department.name")


@router.get("/items", response=list[ItemOut], summary="Items implemented in a region")
def list_items(request, region: str = Query(..., pattern=r"^\d{6}$")):
    return list(Item.objects.filter(region_id=region).select_related("department").order_by("basic_code"))


@router.get("/items/{basic_code}/diff", summary="Where the regions' implementations of a standard item differ")
def item_diff(request, basic_code: str) -> dict:
    return diff.compare_item(basic_code).as_dict()
