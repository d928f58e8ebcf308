"""Factories for the identity tests: people, staff, enterprises with valid codes."""

from __future__ import annotations

import factory
from django.contrib.auth.models import Group
from stdnum.cn import ric, uscc

from tongban.accounts.models import Enterprise, User
from tongban.regions.models import Department, Region


def id_number(n: int, region: str = "430102", birth: str = "19850312") -> str:
    body = f"{region}{birth}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def uscc_for(n: int, prefix: str = "91430100") -> str:
    body = f"{prefix}{n:09d}"
    return body + uscc.calc_check_digit(body)


def changsha() -> Region:
    province, _ = Region.objects.get_or_create(code="430000", defaults={"name": "湖南省", "level": Region.Level.PROVINCE})
    region, _ = Region.objects.get_or_create(code="430100", defaults={"name": "长沙市", "level": Region.Level.CITY,
                                                                      "parent": province})
    return region


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    uscc = factory.Sequence(lambda n: uscc_for(n + 1, prefix="11430100"))
    name = factory.Sequence(lambda n: f"身份测试部门{n}")
    kind = Department.Kind.MARKET_REGULATION
    region = factory.LazyFunction(changsha)


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    kind = User.Kind.PERSON
    real_name = factory.Sequence(lambda n: f"李{'一二三四五六七八九十'[n % 10]}{n}")
    id_number = factory.Sequence(lambda n: id_number(n + 1))
    region = factory.LazyFunction(changsha)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or []:
            group, _ = Group.objects.get_or_create(name=role)
            self.groups.add(group)


class StaffFactory(PersonFactory):
    username = factory.Sequence(lambda n: f"staff{n}")
    kind = User.Kind.STAFF
    id_number = ""
    department = factory.SubFactory(DepartmentFactory)
    region = factory.SelfAttribute("department.region")


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enterprise

    uscc = factory.Sequence(lambda n: uscc_for(n + 1))
    name = factory.Sequence(lambda n: f"长沙市测试餐饮有限公司{n}")
    legal_representative = factory.SubFactory(PersonFactory)
    address = "长沙市芙蓉区五一大道1号"
    region = factory.LazyFunction(changsha)
