"""ElevenLabs and HeyGen on loopback: a real HTTP server speaking their request
and error shapes (shared/reference/media-canvas-builder.md section 1), for the
media adapters of aiplatform/ai/media/.

    fake = FakeMedia().start()
    fake.use_in(settings)                    # MEDIA_* URLs and keys point here
    fake.fail("elevenlabs.tts", "too_many_concurrent_requests", times=2)   # 429s
    fake.render_polls = 2                    # HeyGen: "processing" twice, then "completed"
    fake.render_failure = "Face not detected"   # the next render fails
    fake.calls("heygen.generate")            # what the server received
    fake.reset(); fake.stop()

ElevenLabs (`xi-api-key`): `POST /v1/voices/add` (multipart: name, files…,
remove_background_noise, description, labels as JSON) -> {voice_id,
requires_verification}; `POST /v1/text-to-speech/{voice_id}?output_format=` JSON
{text, model_id, voice_settings?} -> audio/mpeg bytes (a real 2 s MP3, made once
with ffmpeg). Errors `{"detail": {"status", "message"}}`, 422 `{"detail": [..]}`.

HeyGen (`X-Api-Key`): upload host `POST /v1/talking_photo` (raw image) and
`POST /v1/asset` (raw audio); API `POST /v2/video/generate`, `GET
/v1/video_status.get?video_id=`; the finished video is served at
`/files/<video_id>.mp4` (a real 2 s MP4). Errors `{"data": null, "error":
{"code", "message"}}`.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import re
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

ELEVENLABS_KEY = "fake-elevenlabs-key"
HEYGEN_KEY = "fake-heygen-key"
PREFIXES = {
    "MEDIA_ELEVENLABS_BASE_URL": "/elevenlabs",
    "MEDIA_HEYGEN_BASE_URL": "/heygen",
    "MEDIA_HEYGEN_UPLOAD_URL": "/heygen-upload",
}
CHARACTER_LIMITS = {"eleven_multilingual_v2": 10_000, "eleven_flash_v2_5": 40_000}
CLIP_SECONDS = 2.0


def _detail(status: int, code: str, message: str, headers: dict | None = None) -> tuple:
    return status, {"detail": {"status": code, "message": message}}, headers or {}


def _heygen_error(status: int, code: str, message: str, headers: dict | None = None) -> tuple:
    return status, {"data": None, "error": {"code": code, "message": message}}, headers or {}


FIXTURES: dict[str, Any] = {
    "too_many_concurrent_requests": lambda: _detail(
        429, "too_many_concurrent_requests",
        "You have too many concurrent requests. Upgrade your plan or try again later.",
        {"current-concurrent-requests": "3", "maximum-concurrent-requests": "2", "retry-after": "0"}),
    "system_busy": lambda: _detail(429, "system_busy", "Our systems are busy. Please try again.",
                                   {"retry-after": "0"}),
    "quota_exceeded": lambda: _detail(
        401, "quota_exceeded", "This request exceeds your quota of 10000. You have 12 credits remaining."),
    "invalid_api_key": lambda: _detail(401, "invalid_api_key", "Invalid API key"),
    "server_error": lambda: (500, {"detail": {"status": "internal_error", "message": "Internal error"}}, {}),
    "heygen_rate_limited": lambda: _heygen_error(429, "rate_limit_exceeded", "Too many requests",
                                                 {"retry-after": "0"}),
    "heygen_invalid_parameter": lambda: _heygen_error(400, "invalid_parameter", "avatar_id is invalid"),
    "heygen_insufficient_credit": lambda: _heygen_error(400, "insufficient_credit", "Insufficient credit"),
}  # fmt: skip


@lru_cache(maxsize=1)
def _clips() -> tuple[bytes, bytes]:
    """A real 2 s MP3 (a 220 Hz tone at ElevenLabs' mp3_44100_128) and a real 2 s MP4."""
    import imageio_ffmpeg

    ff = imageio_ffmpeg.get_ffmpeg_exe()
    with tempfile.TemporaryDirectory() as tmp:
        mp3, mp4 = Path(tmp) / "clip.mp3", Path(tmp) / "clip.mp4"
        tone = f"sine=frequency=220:duration={CLIP_SECONDS}:sample_rate=44100"
        subprocess.run([ff, "-v", "error", "-y", "-f", "lavfi", "-i", tone, "-c:a", "libmp3lame", "-b:a", "128k",
                        str(mp3)], check=True)  # fmt: skip
        subprocess.run([ff, "-v", "error", "-y", "-f", "lavfi", "-i", f"color=c=teal:s=320x568:d={CLIP_SECONDS}",
                        "-f", "lavfi", "-i", tone, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                        "-c:a", "aac", "-shortest", str(mp4)], check=True)  # fmt: skip
        return mp3.read_bytes(), mp4.read_bytes()


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    form: dict[str, Any]  # multipart fields; files as [(filename, content_type, size)]
    body: bytes
    endpoint: str


@dataclass
class FakeMedia:
    host: str = "127.0.0.1"
    requests: list[Recorded] = field(default_factory=list)
    render_polls: int = 1  # status checks answering "processing" before "completed"
    render_failure: str = ""  # non-empty: the next render fails with this message

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.reset()

    def start(self) -> FakeMedia:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                fake._handle(self)

            do_POST = do_GET

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def use_in(self, settings) -> FakeMedia:
        for name, prefix in PREFIXES.items():
            setattr(settings, name, self.url + prefix)
        settings.MEDIA_ELEVENLABS_API_KEY = ELEVENLABS_KEY
        settings.MEDIA_HEYGEN_API_KEY = HEYGEN_KEY
        settings.MEDIA_HEYGEN_POLL_SECONDS = 0.05
        return self

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._forced: dict[str, list[str]] = {}
            self._ids = itertools.count(1)
            self.voices: dict[str, dict] = {}
            self.photos: dict[str, int] = {}
            self.assets: dict[str, int] = {}
            self.videos: dict[str, dict] = {}
            self.render_polls = 1
            self.render_failure = ""

    def fail(self, endpoint: str, fixture: str, times: int = 1) -> None:
        if fixture not in FIXTURES:
            raise KeyError(f"unknown fixture {fixture!r}; known: {', '.join(FIXTURES)}")
        with self._lock:
            self._forced.setdefault(endpoint, []).extend([fixture] * times)

    def calls(self, endpoint: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.endpoint == endpoint]

    # --- HTTP --------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        url = urlsplit(handler.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in handler.headers.items()}
        ctype = headers.get("content-type", "")
        body_json, form = None, {}
        if raw and "json" in ctype:
            try:
                body_json = json.loads(raw)
            except ValueError:
                body_json = None
        elif raw and ctype.startswith("multipart/form-data"):
            form = _multipart(ctype, raw)
        endpoint, route = self._route(handler.command, url.path)
        with self._lock:
            self.requests.append(Recorded(handler.command, url.path, query, headers, body_json, form, raw, endpoint))
            forced = self._forced.get(endpoint)
            if forced:
                status, body, extra = FIXTURES[forced.pop(0)]()
            elif route is None:
                status, body, extra = 404, {"detail": f"Not Found: {url.path}"}, {}
            else:
                status, body, extra = route(query=query, headers=headers, json=body_json, form=form, raw=raw,
                                            path=url.path)  # fmt: skip
        if isinstance(body, bytes):
            payload, content_type = body, extra.pop("content-type", "application/octet-stream")
        else:
            payload, content_type = json.dumps(body).encode(), "application/json"
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(payload)))
            for name, value in extra.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _route(self, method: str, path: str):
        el, hg, up = PREFIXES["MEDIA_ELEVENLABS_BASE_URL"], PREFIXES["MEDIA_HEYGEN_BASE_URL"], \
            PREFIXES["MEDIA_HEYGEN_UPLOAD_URL"]  # fmt: skip
        table = [
            ("POST", rf"^{el}/v1/voices/add$", "elevenlabs.clone", self._clone),
            ("POST", rf"^{el}/v1/text-to-speech/[^/]+$", "elevenlabs.tts", self._tts),
            ("POST", rf"^{up}/v1/talking_photo$", "heygen.talking_photo", self._talking_photo),
            ("POST", rf"^{up}/v1/asset$", "heygen.asset", self._asset),
            ("POST", rf"^{hg}/v2/video/generate$", "heygen.generate", self._generate),
            ("GET", rf"^{hg}/v1/video_status\.get$", "heygen.status", self._status),
            ("GET", r"^/files/[^/]+\.mp4$", "heygen.file", self._file),
        ]
        for verb, pattern, name, handler in table:
            if verb == method and re.match(pattern, path):
                return name, handler
        return "unknown", None

    # --- ElevenLabs ----------------------------------------------------------------------------

    @staticmethod
    def _el_auth(headers) -> tuple | None:
        if headers.get("xi-api-key") != ELEVENLABS_KEY:
            return _detail(401, "invalid_api_key", "Invalid API key")
        return None

    def _clone(self, *, headers, form, **_):
        if refused := self._el_auth(headers):
            return refused
        missing = [name for name in ("name", "files") if not form.get(name)]
        if missing:
            return 422, {"detail": [{"loc": ["body", m], "msg": "field required", "type": "value_error.missing"}
                                    for m in missing]}, {}  # fmt: skip
        if "labels" in form:
            try:
                json.loads(form["labels"])
            except ValueError:
                return 422, {"detail": [{"loc": ["body", "labels"], "msg": "invalid JSON", "type": "value_error"}]}, {}
        voice_id = f"voice{next(self._ids):04d}"
        self.voices[voice_id] = {"name": form["name"], "files": form["files"]}
        return 200, {"voice_id": voice_id, "requires_verification": False}, {}

    def _tts(self, *, headers, json, path, query, **_):
        if refused := self._el_auth(headers):
            return refused
        voice_id = path.rsplit("/", 1)[1]
        if voice_id not in self.voices:
            return _detail(400, "voice_not_found", f"A voice with the voice_id {voice_id} was not found.")
        if not isinstance(json, dict) or not json.get("text"):
            return 422, {"detail": [{"loc": ["body", "text"], "msg": "field required", "type": "missing"}]}, {}
        limit = CHARACTER_LIMITS.get(json.get("model_id", "eleven_multilingual_v2"), 10_000)
        if len(json["text"]) > limit:
            return _detail(400, "max_character_limit_exceeded",
                           f"Text is too long: {len(json['text'])} characters, the limit is {limit}.")  # fmt: skip
        if not query.get("output_format", "").startswith("mp3_"):
            return 422, {"detail": [{"loc": ["query", "output_format"], "msg": "unsupported", "type": "enum"}]}, {}
        return 200, _clips()[0], {"content-type": "audio/mpeg", "request-id": f"req-{next(self._ids)}"}

    # --- HeyGen -------------------------------------------------------------------------------

    @staticmethod
    def _hg_auth(headers) -> tuple | None:
        if headers.get("x-api-key") != HEYGEN_KEY:
            return _heygen_error(401, "invalid_api_key", "Unauthorized: invalid API key")
        return None

    def _talking_photo(self, *, headers, raw, **_):
        if refused := self._hg_auth(headers):
            return refused
        if headers.get("content-type") not in ("image/jpeg", "image/png") or not raw:
            return _heygen_error(400, "invalid_parameter", "Upload a JPEG or PNG image.")
        photo_id = f"tp{next(self._ids):04d}"
        self.photos[photo_id] = len(raw)
        return 200, {"code": 100, "data": {"talking_photo_id": photo_id,
                                           "talking_photo_url": f"{self.url}/files/{photo_id}.png"},
                     "msg": None, "message": None}, {}  # fmt: skip

    def _asset(self, *, headers, raw, **_):
        if refused := self._hg_auth(headers):
            return refused
        if not headers.get("content-type", "").startswith("audio/") or not raw:
            return _heygen_error(400, "invalid_parameter", "Unsupported asset type.")
        asset_id = f"asset{next(self._ids):04d}"
        self.assets[asset_id] = len(raw)
        return 200, {"code": 100, "data": {"id": asset_id, "name": asset_id, "file_type": "audio",
                                           "url": f"{self.url}/files/{asset_id}.mp3"}}, {}  # fmt: skip

    def _generate(self, *, headers, json, **_):
        if refused := self._hg_auth(headers):
            return refused
        try:
            inputs = json["video_inputs"][0]
            character, voice = inputs["character"], inputs["voice"]
        except (KeyError, IndexError, TypeError):
            return _heygen_error(400, "invalid_parameter", "video_inputs is required")
        if character.get("type") != "talking_photo" or character.get("talking_photo_id") not in self.photos:
            return _heygen_error(400, "invalid_parameter", "talking_photo_id not found")
        if voice.get("type") != "audio" or voice.get("audio_asset_id") not in self.assets:
            return _heygen_error(400, "invalid_parameter", "audio_asset_id not found")
        video_id = f"vid{next(self._ids):04d}"
        self.videos[video_id] = {"polls": 0, "failure": self.render_failure, "callback_id": json.get("callback_id"),
                                 "dimension": json.get("dimension")}  # fmt: skip
        self.render_failure = ""
        return 200, {"error": None, "data": {"video_id": video_id}}, {}

    def _status(self, *, headers, query, **_):
        if refused := self._hg_auth(headers):
            return refused
        video = self.videos.get(query.get("video_id", ""))
        if video is None:
            return _heygen_error(404, "video_not_found", "Video not found")
        video["polls"] += 1
        data: dict[str, Any] = {"id": query["video_id"], "status": "processing", "video_url": None,
                                "thumbnail_url": None, "duration": None, "error": None}  # fmt: skip
        if video["polls"] > self.render_polls:
            if video["failure"]:
                data.update(status="failed", error={"code": "40119", "message": video["failure"],
                                                    "detail": video["failure"]})  # fmt: skip
            else:
                data.update(
                    status="completed",
                    video_url=f"{self.url}/files/{query['video_id']}.mp4",
                    thumbnail_url=f"{self.url}/files/{query['video_id']}.jpg",
                    duration=CLIP_SECONDS,
                )
        return 200, {"code": 100, "data": data, "message": "Success"}, {}

    def _file(self, *, path, **_):
        return 200, _clips()[1], {"content-type": "video/mp4"}


def _multipart(ctype: str, raw: bytes) -> dict[str, Any]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {ctype}\r\n\r\n".encode() + raw
    )
    form: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        content = part.get_payload(decode=True) or b""
        if filename is not None:
            form.setdefault(name, []).append((filename, part.get_content_type(), len(content)))
        else:
            form[name] = content.decode()
    return form


# --- pytest fixtures (tests/conftest.py lists this module in pytest_plugins) ---------------------

try:
    import pytest
except ImportError:  # imported outside pytest (a benchmark)
    pytest = None

if pytest is not None:

    @pytest.fixture(scope="session")
    def _fake_media_session():
        server = FakeMedia().start()
        yield server
        server.stop()

    @pytest.fixture
    def fake_media(_fake_media_session, settings):
        """The fake ElevenLabs + HeyGen, reset, with the MEDIA_* settings pointing at it."""
        _fake_media_session.reset()
        _fake_media_session.use_in(settings)
        yield _fake_media_session
        _fake_media_session.reset()
