from __future__ import annotations

from datetime import date

import pytest

from tongban.licences import cache, crypto, keystore, services, trust
from tongban.licences.models import LicenceTypeIssuer

from .factories import DepartmentFactory, EnterpriseFactory, LicenceTypeFactory, RegionFactory, make_uscc


@pytest.fixture(autouse=True)
def _fresh_licence_caches():
    """Test transactions roll back behind the per-process caches' back: start each test clean."""
    cache.invalidate()
    yield
    cache.invalidate()


@pytest.fixture
def region(db):
    return RegionFactory(code="430100", name="长沙市")


@pytest.fixture
def make_issuer(region):
    """A department with an active key, authorised for `licence_type`, trusted by its region."""

    def make(licence_type, *, region=region, algorithm=crypto.ED25519, n=None, trusted=True):
        kwargs = {"region": region}
        if n is not None:
            kwargs["uscc"] = make_uscc(n, region.code)
        department = DepartmentFactory(**kwargs)
        keystore.create_key(department=department, algorithm=algorithm)
        LicenceTypeIssuer.objects.create(licence_type=licence_type, department=department)
        if trusted:
            trust.add_trusted_issuer(region=department.region, department=department)
        return department

    return make


@pytest.fixture
def licence_type(db):
    return LicenceTypeFactory()


@pytest.fixture
def issuer(make_issuer, licence_type):
    return make_issuer(licence_type)


@pytest.fixture
def enterprise(region):
    return EnterpriseFactory(region=region)


@pytest.fixture
def issue(licence_type, issuer, enterprise):
    def do(*, lt=None, by=None, holder=None, **overrides):
        holder = holder or enterprise
        args = {
            "licence_type": lt or licence_type, "issuer": by or issuer, "holder_code_type": "001",
            "holder_code": holder.uscc, "holder_name": holder.name,
            "data": {"business_name": holder.name, "address": "长沙市岳麓区麓山路 1 号", "floor_area": 120},
            "valid_from": date(2025, 1, 1), "source_ref": "CASE-1",
        }
        args.update(overrides)
        return services.issue_licence(**args)

    return do
