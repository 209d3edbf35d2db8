"""Posting to a URL a partner gave us, without letting that URL reach inside our network.

Anyone may register an organization and a webhook URL, so the URL is hostile until proven
otherwise. The defences, each against a way in:

- The name is resolved once, every address it resolves to must be public (an IPv4-mapped,
  6to4 or Teredo IPv6 address is judged by the IPv4 address inside it), and the connection
  goes to that checked address: a DNS answer that changes between check and connect
  (rebinding) cannot move it. The ``Host`` header, TLS SNI and certificate check still use
  the name, so the receiver sees an ordinary request.
- Redirects are never followed (a 3xx is a failed delivery), so a public receiver cannot
  bounce us to 127.0.0.1; no proxy from the environment is used (it would resolve again).
- One deadline covers the whole delivery (resolving, connecting, TLS, sending, the status
  line and headers), not each socket read, so a receiver that trickles bytes is cut off and
  the worker is free again. The response body is never read; the headers are bounded by the
  HTTP parser (100 KiB) as well as by the deadline.

The client is httpcore (the engine of httpx) with a small network backend that does the
pinning and the deadline; httpcore does HTTP/1.1 and TLS.
"""

import concurrent.futures
import ipaddress
import os
import socket
import time
import typing
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore
from django.conf import settings

# Resolution cannot be interrupted, so it runs on these threads and is abandoned (not waited
# for) when the deadline passes; the resolver's own timeout ends the thread later. One pool
# per process: a pool's threads do not survive a fork (Celery's prefork workers).
_resolvers: tuple[int, concurrent.futures.ThreadPoolExecutor] | None = None


def _resolver_pool() -> concurrent.futures.ThreadPoolExecutor:
    global _resolvers
    if _resolvers is None or _resolvers[0] != os.getpid():
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="resolve")
        _resolvers = (os.getpid(), pool)
    return _resolvers[1]


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class PostResult:
    status_code: int | None  # None: no HTTP answer at all
    error: str  # empty when the receiver answered 2xx

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class AddressRefused(Exception):
    pass


# --- Which addresses may be called ------------------------------------------------------------


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    embedded = [address.ipv4_mapped, address.sixtofour]
    if address.teredo:
        embedded.extend(address.teredo)
    return [inner for inner in embedded if inner is not None]


def _allowed_private_networks() -> list:
    # The tests' and development's way to call a receiver on loopback. Production refuses to
    # start with any (slate/settings.py); ignoring it here as well makes sure of it.
    if settings.PRODUCTION:
        return []
    return [ipaddress.ip_network(net) for net in settings.SLATE_WEBHOOK_ALLOWED_PRIVATE_NETWORKS]


def address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone id names no network
    candidates: list[Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        candidates.extend(_embedded_ipv4(ip))
    allowed = _allowed_private_networks()
    for candidate in candidates:
        if any(candidate.version == net.version and candidate in net for net in allowed):
            continue
        if not candidate.is_global or candidate.is_multicast:
            return False
    return True


def resolve_public_addresses(host: str, port: int, *, timeout: float) -> list[str]:
    """Every address ``host`` resolves to, once; raises AddressRefused if any of them is not
    public (a name that mixes public and private answers is not trusted either)."""
    future = _resolver_pool().submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=max(timeout, 0.001))
    except concurrent.futures.TimeoutError as exc:
        raise AddressRefused("the name did not resolve in time") from exc
    except OSError as exc:
        raise AddressRefused("the name does not resolve") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses or not all(address_is_public(address) for address in addresses):
        raise AddressRefused("address not allowed (private or unresolvable)")
    return addresses


# --- The network backend: one checked address, one deadline -----------------------------------


class _Deadline:
    def __init__(self, seconds: float):
        self.ends_at = time.monotonic() + seconds

    def remaining(self, requested: float | None = None) -> float:
        left = self.ends_at - time.monotonic()
        if left <= 0:
            raise httpcore.TimeoutException("deadline passed")
        return left if requested is None else min(requested, left)


class _DeadlineStream(httpcore.NetworkStream):
    """Every read and write waits at most until the delivery's deadline, so a receiver that
    sends one byte just before each read would time out still ends at the deadline."""

    def __init__(self, stream: httpcore.NetworkStream, deadline: _Deadline):
        self._stream = stream
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._deadline.remaining(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._deadline.remaining(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        remaining = self._deadline.remaining(timeout)
        tls = self._stream.start_tls(ssl_context, server_hostname, remaining)
        return _DeadlineStream(tls, self._deadline)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._stream.get_extra_info(info)


class _PinnedBackend(httpcore.NetworkBackend):
    """Connects to the address that was checked, whatever name the request carries."""

    def __init__(self, address: str, deadline: _Deadline):
        self._address = address
        self._deadline = deadline
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        stream = self._inner.connect_tcp(
            self._address, port, self._deadline.remaining(timeout), local_address, socket_options
        )
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise httpcore.ConnectError("unix sockets are never called")

    def sleep(self, seconds: float) -> None:
        time.sleep(self._deadline.remaining(seconds))


# --- Posting ----------------------------------------------------------------------------------


def post(url: str, body: bytes, headers: dict[str, str], *, deadline_seconds: float) -> PostResult:
    """POST ``body`` to ``url`` once, within ``deadline_seconds`` all told."""
    deadline = _Deadline(deadline_seconds)
    parts = urlsplit(url)
    try:
        host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # a port out of range
        return PostResult(None, "invalid URL")
    if parts.scheme not in ("http", "https") or not host:
        return PostResult(None, "invalid URL")
    try:
        addresses = resolve_public_addresses(host, port, timeout=deadline.remaining())
    except AddressRefused as exc:
        return PostResult(None, str(exc))
    except httpcore.TimeoutException:
        return PostResult(None, f"no answer within {deadline_seconds:g} s")
    error = "could not connect"
    for address in addresses:  # the next one only if this one refused the connection
        try:
            return PostResult(*_post_to(address, url, body, headers, deadline))
        except httpcore.ConnectError as exc:
            error = f"could not connect: {exc}"[:500]
        except httpcore.TimeoutException:
            return PostResult(None, f"no answer within {deadline_seconds:g} s")
        except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol,
                OSError) as exc:  # fmt: skip
            return PostResult(None, f"{type(exc).__name__}: {exc}"[:500])
    return PostResult(None, error)


def _post_to(address: str, url: str, body: bytes, headers: dict[str, str], deadline: _Deadline):
    backend = _PinnedBackend(address, deadline)
    seconds = deadline.remaining()
    timeouts = {"connect": seconds, "read": seconds, "write": seconds, "pool": seconds}
    # httpcore's default TLS context: certifi's CAs, hostname checked against the SNI name.
    pool = httpcore.ConnectionPool(network_backend=backend, retries=0)
    with (
        pool,
        # httpcore never follows redirects; the body is never read (closing the stream drops it).
        pool.stream(
            "POST", url, headers={**headers, "Connection": "close"}, content=body,
            extensions={"timeout": timeouts},
        ) as response,
    ):  # fmt: skip
        status = response.status
    if 200 <= status < 300:
        return status, ""
    if 300 <= status < 400:
        return status, f"HTTP {status} (redirects are not followed)"
    return status, f"HTTP {status}"
