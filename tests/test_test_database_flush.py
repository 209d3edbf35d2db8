"""The suite's flush (tests/conftest.py swaps PostgreSQL's TRUNCATE for DELETE) still leaves
a transactional test's rows behind for no later test."""

import pytest
from django.core.management import call_command
from django.db import connection

from tests.factories import make_open_slate

# What flush's post_migrate signal puts back (Django's own rows, the same in every database).
REFILLED_BY_POST_MIGRATE = {"django_content_type", "auth_permission", "django_site"}


def tables_with_rows() -> set[str]:
    with connection.cursor() as cursor:
        tables = connection.introspection.django_table_names(only_existing=True)
        found = set()
        for table in tables:
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {connection.ops.quote_name(table)})")
            if cursor.fetchone()[0]:
                found.add(table)
        return found


@pytest.mark.django_db(transaction=True)
def test_flush_empties_every_table_a_test_wrote_to():
    make_open_slate()
    written = tables_with_rows() - REFILLED_BY_POST_MIGRATE
    assert {"slate_slate", "candidates_candidate", "auth_user"} <= written

    # As a transactional test's teardown calls it (django.test.TransactionTestCase).
    call_command("flush", interactive=False, verbosity=0, reset_sequences=False)

    assert tables_with_rows() <= REFILLED_BY_POST_MIGRATE

