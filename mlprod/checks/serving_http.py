"""A lean asyncio HTTP/1.1 client for the load path: keep-alive connections, POST, status code.

The functional serving checks use httpx. Under an open-loop load the generator's own cost
per request matters: httpx spends about a millisecond of CPU a request, which on a small
CI runner caps the generator itself near the rates it is meant to measure. This client
writes one prepared request head per call and reads the status line, the headers and the
body (Content-Length or chunked) on a pooled connection; nothing else. It talks only to
the host and port of the URL it was made for.
"""

from __future__ import annotations

import asyncio
import ssl
from urllib.parse import urlsplit


class LeanClient:
    """POST prepared bodies to one URL over at most `max_connections` keep-alive connections."""

    def __init__(self, url: str, headers: dict[str, str] | None = None, max_connections: int = 64) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.ssl = ssl.create_default_context() if parts.scheme == "https" else None
        path = parts.path or "/"
        lines = [f"POST {path} HTTP/1.1", f"Host: {parts.netloc}", "Content-Type: application/json"]
        for name, value in (headers or {}).items():
            if any(ch in value for ch in "\r\n\0"):
                raise ValueError(f"the {name} header value contains a line break")
            lines.append(f"{name}: {value}")
        self._head = "\r\n".join(lines).encode("latin-1")
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._slots = asyncio.Semaphore(max_connections)

    async def post(self, body: bytes) -> int:
        """Send `body`; the response's status code (the body is read and dropped)."""
        async with self._slots:
            if self._idle:
                reader, writer = self._idle.pop()
            else:
                reader, writer = await asyncio.open_connection(self.host, self.port, ssl=self.ssl)
            try:
                writer.write(self._head + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
                await writer.drain()
                status, keep = await _read_response(reader)
            except BaseException:
                writer.close()
                raise
            if keep:
                self._idle.append((reader, writer))
            else:
                writer.close()
            return status

    async def aclose(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """(status, keep-alive) after reading one whole response."""
    status_line = await reader.readline()
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
        raise ConnectionError(f"not an HTTP response: {status_line[:80]!r}")
    status = int(parts[1])
    length, chunked, keep = 0, False, parts[0] != b"HTTP/1.0"
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value
        elif name == b"connection":
            keep = value == b"keep-alive" or (keep and value != b"close")
    if chunked:
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)  # the chunk and its CRLF
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status, keep
