"""One WebSocket connection: frames in, a pipeline in the middle, a bounded outbox out."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from typing import Any

import aiohttp
from aiohttp import web
from reactivex.scheduler.eventloop import AsyncIOScheduler
from reactivex.subject import Subject

from ._pipeline import Keystroke, SearchFunction, search_pipeline
from ._settings import Settings, Stats
from ._text import MAX_QUERY_CHARS

__all__ = ["Connection", "parse_keystroke"]

Message = dict[str, Any]
_EXAMPLE = '{"seq": 1, "q": "lond"}'


def parse_keystroke(data: str) -> Keystroke | Message:
    """A text frame as a :class:`Keystroke`, or the error message to send back.

    Example:
        >>> parse_keystroke('{"seq": 3, "q": "lond"}')
        Keystroke(seq=3, text='lond')
        >>> parse_keystroke("lond")["message"]
        'not JSON: send a JSON object like {"seq": 1, "q": "lond"}'
    """
    try:
        value = json.loads(data)
    except ValueError:
        return _error(None, f"not JSON: send a JSON object like {_EXAMPLE}")
    if not isinstance(value, dict):
        return _error(None, f"expected a JSON object like {_EXAMPLE}")
    seq, q = value.get("seq"), value.get("q")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        return _error(None, '"seq" must be a non-negative integer')
    if not isinstance(q, str):
        return _error(seq, '"q" must be a string')
    if len(q) > MAX_QUERY_CHARS:
        return _error(
            seq,
            f"query too long: {len(q):,} characters; the limit is {MAX_QUERY_CHARS}. Nothing was searched.",
            too_long=True,
        )
    return Keystroke(seq, q)


def _error(seq: int | None, message: str, **extra: Any) -> Message:
    return {"type": "error", "seq": seq, "message": message, **extra}


class Connection:
    """Runs one client's pipeline for as long as its WebSocket is open.

    Closing the socket (or the server shutting down) disposes the
    pipeline: the search in flight is cancelled and its HTTP request aborted.
    """

    def __init__(self, ws: web.WebSocketResponse, search: SearchFunction, settings: Settings, stats: Stats):
        self.ws = ws
        self.search = search
        self.settings = settings
        self.stats = stats
        self.keystrokes: Subject[Keystroke] = Subject()
        self.outbox: deque[Message] = deque()
        self.wakeup = asyncio.Event()

    async def run(self) -> None:
        """Serve the connection until the client goes away."""
        scheduler = AsyncIOScheduler(asyncio.get_running_loop())
        settings, stats = self.settings, self.stats
        pipeline = search_pipeline(
            self.keystrokes,
            self.search,
            debounce=settings.debounce,
            min_length=settings.min_length,
            scheduler=scheduler,
        )
        subscription = pipeline.subscribe(self.send, self._pipeline_failed, scheduler=scheduler)
        sender = asyncio.create_task(self._sender())
        stats.connections_open += 1
        stats.connections_total += 1
        try:
            async for frame in self.ws:
                self._receive(frame)
        finally:
            stats.connections_open -= 1
            subscription.dispose()
            sender.cancel()
            await asyncio.wait([sender])

    def send(self, message: Message) -> None:
        """Queue a message for the client; drop the oldest one if the outbox is full."""
        outbox, stats = self.outbox, self.stats
        if len(outbox) >= self.settings.limits.outbox:
            outbox.popleft()
            stats.messages_dropped += 1
        outbox.append(message)
        stats.max_outbox = max(stats.max_outbox, len(outbox))
        self.wakeup.set()

    def _receive(self, frame: aiohttp.WSMessage) -> None:
        self.stats.messages_received += 1
        if frame.type == aiohttp.WSMsgType.TEXT:
            parsed = parse_keystroke(frame.data)
            if isinstance(parsed, Keystroke):
                self.keystrokes.on_next(parsed)
                return
            self.send(parsed)
        elif frame.type == aiohttp.WSMsgType.BINARY:
            self.send(_error(None, f"binary frames are not accepted: send JSON text like {_EXAMPLE}"))
        else:
            return  # ERROR: aiohttp closes the socket and the loop ends
        self.stats.messages_rejected += 1

    def _pipeline_failed(self, error: Exception) -> None:
        self.send(_error(None, f"internal error: {error}"))

    async def _sender(self) -> None:
        outbox, ws = self.outbox, self.ws
        while True:
            await self.wakeup.wait()
            self.wakeup.clear()
            while outbox:
                try:
                    await ws.send_json(outbox.popleft())
                except ConnectionError:
                    return
