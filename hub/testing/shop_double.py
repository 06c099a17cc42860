"""An HTTP double of a shop's API, on ``responses``, for connector tests.

The connector under test calls the shop through the hub's safe session as it
would in production; ``responses`` answers in process. Routes are handlers
over whatever state the test keeps (``double.orders``); answers can be built
from recorded examples of the shop's own API (``double.example(name)``), so
the connector reads bodies the shop really sends. Faults are armed for the
next calls: an HTTP status with the shop's error body, a timeout, a redirect.
Every call is recorded with its method, path, body and the timeout it had.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
import responses

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Call:
    """One request the double received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    timeout: Any

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass(frozen=True)
class Reply:
    """What a route answers: a status, a body (``json`` for a JSON body), headers."""

    status: int = 200
    json: Any = None
    body: str | bytes = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = ""


Handler = Callable[[Call, "re.Match[str]"], Reply]


@dataclass
class _Fault:
    methods: frozenset[str] | None
    path: re.Pattern[str] | None
    times: int
    make: Callable[[Call], Reply | BaseException]

    def hits(self, call: Call) -> bool:
        return (
            self.times > 0
            and (self.methods is None or call.method in self.methods)
            and (self.path is None or self.path.match(call.path) is not None)
        )


class ShopDouble:
    """A shop's HTTP API at ``base_url``, answered by routes in process.

    Use :meth:`running` (a context manager) around the calls; inside it any
    request to an address no route or pass-through covers fails the test
    rather than reaching the network.
    """

    def __init__(self, base_url: str, examples: Path | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.examples = examples
        self.orders: dict[str, Any] = {}
        self.calls: list[Call] = []
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._faults: list[_Fault] = []
        self._passthru: list[str] = []
        self._reads: list[tuple[str, re.Pattern[str]]] = []

    # Routes and examples

    def route(self, method: str, path: str, handler: Handler, *, reads: bool = False) -> None:
        """Answer ``method`` on paths matching the regular expression ``path`` (anchored,
        relative to the base URL's path) with ``handler(call, match)``.

        ``reads``: the route changes nothing in the shop although its method may
        (a search sent as a POST, as Shopware's ``/api/search/...``; a token
        request): its calls are not counted in :attr:`writes`.
        """
        pattern = re.compile(f"^{path}$")
        self._routes.append((method.upper(), pattern, handler))
        if reads:
            self._reads.append((method.upper(), pattern))

    def example(self, name: str) -> Any:
        """A recorded example: ``<examples>/<name>``, JSON decoded when it ends in ``.json``."""
        if self.examples is None:
            raise LookupError("this shop double was given no examples folder")
        text = (self.examples / name).read_text("utf-8")
        return json.loads(text) if name.endswith(".json") else text

    def pass_through(self, prefix: str) -> None:
        """Let calls to URLs starting with ``prefix`` reach the real network (a live sandbox)."""
        self._passthru.append(prefix)

    # Faults

    def answer_next(
        self,
        reply: Reply | BaseException,
        *,
        times: int = 1,
        methods: tuple[str, ...] | None = None,
        path: str | None = None,
    ) -> None:
        """The next ``times`` calls (of ``methods`` on paths matching the regular expression
        ``path``, default any) get ``reply`` instead of their route's answer: an error in
        the shop's own format (XML, say), a fault on one call among several. An
        exception is raised instead, as the transport would (``requests.ReadTimeout``)."""
        self._arm(times, methods, path, lambda call: reply)

    def fail_next(
        self,
        status: int,
        *,
        json_body: Any = None,
        body: str = "",
        headers: Mapping[str, str] | None = None,
        times: int = 1,
        methods: tuple[str, ...] | None = None,
        path: str | None = None,
    ) -> None:
        """The next ``times`` calls (of ``methods`` on ``path``, default any) answer ``status``."""
        reply = Reply(status, json=json_body, body=body, headers=dict(headers or {}))
        self.answer_next(reply, times=times, methods=methods, path=path)

    def time_out_next(
        self, *, times: int = 1, methods: tuple[str, ...] | None = None, path: str | None = None
    ) -> None:
        """The next ``times`` calls never get an answer (a read timeout)."""
        timeout = requests.exceptions.ReadTimeout("the shop double did not answer")
        self.answer_next(timeout, times=times, methods=methods, path=path)

    def redirect_next(
        self,
        location: str,
        *,
        status: int = 302,
        times: int = 1,
        methods: tuple[str, ...] | None = None,
        path: str | None = None,
    ) -> None:
        """The next ``times`` calls are redirected to ``location``."""
        self.answer_next(
            Reply(status, headers={"Location": location}), times=times, methods=methods, path=path
        )

    def clear_faults(self) -> None:
        """Disarm every fault not yet used."""
        self._faults.clear()

    def _arm(
        self,
        times: int,
        methods: tuple[str, ...] | None,
        path: str | None,
        make: Callable[[Call], Reply | BaseException],
    ) -> None:
        chosen = frozenset(m.upper() for m in methods) if methods else None
        self._faults.append(_Fault(chosen, re.compile(f"^{path}$") if path else None, times, make))

    # What happened

    @property
    def writes(self) -> list[Call]:
        """The calls that may change the shop: anything but GET, HEAD, OPTIONS and the
        calls to routes declared ``reads``."""
        return [
            call
            for call in self.calls
            if call.method not in READ_METHODS
            and not any(m == call.method and p.match(call.path) for m, p in self._reads)
        ]

    def calls_to(self, method: str, path: str) -> list[Call]:
        pattern = re.compile(f"^{path}$")
        return [c for c in self.calls if c.method == method.upper() and pattern.match(c.path)]

    # Running

    @contextmanager
    def running(self) -> Iterator[ShopDouble]:
        """Answer the shop's calls while the block runs."""
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            for prefix in self._passthru:
                mock.add_passthru(prefix)
            for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"):
                mock.add_callback(method, re.compile(re.escape(self.base_url) + r"(/.*)?$"), self._answer)
            yield self

    def _answer(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(request.url or "")
        base_path = urlsplit(self.base_url).path
        body = request.body or b""
        call = Call(
            method=(request.method or "GET").upper(),
            path=parts.path[len(base_path) :] or "/",
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            # As a server reads them: text, whatever the client built (requests-oauthlib gives bytes).
            headers={
                k.lower(): v.decode("latin-1") if isinstance(v, bytes) else v
                for k, v in request.headers.items()
            },
            body=body.encode() if isinstance(body, str) else body,
            timeout=getattr(request, "req_kwargs", {}).get("timeout"),
        )
        self.calls.append(call)
        reply = self._fault_for(call) or self._route_for(call)
        if isinstance(reply, BaseException):
            raise reply
        return _encode(reply)

    def _fault_for(self, call: Call) -> Reply | BaseException | None:
        for fault in self._faults:
            if fault.hits(call):
                fault.times -= 1
                return fault.make(call)
        return None

    def _route_for(self, call: Call) -> Reply:
        for method, pattern, handler in self._routes:
            match = pattern.match(call.path)
            if method == call.method and match:
                return handler(call, match)
        return Reply(
            404,
            json={"code": "no_route", "message": f"the shop double has no route {call.method} {call.path}"},
        )


def _encode(reply: Reply) -> tuple[int, dict[str, str], bytes]:
    headers = dict(reply.headers)
    if reply.json is not None:
        body = json.dumps(reply.json).encode()
        headers.setdefault("Content-Type", reply.content_type or "application/json")
    else:
        body = reply.body.encode() if isinstance(reply.body, str) else reply.body
        if reply.content_type:
            headers.setdefault("Content-Type", reply.content_type)
    return reply.status, headers, body
