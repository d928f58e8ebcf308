"""Personal numbers in full only for the roles that need them."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from tongban.accounts.masking import masked_for

from .factories import DepartmentFactory, PersonFactory, StaffFactory

pytestmark = pytest.mark.django_db


def test_who_sees_full_numbers():
    handling = DepartmentFactory()
    citizen = PersonFactory()
    number = citizen.id_number
    masked = number[:4] + "*" * 10 + number[-4:]
    cases = [
        (citizen, None, number),                                              # their own
        (PersonFactory(), None, masked),                                      # another applicant
        (StaffFactory(roles=["auditor"]), None, number),                      # auditor
        (StaffFactory(department=handling, roles=["officer"]), handling, number),  # handling officer
        (StaffFactory(roles=["officer"]), handling, masked),                  # officer of another department
        (StaffFactory(department=handling, roles=["officer"]), None, masked),  # no handling department given
        (StaffFactory(roles=["clerk"]), handling, masked),                    # window clerk
        (StaffFactory(roles=["supervisor"]), handling, masked),
        (None, None, masked),                                                 # logs, exports without a viewer
    ]
    for viewer, department, expected in cases:
        assert masked_for(viewer, number, department) == expected, (viewer, department)


def test_template_filter_and_tag():
    citizen = PersonFactory()
    clerk = StaffFactory(roles=["clerk"])
    text = Template("{% load identity %}{{ n|masked_for:viewer }} {% masked n viewer %}").render(
        Context({"n": citizen.id_number, "viewer": clerk}))
    assert citizen.id_number not in text and text.count("**********") == 2
