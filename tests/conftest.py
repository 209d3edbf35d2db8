import pytest

from slate import events


@pytest.fixture
def slate_events():
    """Collects every slate event sent, as (signal name, slate_id) pairs."""
    received: list[tuple[str, int]] = []
    handlers = []
    for name in ("slate_opened", "slate_locked", "slate_expired", "slate_voided"):
        signal = getattr(events, name)

        def handler(sender, slate_id, _name=name, **kwargs):
            received.append((_name, slate_id))

        signal.connect(handler, weak=False, dispatch_uid=f"test-{name}")
        handlers.append((signal, name))
    yield received
    for signal, name in handlers:
        signal.disconnect(dispatch_uid=f"test-{name}")
