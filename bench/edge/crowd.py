#!/usr/bin/python3
"""bench/edge's flash crowd: TOTAL requests spread over the paths of a file
(one per line, in turn), CONC keep-alive connections at once, each request
timed. Prints "requests N ok N bad N p50_ms X p99_ms Y max_ms Z"; a
request is ok when it is a 200 whose body has its Content-Length.

    crowd.py HOST PORT HOSTHEADER PATHS-FILE TOTAL CONC
"""
import asyncio
import sys
import time


async def one(reader, writer, host, path):
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length is None:
        return False
    body = await reader.readexactly(length)
    return status == 200 and len(body) == length


async def worker(addr, port, host, queue, times, results):
    reader, writer = await asyncio.open_connection(addr, port)
    try:
        while True:
            try:
                path = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            t0 = time.monotonic()
            try:
                ok = await asyncio.wait_for(one(reader, writer, host, path), 60)
            except (asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError):
                ok = False
                writer.close()
                reader, writer = await asyncio.open_connection(addr, port)
            times.append(time.monotonic() - t0)
            results.append(ok)
    finally:
        writer.close()


async def main():
    addr, port, host, paths_file, total, conc = sys.argv[1:7]
    paths = [p for p in open(paths_file).read().split() if p]
    queue = asyncio.Queue()
    for i in range(int(total)):
        queue.put_nowait(paths[i % len(paths)])
    times, results = [], []
    await asyncio.gather(*(worker(addr, int(port), host, queue, times, results)
                           for _ in range(int(conc))))
    times.sort()
    q = lambda f: times[min(len(times) - 1, int(f * len(times)))] * 1000  # noqa: E731
    ok = sum(results)
    print(f"requests {len(results)} ok {ok} bad {len(results) - ok} p50_ms {q(0.5):.2f}"
          f" p99_ms {q(0.99):.2f} max_ms {times[-1] * 1000:.2f}")
    return 0 if ok == len(results) == int(total) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
