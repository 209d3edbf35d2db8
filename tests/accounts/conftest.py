# The permission matrix opens the card page through the fake Stripe the escrow tests run.
from tests.escrow.conftest import localstripe, localstripe_server  # noqa: F401
