"""The lean load-path client against a scripted asyncio server on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest

from mlprod.checks.serving_http import LeanClient

RESPONSES = [
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    b"HTTP/1.1 422 Unprocessable\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=1\r\nde\r\n0\r\n\r\n",
    b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nok",
]


async def _exchange(headers: dict[str, str]) -> tuple[list[int], list[bytes], int]:
    seen: list[bytes] = []
    connections = 0
    answers = iter(RESPONSES)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                seen.append(head + await reader.readexactly(length))
                answer = next(answers)
                writer.write(answer)
                await writer.drain()
                if b"Connection: close" in answer:
                    break
        except asyncio.IncompleteReadError:
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = LeanClient(f"http://127.0.0.1:{port}/v2/models/m/infer", headers, max_connections=1)
    try:
        statuses = [await client.post(b'{"n": %d}' % i) for i in range(4)]
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()
    return statuses, seen, connections


def test_statuses_bodies_and_keep_alive() -> None:
    statuses, seen, connections = asyncio.run(_exchange({"Authorization": "Bearer t"}))
    assert statuses == [200, 422, 503, 201]
    assert connections == 2  # one reused for three requests, a new one after `Connection: close`
    first = seen[0].decode()
    assert first.startswith("POST /v2/models/m/infer HTTP/1.1\r\nHost: 127.0.0.1:")
    assert "\r\nAuthorization: Bearer t\r\n" in first and first.endswith('\r\n\r\n{"n": 0}')


@pytest.mark.parametrize("url", ["ftp://h/x", "http:///x"])
def test_only_http_urls(url: str) -> None:
    with pytest.raises(ValueError, match="not an http"):
        LeanClient(url)


def test_header_values_cannot_add_lines() -> None:
    with pytest.raises(ValueError, match="line break"):
        LeanClient("http://h/", {"Authorization": "x\r\nHost: evil"})
