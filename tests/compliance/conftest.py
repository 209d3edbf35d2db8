# localstripe for the compliance tests where money moves (see tests/escrow/conftest.py).
from tests.escrow.conftest import localstripe, localstripe_server  # noqa: F401
