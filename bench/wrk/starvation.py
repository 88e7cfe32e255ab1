#!/usr/bin/env python3
"""No-starvation check: N keep-alive connections opened at once, each sending R requests
one after another on the same socket; reports whether every connection got every answer,
the slowest connection's total time and the errors. Standard library only (asyncio).
    starvation.py http://127.0.0.1:PORT DIR [connections] [requests-per-connection]
DIR holds tokens and ids written by seed.py (the mixed read routes need them).
"""
import asyncio, random, sys, time, urllib.parse

url = urllib.parse.urlparse(sys.argv[1])
state = sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
per = int(sys.argv[4]) if len(sys.argv) > 4 else 5
tokens = [l.strip() for l in open(state + "/tokens") if l.strip()]
ids = dict(l.strip().split("=") for l in open(state + "/ids") if "=" in l)

def req():
    r = random.randrange(4)
    if r == 0:
        return "GET /api/v1/courses/%s HTTP/1.1\r\nHost: b\r\n\r\n" % ids["course"]
    if r == 1:
        return "GET /api/v1/achievements HTTP/1.1\r\nHost: b\r\n\r\n"
    auth = "Authorization: Bearer %s\r\n" % random.choice(tokens)
    if r == 2:
        return "GET /api/v1/gamification/me HTTP/1.1\r\nHost: b\r\n%s\r\n" % auth
    return "GET /api/v1/enrollments/me HTTP/1.1\r\nHost: b\r\n%s\r\n" % auth

async def one(i, results, opened):
    t0 = time.monotonic()
    ok = 0
    try:
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        opened.append(1)
        while len(opened) < n:          # hold until every connection is open
            await asyncio.sleep(0.05)
        for _ in range(per):
            writer.write(req().encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            if head.startswith(b"HTTP/1.1 2") or head.startswith(b"HTTP/1.1 304"):
                ok += 1
        writer.close()
    except Exception as e:  # noqa: BLE001 - any failure counts against this connection
        results.append((i, ok, time.monotonic() - t0, repr(e)[:80]))
        return
    results.append((i, ok, time.monotonic() - t0, None))

async def main():
    results, opened = [], []
    t0 = time.monotonic()
    await asyncio.gather(*(one(i, results, opened) for i in range(n)))
    took = time.monotonic() - t0
    errors = [r for r in results if r[3]]
    short = [r for r in results if r[1] < per]
    slow = max(r[2] for r in results)
    print("   %d connections x %d requests: %d answered 2xx, %d connections short, %d errors, "
          "slowest connection %.2f s, all done in %.2f s" % (
              n, per, sum(r[1] for r in results), len(short), len(errors), slow, took))
    if errors:
        print("   first error:", errors[0][3])
    print("   every connection answered: %s" % ("yes" if not short else "NO"))

asyncio.run(main())
