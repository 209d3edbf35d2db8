"""Policy slots (slate.policies): a lower app asks, an upper app answers; an empty slot fails
loudly, at startup and at first use, rather than let money move unchecked."""

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from slate import policies
from slate.policies import PolicySlot, check_policies_registered


@pytest.fixture
def slot(monkeypatch):
    # Declared into a copy of the slots, so the startup check forgets it after the test.
    monkeypatch.setattr(policies, "_slots", list(policies._slots))
    return PolicySlot("test policy", provided_by="the test app")


def test_an_empty_slot_refuses_to_answer(slot):
    with pytest.raises(ImproperlyConfigured, match="No test policy is registered: the test app"):
        slot.get()


def test_an_empty_slot_fails_the_startup_check(slot):
    errors = check_policies_registered()
    assert [(e.id, e.obj) for e in errors] == [("slate.E001", slot)]
    assert errors[0].level == checks.ERROR


def test_a_filled_slot_answers_with_its_policy(slot):
    policy = object()
    assert slot.register(policy) is policy
    assert slot.register(policy) is policy  # ready() run again: harmless
    assert slot.get() is policy
    assert slot not in [e.obj for e in check_policies_registered()]


def test_a_second_different_policy_is_refused(slot):
    first = object()
    slot.register(first)
    with pytest.raises(ImproperlyConfigured, match="already registered"):
        slot.register(object())
    assert slot.get() is first
