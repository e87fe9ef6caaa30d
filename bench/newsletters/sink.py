"""An aiosmtpd sink in its own process for the benchmark: counts what it receives and
spools every message (recipient and bytes) to a file, so that the baseline can replay
the very messages the pipeline produced."""

from __future__ import annotations

import multiprocessing as mp
import socket
import struct
import time
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Handler:
    def __init__(self, counter: Any, spool: str | None) -> None:
        self.counter = counter
        self.spool = open(spool, "ab") if spool else None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.spool is not None:
            rcpt = envelope.rcpt_tos[0].encode()
            data = bytes(envelope.original_content)
            self.spool.write(struct.pack("!II", len(rcpt), len(data)) + rcpt + data)
        with self.counter.get_lock():
            self.counter.value += 1
        return "250 OK"


def _serve(port: int, counter: Any, spool: str | None, stop: Any) -> None:
    handler = _Handler(counter, spool)
    controller = Controller(handler, hostname="127.0.0.1", port=port, data_size_limit=10_000_000)
    controller.start()
    stop.wait()
    controller.stop()
    if handler.spool is not None:
        handler.spool.close()


class SinkProcess:
    def __init__(self, spool: str | None) -> None:
        ctx = mp.get_context("spawn")
        self.port = free_port()
        self.counter = ctx.Value("q", 0)
        self.stop_event = ctx.Event()
        self.proc = ctx.Process(
            target=_serve, args=(self.port, self.counter, spool, self.stop_event)
        )

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def count(self) -> int:
        return int(self.counter.value)

    def reset(self) -> None:
        with self.counter.get_lock():
            self.counter.value = 0

    def start(self) -> SinkProcess:
        self.proc.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sink did not start")

    def stop(self) -> None:
        self.stop_event.set()
        self.proc.join(10)


def read_spool(path: str) -> list[tuple[str, bytes]]:
    out = []
    with open(path, "rb") as fh:
        while header := fh.read(8):
            n_rcpt, n_data = struct.unpack("!II", header)
            rcpt = fh.read(n_rcpt).decode()
            out.append((rcpt, fh.read(n_data)))
    return out
