"""Framing in Chromium (issue 15.7): a partner's site, on another origin, can show the
embeddable widget but not the slate page itself, which would let it dress Slate's buttons
in its own clothes (clickjacking). Every browser test also fails on any Content-Security-
Policy violation its pages log (tests/e2e/conftest.py)."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from tests.factories import make_open_slate

pytestmark = pytest.mark.django_db(transaction=True)


class PartnerSite:
    """A page on another origin that frames two Slate addresses."""

    def __init__(self, widget_url: str, slate_url: str):
        html = f"""<!doctype html><html><body>
<h1>Local 7 backs this slate</h1>
<iframe id="widget" src="{widget_url}" width="400" height="300"></iframe>
<iframe id="slate" src="{slate_url}" width="400" height="300"></iframe>
</body></html>""".encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(html)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_a_partner_site_can_frame_the_widget_but_not_the_slate_page(
    live_server, page, csp_violations
):
    slate = make_open_slate()
    assert live_server.url.startswith("http://localhost:")  # another origin than 127.0.0.1
    partner = PartnerSite(
        widget_url=f"{live_server.url}/embed/slates/{slate.slug}/",
        slate_url=f"{live_server.url}{slate.get_absolute_url()}",
    )
    try:
        page.goto(partner.url)
        widget = page.frame_locator("#widget")
        expect(widget.get_by_role("link", name="Back this slate")).to_be_visible()
        expect(widget.get_by_role("heading", name=slate.name)).to_be_visible()

        # Chromium refuses the slate page and says why, on the partner's page.
        def refused():
            return [text for text in csp_violations if "frame-ancestors 'none'" in text]

        deadline = time.monotonic() + 10
        while not refused() and time.monotonic() < deadline:
            page.wait_for_timeout(100)  # lets Playwright deliver console events
        assert refused() and f"Framing '{live_server.url}/'" in refused()[0]
        slate_frame = page.frame_locator("#slate")
        expect(slate_frame.get_by_role("heading", name=slate.name)).to_have_count(0)
        for text in refused():
            csp_violations.remove(text)  # provoked on purpose; anything else still fails
    finally:
        partner.close()
