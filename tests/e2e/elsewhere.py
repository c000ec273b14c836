"""Another origin for attacks to aim at: a server on another port of this machine that
answers every request (to anyone: `Access-Control-Allow-Origin: *`) and records what
reached it. A test that sends a page or a worker there shows the attack landed by what
it records, and the defence held by the record staying empty."""

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def elsewhere():
    """Yields (url, hits): the server's base URL and the list of paths requested."""
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            hits.append(self.path)
            body = b"<!doctype html><title>elsewhere</title><h1>elsewhere</h1>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", hits
    finally:
        server.shutdown()
        server.server_close()
