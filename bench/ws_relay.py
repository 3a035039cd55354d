"""The floor of the message benchmark (``msg_latency.py``): a bare WebSocket relay with the
``websockets`` library (as uvicorn's WebSocket protocol uses it), on uvloop, in a process of
its own. No Django, no database, no channel layer.

A socket opens ``/relay/<conversation>/<side>`` and gets ``{"type": "hello", "side": …}``. A
``send`` frame is parsed and answered as the app answers it: ``sent`` (with a running id) to
the sender, then one ``message`` event (id, side, author, text, time) to both sockets of the
conversation, the sender's own page and the other person's. ``ping`` gets ``pong``. So the
benchmark's client sees the frames it sees from the app, and a message's latency over the
relay is what the network stack, the WebSocket framing, JSON and one event loop cost.

    python bench/ws_relay.py --port 8765
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from datetime import UTC, datetime
from typing import Any

rooms: dict[str, dict[str, Any]] = {}
counter = 0


async def handler(ws: Any) -> None:
    global counter
    from websockets.exceptions import ConnectionClosed

    parts = [part for part in ws.request.path.split("/") if part]
    if len(parts) != 3 or parts[0] != "relay" or parts[2] not in ("member", "staff"):
        await ws.close(code=4404)
        return
    conversation, side = parts[1], parts[2]
    other = "staff" if side == "member" else "member"
    room = rooms.setdefault(conversation, {})
    room[side] = ws
    await ws.send(json.dumps({"type": "hello", "side": side}))
    try:
        async for raw in ws:
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "send":
                counter += 1
                await ws.send(
                    json.dumps({"type": "sent", "ref": frame.get("ref", ""), "id": counter})
                )
                event = json.dumps(
                    {
                        "type": "message",
                        "id": counter,
                        "author": side,
                        "side": side,
                        "text": frame.get("text", ""),
                        "created": datetime.now(UTC).isoformat(),
                        "attachments": [],
                    }
                )
                await ws.send(event)
                peer = room.get(other)
                if peer is not None:
                    with contextlib.suppress(ConnectionClosed):
                        await peer.send(event)
            elif kind == "ping":
                await ws.send(json.dumps({"type": "pong"}))
    except ConnectionClosed:
        pass
    finally:
        if room.get(side) is ws:
            del room[side]


async def main(host: str, port: int) -> None:
    from websockets.asyncio.server import serve

    stop = asyncio.get_running_loop().create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set_result, None)
    # As uvicorn runs it: no compression (``--ws-per-message-deflate false``), pings every 20 s.
    async with serve(
        handler, host, port, compression=None, ping_interval=20, ping_timeout=20, max_queue=None
    ):
        print("ready", flush=True)
        await stop


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.run(main(args.host, args.port))
    except ImportError:
        asyncio.run(main(args.host, args.port))
    sys.exit(0)
