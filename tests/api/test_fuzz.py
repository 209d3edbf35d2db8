"""Schemathesis against the live schema (/api/schema/), in process through WSGI.

Every operation gets positive and negative examples (fixed seed, a bounded number each),
with its path parameters pointing at real objects and, for negative examples, also left to
the generator. Checks: no 5xx, every response (errors included) valid against the schema
with a documented status and content type, and invalid input never accepted.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from api import services as api_services
from candidates.selectors import current_agreement_version
from pledges.declarations import ATTESTED
from slate import organizers as slate_organizers

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def _real_path_parameters(world, user) -> dict[str, object]:
    """A user who is organizer, partner admin, supporter and an invited candidate at once,
    so generated requests get past the permission checks into the serializers and services."""
    slate = world.slate
    slate_organizers.add_organizer(slate=slate, user=user, actor=world.users["organizer"])
    world.organization.admins.add(user)
    candidate = world.users["candidate"].candidate_profile
    candidate.user = user
    candidate.save(update_fields=["user"])
    token, _ = api_services.create_token(user=user, name="revoked by the fuzzer")
    from pledges import intake as pledge_intake

    own_pledge = pledge_intake.create_money_pledge(
        attestations=ATTESTED, supporter=user, slate=slate, amount_cents=1_000
    )
    return {
        "slug": slate.slug,
        "slate_slug": slate.slug,
        "id": own_pledge.pk,
        "number": current_agreement_version(slate).number,
        "candidate": candidate.pk,
        "token": token.pk,
    }


def _path_parameters_for(operation, known: dict[str, object]) -> dict[str, object]:
    names = [p.name for p in operation.path_parameters]
    values = {}
    for name in names:
        if name == "slug" and operation.path.startswith("/api/v1/partners/"):
            values[name] = known["org"]
        elif name == "id" and operation.path.startswith("/api/v1/candidates/"):
            values[name] = known["candidate"]
        elif name == "id" and operation.path.startswith("/api/v1/tokens/"):
            values[name] = known["token"]
        else:
            values[name] = known[name]
    return values


@pytest.fixture
def wsgi_app():
    """Django's WSGI app, minus the signal that closes the database connection after each
    request (as Django's test client does): the test's transaction must survive."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _run(operation, strategy, headers) -> None:
    @given(case=strategy)
    @seed(20261126)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        database=None,
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    check()


@override_settings(SLATE_API_WRITE_RATE_USER="100000/min", SLATE_API_WRITE_RATE_IP="100000/min")
def test_the_api_honours_its_schema(world, wsgi_app):
    from tests.factories import UserFactory, with_totp

    user = with_totp(UserFactory())
    known = _real_path_parameters(world, user)
    known["org"] = world.organization.slug
    _, raw = api_services.create_token(user=user, name="fuzzer")
    headers = {"Authorization": f"Bearer {raw}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    for operation in operations:
        fixed = _path_parameters_for(operation, known)
        for mode, path_parameters in (
            (schemathesis.GenerationMode.POSITIVE, fixed),
            (schemathesis.GenerationMode.NEGATIVE, fixed),
            (schemathesis.GenerationMode.NEGATIVE, None),
        ):
            negatable = len(operation.query) + len(operation.body) + len(operation.headers)
            if mode == schemathesis.GenerationMode.NEGATIVE and not (
                negatable if path_parameters is not None else fixed
            ):
                continue  # nothing in this request can be made invalid
            strategy = operation.as_strategy(
                generation_mode=mode, path_parameters=path_parameters, headers=dict(headers)
            )
            try:
                _run(operation, strategy, headers)
            except Unsatisfiable:
                continue  # the generator found no invalid value for these parameters
            except (Exception, BaseExceptionGroup) as exc:  # collect all, then report
                failures.append(f"{operation.method.upper()} {operation.path} ({mode}): {exc}")
    assert not failures, "\n\n".join(failures)
