from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from tongban.exchange import demo
from tongban.regions.models import Department

from .factories import (
    DepartmentFactory,
    EnterpriseFactory,
    StaffFactory,
    UserFactory,
    changsha,
    uscc_for,
    zhuzhou,
)

KINDS = {
    "gov": (Department.Kind.GOVERNMENT_SERVICES, "长沙市政务服务和大数据管理局"),
    "market": (Department.Kind.MARKET_REGULATION, "长沙市市场监督管理局"),
    "police": (Department.Kind.PUBLIC_SECURITY, "长沙市公安局"),
    "hrss": (Department.Kind.HUMAN_RESOURCES, "长沙市人力资源和社会保障局"),
    "land": (Department.Kind.NATURAL_RESOURCES, "长沙市自然资源和规划局"),
    "tax": (Department.Kind.TAX, "长沙市税务局"),
    "health": (Department.Kind.HEALTH, "长沙市卫生健康委员会"),
}


@pytest.fixture
def world(db):
    """Changsha with its departments, one enterprise and its legal representative, another person,
    the demo vocabulary, catalogue, registers and platform grants, and officers of some departments."""
    region = changsha()
    zhuzhou()
    depts = {key: DepartmentFactory(kind=kind, name=name, region=region, uscc=uscc_for(i + 1, prefix="11430100"))
             for i, (key, (kind, name)) in enumerate(KINDS.items())}
    rep = UserFactory(real_name="李湘", phone="13800000001")
    enterprise = EnterpriseFactory(legal_representative=rep, name="长沙市湘味餐饮有限公司",
                                   address="长沙市芙蓉区五一大道100号")
    other = UserFactory(real_name="王五")
    demo.load_registers()
    return SimpleNamespace(
        region=region, depts=depts, rep=rep, enterprise=enterprise, other=other,
        health_officer=StaffFactory(department=depts["health"], real_name="赵医", roles=["officer"]),
        market_officer=StaffFactory(department=depts["market"], real_name="钱市", roles=["officer"]),
        police_officer=StaffFactory(department=depts["police"], real_name="孙警", roles=["officer"]),
        gov_clerk=StaffFactory(department=depts["gov"], real_name="周窗", roles=["clerk"]),
    )


def in_a_year():
    return timezone.now() + timedelta(days=365)
