"""A feed server on loopback: serves RSS/Atom (or any body) at paths a test sets,
and records the requests, so the scraping adapters' real HTTP code runs.

    server = FakeFeedServer().start()
    server.serve("/feeds/videos.xml", youtube_atom("UC1", [("vid1", "Title", "2026-12-01T10:00:00+00:00")]))
    server.url("/feeds/videos.xml")   # "http://127.0.0.1:PORT/feeds/videos.xml"
    server.requests                   # ["/feeds/videos.xml?channel_id=UC1", ...]
    server.stop()
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape


class FakeFeedServer:
    def __init__(self):
        self.routes: dict[str, tuple[int, bytes, str]] = {}
        self.requests: list[str] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                with server._lock:
                    server.requests.append(self.path)
                    status, body, ctype = server.routes.get(self.path.split("?")[0], (404, b"not found", "text/plain"))
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def start(self) -> FakeFeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._httpd.server_port}{path}"

    def serve(self, path: str, body: str | bytes, *, status: int = 200, content_type: str = "application/xml"):
        with self._lock:
            self.routes[path] = (status, body.encode() if isinstance(body, str) else body, content_type)

    def reset(self) -> None:
        with self._lock:
            self.routes.clear()
            self.requests.clear()


def youtube_atom(channel_id: str, videos: list[tuple[str, str, str]]) -> str:
    """YouTube's channel feed shape: (video id, title, published ISO time) per entry."""
    entries = "".join(
        f"""<entry><id>yt:video:{vid}</id><yt:videoId>{vid}</yt:videoId><yt:channelId>{channel_id}</yt:channelId>
<title>{escape(title)}</title><link rel="alternate" href="https://www.youtube.com/watch?v={vid}"/>
<published>{published}</published><updated>{published}</updated>
<media:group><media:title>{escape(title)}</media:title>
<media:thumbnail url="https://i.ytimg.com/vi/{vid}/hqdefault.jpg" width="480" height="360"/>
<media:description>About {escape(title)}</media:description></media:group></entry>"""
        for vid, title, published in videos
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns:media="http://search.yahoo.com/mrss/"
      xmlns="http://www.w3.org/2005/Atom"><title>Channel</title>{entries}</feed>"""


def rss(items: list[tuple[str, str, str]]) -> str:
    """RSS 2.0: (link, title, RFC 822 date) per item."""
    body = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(link)}</link><guid>{escape(link)}</guid>"
        f"<pubDate>{d}</pubDate><description>Post {escape(t)}</description></item>"
        for link, t, d in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed</title>{body}</channel></rss>'
