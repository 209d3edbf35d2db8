"""The partner webhooks page refuses a Stop button it cannot match, and changes nothing."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("disable", ["abc", "1 OR 1=1", "9" * 40, "999999", "²"])
def test_stopping_an_endpoint_that_is_not_one_of_ours_is_a_clear_error(client, world, disable):
    client.force_login(world.users["partner_admin"])
    page = f"/api/partners/{world.organization.slug}/webhooks/"
    assert client.post(page, {"url": "https://hooks.example.org/slate"}).status_code == 200
    endpoint = world.organization.webhook_endpoints.get()

    response = client.post(page, {"disable": disable})

    assert response.status_code == 400
    assert b"no such endpoint; nothing was stopped" in response.content
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is None
