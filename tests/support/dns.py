"""A stub resolver for the whole test suite: no test may ask the real DNS about outside names.

`tests/conftest.py` installs it for every test. It replaces the SSRF-safe fetcher's resolver
and guards `socket.getaddrinfo` for everything else in the test process (httpx clients, engines,
libraries): IP literals and `localhost` resolve as usual, names a test registered with
`stub_dns.add(name, address)` resolve to those addresses, and any other name fails at once as
an unknown host would.
"""

from __future__ import annotations

import socket
from typing import Any

from studio.fetch import FetchError, parse_ip_literal

LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


class StubDNS:
    def __init__(self) -> None:
        self.names: dict[str, list[str]] = {}
        self.asked: list[str] = []  # every name the fetcher or the guard was asked about

    def add(self, name: str, *addresses: str) -> None:
        self.names[name.lower().rstrip(".")] = list(addresses)

    def lookup(self, host: str) -> list[str] | None:
        return self.names.get(host.lower().rstrip("."))

    # The fetcher's resolver interface: (host, port) -> addresses, FetchError when unknown.
    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host.lower() in LOCAL_NAMES:
            return ["127.0.0.1"]
        found = self.lookup(host)
        if found is None:
            raise FetchError(f"Cannot resolve host {host!r}.")
        return found

    def guard(self, real: Any) -> Any:
        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            name = host.decode() if isinstance(host, bytes) else host
            if name is None or name.lower() in LOCAL_NAMES or parse_ip_literal(name) is not None:
                return real(host, port, *args, **kwargs)
            self.asked.append(name)
            found = self.lookup(name)
            if found is None:
                raise socket.gaierror(
                    socket.EAI_NONAME,
                    f"tests may not resolve {name!r}: register it with stub_dns.add()",
                )
            return real(found[0], port, *args, **kwargs)

        return getaddrinfo
