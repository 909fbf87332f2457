"""Streaming a piece of work to a client: the work runs in the thread pool and sends events as it goes; a client
that leaves stops it (through its ticket). `/v1/ask`, conversation turns and the OpenAI-compatible endpoint frame
what `relay` yields in their own way."""

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import Request
from pydantic import BaseModel
from sse_starlette import ServerSentEvent
from starlette.concurrency import run_in_threadpool

from rag.core.errors import RagError
from rag.service.gate import Ticket

log = logging.getLogger(__name__)

Send = Callable[[str, Any], None]
RESULT, ERROR = "result", "error"


async def relay(work: Callable[[Send], Any], ticket: Ticket) -> AsyncIterator[tuple[str, Any]]:
    """Run `work(send)` in the thread pool and yield each `(event, data)` it sends, as it sends it, then
    `("result", what it returned)` or `("error", {"detail", "status"})`. When the consumer stops (the client went
    away, or the stream ended), the ticket is cancelled: the generation behind it stops at its next piece."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()

    def send(event: str, data: Any) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, (event, data))

    async def run() -> None:
        try:
            result = await run_in_threadpool(work, send)
            await queue.put((RESULT, result))
        except RagError as exc:
            await queue.put((ERROR, {"detail": exc.message, "status": exc.status}))
        except Exception:  # noqa: BLE001 - reported to the client as an event, logged in full here
            log.exception("streamed answer failed")
            await queue.put((ERROR, {"detail": "internal error", "status": 500}))
        finally:
            await queue.put(None)

    task = asyncio.ensure_future(run())
    try:
        while (item := await queue.get()) is not None:
            yield item
    finally:
        ticket.cancel()  # the client left (or the stream ended): stop generating
        if not task.done():
            task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)


async def named_events(work: Callable[[Send], Any], ticket: Ticket, final: str = "answer") -> AsyncIterator[ServerSentEvent]:
    """Server-sent events named after what they carry (`token`, ..., then `final` with the result, or `error`).

    sse-starlette frames them, sends a `: ping` comment every few seconds (a long prefill does not look like a dead
    connection to a proxy) and cancels this generator when the client goes away; the generation behind it is then
    cancelled too."""
    async for event, data in relay(work, ticket):
        if event == RESULT:
            event, data = final, data.model_dump() if isinstance(data, BaseModel) else data
        yield ServerSentEvent(event=event, data=json.dumps(data, ensure_ascii=False))


async def watch(task: asyncio.Future, on_disconnect, request: Request):
    """Await the work; call `on_disconnect` (which stops it) if the client disconnects first."""
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=0.25)
            if done:
                return task.result()
            if await request.is_disconnected():
                on_disconnect()
    except asyncio.CancelledError:
        on_disconnect()
        raise
