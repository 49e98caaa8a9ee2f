"""A counter store in Python, written to the lab's counter contract, for the
harness to judge (go run ./loadtest -subject counter -cmd ...). It is a
learner's solution in another language: the harness sees only its
behaviour.

    python3 counter.py PORT [--unlocked] [--sloppy] [--stale]

--unlocked  increments with an unlocked read-modify-write: two threads read
            the same value, and one increment is lost.
--sloppy    answers bad input wrongly (200 for a missing name, 500 for a
            value that is not a number), but is safe under load.
--stale     exact under the lock, but answers /get from a copy of the
            counters refreshed every 250 ms, as a cache does: no update is
            lost, yet reads go back in time.
"""

import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MAX_NAME = 128
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)

counters = {"i": 0, "j": 0}
lock = threading.Lock()
unlocked = "--unlocked" in sys.argv
sloppy = "--sloppy" in sys.argv
stale = "--stale" in sys.argv
copy = dict(counters)  # --stale: what /get answers from


def refresh():
    """Copies the counters every 250 ms (--stale)."""
    global copy
    while True:
        time.sleep(0.25)
        with lock:
            copy = dict(counters)


class Guard:
    """The lock, or nothing at all with --unlocked."""

    def __enter__(self):
        if not unlocked:
            lock.acquire()

    def __exit__(self, *exc):
        if not unlocked:
            lock.release()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as hey and ab expect
    disable_nagle_algorithm = True  # the headers and the body go in two writes: do not hold the second back

    def log_message(self, *args):  # quiet, as the Go servers are without -v
        pass

    def answer(self, status, line):
        body = (line + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PUT(self):
        self.route("PUT")

    def do_DELETE(self):
        self.route("DELETE")

    def route(self, method):
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        allowed = {"/get": ("GET",), "/set": ("GET", "POST"), "/inc": ("GET", "POST")}
        if url.path not in allowed:
            return self.answer(404, "unknown path " + url.path + ": use /set, /get or /inc")
        if method not in allowed[url.path]:
            return self.answer(405, method + " not allowed on " + url.path)
        name = query.get("name", [""])[0]
        if name == "" and not sloppy:
            return self.answer(400, "missing name: add ?name=N")
        if len(name.encode()) > MAX_NAME:
            return self.answer(400, "name is over %d bytes" % MAX_NAME)
        getattr(self, url.path[1:])(name, query)

    def get(self, name, query):
        if stale:
            value = copy.get(name)
        else:
            with Guard():
                value = counters.get(name)
        if value is None:
            return self.answer(404, name + " not found")
        self.answer(200, "%s: %d" % (name, value))

    def set(self, name, query):
        if "val" not in query:
            return self.answer(400, "missing val: add &val=V")
        raw = query["val"][0]
        try:
            if raw.strip() != raw or "_" in raw:  # Python's int takes these; Go's ParseInt does not
                raise ValueError(raw)
            value = int(raw, 10)
        except ValueError:
            if sloppy:
                return self.answer(500, "internal error")
            return self.answer(400, "val is not an integer")
        if not INT64_MIN <= value <= INT64_MAX:
            return self.answer(400, "val is out of int64 range")
        with Guard():
            counters[name] = value
        self.answer(200, "ok")

    def inc(self, name, query):
        with Guard():
            value = counters.get(name)
            if value is None:
                return self.answer(404, name + " not found")
            if value == INT64_MAX:
                return self.answer(409, name + " is at the int64 maximum; not incremented")
            time.sleep(0)  # another thread may run here: without the lock, it reads the same value
            counters[name] = value + 1
        self.answer(200, "ok")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # 200 clients connect at once


if __name__ == "__main__":
    port = int(sys.argv[1])
    server = Server(("127.0.0.1", port), Handler)
    if stale:
        threading.Thread(target=refresh, daemon=True).start()
    print("serving on http://127.0.0.1:%d" % port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    server.server_close()
