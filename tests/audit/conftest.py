import pytest
from django.db import connection

from tongban.audit.models import AuditEntry

TABLE = AuditEntry._meta.db_table


@pytest.fixture
def make_user(django_user_model):
    def make(username="clerk1", **extra):
        return django_user_model.objects.create_user(username=username, password="x-very-long-pw", **extra)

    return make


@pytest.fixture
def raw_sql():
    """Run SQL behind the ORM's back (what an attacker with database access could do)."""

    def run(sql, params=()):
        with connection.cursor() as cursor:
            cursor.execute(sql.replace("{table}", connection.ops.quote_name(TABLE)), params)
            return cursor.rowcount

    return run
