"""The lifecycle shared by the tests' loopback HTTP servers (feeds, Slack, webhooks)."""

from __future__ import annotations

import socket
from types import TracebackType
from typing import Self

from aiohttp import web


class LoopbackServer:
    """An aiohttp server on a free port of 127.0.0.1 that sends every request to `_dispatch`.

    Subclasses implement `_dispatch(request)`; `methods` limits the routed methods.
    """

    methods = "*"

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        raise NotImplementedError

    async def start(self) -> None:
        """Bind a free loopback port and start serving."""
        app = web.Application()
        app.router.add_route(self.methods, "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def close(self) -> None:
        """Stop serving and close open connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def port(self) -> int:
        """The bound port (after `start`)."""
        assert self._port is not None, f"{type(self).__name__} not started"
        return self._port

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:<port>"""
        return f"http://{self.host}:{self.port}"
