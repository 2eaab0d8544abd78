"""The only way out to a URL someone typed: webhook deliveries connect through here.

Policy (server-side request forgery): a URL is used only if its host is public.

- Its host name is resolved, and *every* address it has must be public. One private answer among
  public ones refuses the URL: a hostile DNS server can mix them, and a client picks any.
- Not public: loopback, private (RFC 1918), shared (CGNAT, 100.64.0.0/10), link-local (where
  cloud metadata answers), "this network" (0.0.0.0/8), benchmarking, multicast, broadcast,
  reserved, unspecified, IPv6 unique-local and site-local, and any other special-purpose block
  (``ipaddress``'s ``is_global``). IPv6 forms that carry an IPv4 address (IPv4-mapped, NAT64,
  6to4) are judged by the IPv4 address too; Teredo tunnels are refused.
- ``WEBHOOK_ALLOWED_NETWORKS`` (CIDRs) lets a self-hosted install reach networks of its own;
  unspecified and multicast addresses stay refused even there.
- Any port is allowed: once the address is public, a port is no more than the receiver's choice.
- The connection goes to an address that was checked, never to the name (a second lookup could
  answer differently: DNS rebinding). The ``Host`` header, TLS SNI and the certificate check use
  the name.
- Redirects are not followed and the reply's body is not read: only its status line counts.
  Every failure to get an answer has one message, so failures cannot tell open ports from
  closed ones. The whole exchange has one deadline, the name lookup included; a lookup alone
  (when an endpoint is saved) gives up after ``RESOLVE_SECONDS``.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = ("http", "https")

# The system resolver. Tests put theirs here, answering whatever address they need.
getaddrinfo = socket.getaddrinfo

# getaddrinfo takes no timeout, and a slow DNS server can hold it for tens of seconds: lookups run
# on these threads and are waited for at most this long. A stuck lookup keeps its thread until
# the system gives up; with all of them stuck, later lookups wait in line and time out the same.
RESOLVE_SECONDS = 3.0
_LOOKUPS = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="waymark-dns")

_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_RFC1918 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_BENCHMARKING = ipaddress.ip_network("198.18.0.0/15")
_BROADCAST = ipaddress.ip_address("255.255.255.255")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_TEREDO = ipaddress.ip_network("2001::/32")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")


class OutboundRefused(Exception):
    """The URL may not be used; ``message`` says why in a phrase safe to show to its owner."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class HostUnresolved(OutboundRefused):
    """The host name has no address (now, at least)."""


class AddressRefused(OutboundRefused):
    """The host is, or resolves to, an address that is not public."""


class OutboundFailed(Exception):
    """No HTTP answer: whatever went wrong (refused, reset, TLS, timeout), the same message."""

    message = "no HTTP answer from the endpoint (connection failed, TLS failed or timed out)"

    def __init__(self):
        super().__init__(self.message)


# --- Which addresses ------------------------------------------------------------------------


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n, strict=False) for n in settings.WEBHOOK_ALLOWED_NETWORKS]


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    if ip.ipv4_mapped is not None:
        return "IPv4-mapped", ip.ipv4_mapped
    if ip in _NAT64:
        return "NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return "6to4", ip.sixtofour
    return None


def _ipv4_refusal(ip: ipaddress.IPv4Address) -> str | None:
    if ip in _THIS_NETWORK:
        return "a “this network” address (0.0.0.0/8)"
    if ip.is_loopback:
        return "a loopback address"
    if any(ip in network for network in _RFC1918):
        return "a private address (RFC 1918)"
    if ip in _SHARED:
        return "a shared carrier-grade NAT address (100.64.0.0/10)"
    if ip.is_link_local:
        return "a link-local address (169.254.0.0/16, where cloud metadata answers)"
    if ip in _BENCHMARKING:
        return "a benchmarking address (198.18.0.0/15)"
    if ip == _BROADCAST:
        return "the broadcast address"
    if ip.is_reserved:
        return "a reserved address"
    if not ip.is_global:
        return "a special-purpose address, not a public one"
    return None


def _ipv6_refusal(ip: ipaddress.IPv6Address) -> str | None:
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (fe80::/10)"
    if ip in _SITE_LOCAL:
        return "a site-local address (fec0::/10)"
    if ip in _UNIQUE_LOCAL:
        return "a unique local address (fc00::/7)"
    if ip in _TEREDO:
        return "a Teredo tunnel address (2001::/32)"
    if ip.is_reserved:
        return "a reserved address"
    if not ip.is_global:
        return "a special-purpose address, not a public one"
    return None


def address_refusal(ip: IPAddress) -> str | None:
    """Why ``ip`` must not be reached, as a phrase ("a loopback address"); None when it is public
    or inside one of ``WEBHOOK_ALLOWED_NETWORKS``."""
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            form, ipv4 = embedded
            why = address_refusal(ipv4)
            if why:
                return f"{why}, {form}"
            # The packets go to the IPv4 address, which is fine (6to4 included: Python before
            # 3.11.4 counts all of 2002::/16 as private, whatever address it carries).
            return None
    if any(ip in network for network in _allowed_networks()):
        return None
    if isinstance(ip, ipaddress.IPv4Address):
        return _ipv4_refusal(ip)
    return _ipv6_refusal(ip)


def _lookup(host: str, port: int, timeout: float):
    future = _LOOKUPS.submit(lambda: getaddrinfo(host, port, type=socket.SOCK_STREAM))
    try:
        return future.result(timeout=timeout)
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise HostUnresolved(f"cannot resolve {host} in time") from None
    except (OSError, UnicodeError) as exc:
        raise HostUnresolved(f"cannot resolve {host}") from exc


def resolve(host: str, port: int, *, timeout: float | None = None) -> list[IPAddress]:
    """Every address of ``host`` (a name or an IP literal), in the resolver's order, each one
    checked, looked up within ``timeout`` seconds (``RESOLVE_SECONDS`` by default). Raises
    ``OutboundRefused`` if the name does not resolve in time or any address is refused."""
    try:
        addresses = [ipaddress.ip_address(host)]
        verb = "is"
    except ValueError:
        verb = "resolves to"
        answers = _lookup(host, port, RESOLVE_SECONDS if timeout is None else timeout)
        addresses = list(
            dict.fromkeys(
                ipaddress.ip_address(sockaddr[0])
                for family, _, _, _, sockaddr in answers
                if family in (socket.AF_INET, socket.AF_INET6)
            )
        )
        if not addresses:
            raise HostUnresolved(f"cannot resolve {host}") from None
    for address in addresses:
        why = address_refusal(address)
        if why:
            raise AddressRefused(f"{host} {verb} {why}")
    return addresses


def _split(url: str) -> tuple[str, str, int, str]:
    """Scheme, host, port and request target of ``url``; refuses what cannot be sent to."""
    try:
        parts = urlsplit(url)
    except ValueError:
        raise OutboundRefused("the URL cannot be read") from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise OutboundRefused("only http:// and https:// URLs can receive webhooks")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise OutboundRefused("the port is not a number from 1 to 65535")
    port = port or (443 if scheme == "https" else 80)
    if not parts.hostname:
        raise OutboundRefused("the URL has no host")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, parts.hostname, port, target


def check_url(url: str) -> None:
    """Raise ``OutboundRefused`` unless ``url`` could be sent to now (see the module's policy)."""
    _, host, port, _ = _split(url)
    resolve(host, port)


# --- Sending --------------------------------------------------------------------------------


class _PinnedHTTP(http.client.HTTPConnection):
    """HTTP for ``host`` over a socket already connected to one of its checked addresses."""

    def __init__(self, host: str, port: int, sock: socket.socket):
        super().__init__(host, port)
        self.pinned = sock

    def connect(self):
        self.sock = self.pinned


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS the same way: SNI and the certificate check are for ``host``, not the address."""

    def __init__(self, host: str, port: int, sock: socket.socket):
        self.tls = ssl.create_default_context()
        super().__init__(host, port, context=self.tls)
        self.pinned = sock

    def connect(self):
        # The handshake runs once ``self.sock`` is set, so the deadline can cut it off too.
        self.sock = self.tls.wrap_socket(
            self.pinned, server_hostname=self.host, do_handshake_on_connect=False
        )
        self.sock.do_handshake()


def _connect(addresses: list[IPAddress], port: int, deadline: float) -> socket.socket:
    for address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            return socket.create_connection((str(address), port), timeout=remaining)
        except OSError:
            continue
    raise OutboundFailed


def _cut_off(connection: _PinnedHTTP | _PinnedHTTPS) -> None:
    """At the deadline: end the exchange, even if the receiver drips a byte at a time."""
    try:
        (connection.sock or connection.pinned).shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def post(url: str, *, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
    """POST ``body`` to ``url`` and return the answer's HTTP status, within ``timeout`` seconds
    in all. Raises ``OutboundRefused`` (see the policy) or ``OutboundFailed`` (no answer)."""
    scheme, host, port, target = _split(url)
    deadline = time.monotonic() + timeout
    addresses = resolve(host, port, timeout=min(timeout, RESOLVE_SECONDS))
    sock = _connect(addresses, port, deadline)
    connection_class = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
    connection = connection_class(host, port, sock)
    watchdog = threading.Timer(max(deadline - time.monotonic(), 0), _cut_off, (connection,))
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.request("POST", target, body=body, headers=dict(headers))
        response = connection.getresponse()
        return response.status
    except (OSError, http.client.HTTPException, ValueError):
        raise OutboundFailed from None
    finally:
        watchdog.cancel()
        connection.close()
        sock.close()
