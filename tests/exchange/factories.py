"""Factories for the exchange tests: regions, departments, people, staff and enterprises with valid codes."""

from __future__ import annotations

import factory
from django.contrib.auth.models import Group
from stdnum.cn import ric, uscc

from tongban.accounts.models import Enterprise, User
from tongban.regions.models import Department, Region


def id_number(n: int, region: str = "430102", birth: str = "19850312") -> str:
    """A valid 居民身份证号码 (GB 11643) for a sequence number."""
    body = f"{region}{birth}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check digit


def uscc_for(n: int, prefix: str = "91430100") -> str:
    """A valid 统一社会信用代码 (GB 32100) for a sequence number."""
    body = f"{prefix}{n:09d}"
    return body + uscc.calc_check_digit(body)


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = "430100"
    name = "长沙市"
    level = Region.Level.CITY
    parent = None


def changsha() -> Region:
    province = RegionFactory(code="430000", name="湖南省", level=Region.Level.PROVINCE)
    return RegionFactory(code="430100", name="长沙市", parent=province)


def zhuzhou() -> Region:
    province = RegionFactory(code="430000", name="湖南省", level=Region.Level.PROVINCE)
    return RegionFactory(code="430200", name="株洲市", parent=province)


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    uscc = factory.Sequence(lambda n: uscc_for(n + 1, prefix="11430100"))
    name = factory.Sequence(lambda n: f"测试部门{n}")
    kind = Department.Kind.OTHER
    region = factory.LazyFunction(changsha)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    kind = User.Kind.PERSON
    real_name = factory.Sequence(lambda n: f"张{'一二三四五六七八九十'[n % 10]}{n}")
    id_number = factory.Sequence(lambda n: id_number(n + 1))
    region = factory.LazyFunction(changsha)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or []:
            group, _ = Group.objects.get_or_create(name=role)
            self.groups.add(group)


class StaffFactory(UserFactory):
    kind = User.Kind.STAFF
    id_number = ""
    department = factory.SubFactory(DepartmentFactory)
    region = factory.SelfAttribute("department.region")


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enterprise

    uscc = factory.Sequence(lambda n: uscc_for(n + 1))
    name = factory.Sequence(lambda n: f"长沙市湘味餐饮有限公司{n}")
    legal_representative = factory.SubFactory(UserFactory)
    address = factory.Sequence(lambda n: f"长沙市芙蓉区五一大道{n + 1}号")
    region = factory.LazyFunction(changsha)
