import pytest

from tests.factories import UserFactory, make_open_slate, organizer_of


@pytest.fixture
def slate():
    return make_open_slate(candidates=4, min_signatures=3)


@pytest.fixture
def organizer(slate):
    return organizer_of(slate)


@pytest.fixture
def stranger():
    return UserFactory()


@pytest.fixture
def other_organizer():
    """An organizer, but of another slate."""
    return organizer_of(make_open_slate(candidates=3, min_signatures=2))
