"""The test database's own settings (tests/conftest.py): the flush that ends a transactional
test (PostgreSQL's TRUNCATE swapped for DELETE) still leaves no rows behind, and commits do not
wait for the disk."""

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
            quoted = connection.ops.quote_name(table)  # a table name from Django itself
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {quoted})")  # noqa: S608
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


@pytest.mark.django_db(transaction=True)
def test_the_test_database_commits_without_waiting_for_the_disk():
    connection.close()  # a new connection, as a worker or a live server opens
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "off"
