"""Factories for the licence tests (regions, departments, licence types, users, enterprises)."""

from __future__ import annotations

import factory
from stdnum.cn import ric, uscc

from tongban.accounts.models import Enterprise, User
from tongban.catalog.models import LicenceType
from tongban.regions.models import Department, Region


def make_uscc(n: int, region: str = "430100", kind: str = "11") -> str:
    body = f"{kind}{region}{n:09d}"[:17]
    return body + uscc.calc_check_digit(body)


def make_id_number(n: int, region: str = "430102", birth: str = "19850101") -> str:
    body = f"{region}{birth}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = "430100"
    name = factory.LazyAttribute(lambda r: f"区划{r.code}")
    level = Region.Level.CITY
    parent = None


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    region = factory.SubFactory(RegionFactory)
    uscc = factory.Sequence(lambda n: make_uscc(1000 + n, "430100"))
    name = factory.Sequence(lambda n: f"市场监督管理局{n}")
    kind = Department.Kind.MARKET_REGULATION


class LicenceTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LicenceType

    code = factory.Sequence(lambda n: make_uscc(900 + n, "100000") + f"{n % 1000:03d}")
    name = factory.Sequence(lambda n: f"食品经营许可证{n}")
    holder_kind = LicenceType.HolderKind.ORGANISATION
    validity_years = 5
    fields = factory.LazyFunction(lambda: [
        {"name": "business_name", "label": "经营者名称", "type": "string", "required": True},
        {"name": "address", "label": "经营场所", "type": "string", "required": True},
        {"name": "scope", "label": "经营项目", "type": "string", "required": False},
        {"name": "floor_area", "label": "面积", "type": "integer", "required": False},
    ])


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    kind = User.Kind.PERSON
    real_name = factory.Sequence(lambda n: f"张{n}")
    id_number = factory.Sequence(lambda n: make_id_number(n))


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enterprise

    uscc = factory.Sequence(lambda n: make_uscc(5000 + n, "430100", "91"))
    name = factory.Sequence(lambda n: f"长沙饭馆{n}有限公司")
    legal_representative = factory.SubFactory(UserFactory)
    region = factory.SubFactory(RegionFactory)
