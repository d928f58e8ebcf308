"""The full demo data (catalogue, people, keys, registers) loaded once per test module and rolled back."""

import pytest
from django.db import transaction


@pytest.fixture(scope="module")
def demo_world(django_db_setup, django_db_blocker):
    from tongban.core import demo
    from tongban.licences import cache

    with django_db_blocker.unblock():
        cache.invalidate()
        atomic = transaction.atomic()
        atomic._from_testcase = True  # like a TestCase's own block: durable services may run inside it
        atomic.__enter__()
        try:
            demo.load()
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            cache.invalidate()


@pytest.fixture
def user_client(client, demo_world, db):
    from tongban.accounts.models import User

    def make(username: str):
        client.force_login(User.objects.get(username=username))
        return client

    return make
