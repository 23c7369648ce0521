"""The collection point (``auditor serve``): receives the bundles offices post with ``auditor collect
--upload`` or ``auditor upload``, and keeps each one as a file that ``auditor audit DIR`` reads.

What it promises the administrator:

- Only holders of the upload token are heard: the token is compared in constant time, before
  anything else is read, and a request without it is answered 401 and leaves nothing behind.
- A body must say its size (``Content-Length``; chunked bodies are refused with 411) and stay
  within ``--max-bytes`` (413), which is checked before a byte of it is read.
- Only an evidence bundle the audit can read is kept: the body is checked as the audit checks a
  bundle file (UTF-8 JSON, header, body, every fact area: :mod:`auditor.bundles`) and refused
  with 400 (not a JSON object) or 422 (not a valid bundle) and the reason, while the office can
  still send it again.
- A bundle is stored under a name made of its target, collection time and collector, in a folder
  per month (``DIR/2026-11/pc-101_20261101T234107Z_auditor-linux.json``), written whole or not
  at all, mode 0600; a target id or collector name that cannot be a file name as it is (``..``,
  ``/``, control characters) is refused, never rewritten into something else.
- A second bundle for the same target, time and collector is refused with 409, and the first
  file is left as it was (the answer says whether the two are identical: a retried post that
  had arrived). Two posts of it at the same moment cannot both be stored: the file is linked
  into place, which fails when the name exists.
- One log line per request (time, client address, method, path, status, target, stored file,
  size, SHA-256); never the token, a header or the body.
- TLS with the certificate and key given; without them it listens on this machine's loopback
  only (a test, or a TLS proxy in front of it), as the token and the evidence would otherwise
  cross the network in clear.
- SIGINT or SIGTERM stops it after the uploads in progress have been answered.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import socketserver
import ssl
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from auditor import __version__, bundles, jsonio
from auditor.clock import now_iso, parse_instant
from auditor.errors import InputError
from auditor.limits import MAX_FILE_BYTES
from auditor.upload import DEFAULT_MAX_BYTES, PATH, is_loopback

IDLE_SECONDS = 30.0  # a connection silent this long (TLS handshake, headers, body) is closed
# After a refusal, the unread body is read and dropped for this long at most, so that the client,
# which sends its whole body before it reads, gets the answer rather than a reset connection.
DRAIN_SECONDS = 10.0
MAX_NAME_CHARS = 128
UPLOAD_NAME = "(upload)"  # how a received body is named in the bundle checker's messages


class Refusal(Exception):
    """An answer other than 201: the status, the reason for the client, and more fields for the answer."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


@dataclass(frozen=True)
class Settings:
    directory: Path
    token: bytes = field(repr=False)
    max_bytes: int = DEFAULT_MAX_BYTES
    tls: ssl.SSLContext | None = None


def safe_part(text: str, what: str) -> str:
    """``text`` when it can stand in a file name as it is; Refusal 422 naming ``what`` otherwise.

    Kept as it is: letters and digits of any script (a Japanese organisation's name), '-', '_'
    and '.', not first (no '..', no hidden file). Anything else is refused rather than replaced,
    as two ids made one by a replacement would make one office's bundle refuse another's.
    """
    if (not text or len(text) > MAX_NAME_CHARS or text.startswith(".")
            or not all(c.isalnum() or c in "-_." for c in text)):
        raise Refusal(422, f"{what} {_printable(text)!r} cannot name a file at the collection point: use at most "
                      f"{MAX_NAME_CHARS} letters, digits, '-', '_' and '.' (not first); the bundle was not stored")
    return text


def stored_name(target_id: str, collected_at: str, collector: str) -> str:
    """The path, relative to the collection directory, a bundle is kept under: the month of its
    collection (in its own offset, as the office's calendar has it), then target, the instant in
    UTC (so that one instant written with two offsets is one name) and collector."""
    moment = parse_instant(collected_at)
    utc = moment.astimezone(UTC)
    stamp = utc.strftime("%Y%m%dT%H%M%S") + (f".{utc.microsecond:06d}" if utc.microsecond else "") + "Z"
    name = f"{safe_part(target_id, 'target.id')}_{stamp}_{safe_part(collector, 'collector.name')}.json"
    return f"{moment.strftime('%Y-%m')}/{name}"


def check_bundle(raw: bytes) -> tuple[bundles.Target, dict[str, Any]]:
    """The target a received body describes, checked as an audit checks a bundle file; Refusal otherwise."""
    try:
        data = jsonio.decode(raw)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        utf16 = " (this is UTF-16: post the file auditor collect or import wrote, unconverted)" \
            if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise Refusal(400, f"not UTF-8 text (line {line}): an evidence bundle is UTF-8 JSON{utf16}") from None
    except json.JSONDecodeError as exc:
        raise Refusal(400, f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except jsonio.Refused as exc:
        raise Refusal(400, exc.problem + (f" (line {exc.line})" if exc.line else "")) from None
    if not isinstance(data, dict):
        raise Refusal(400, f"expected a JSON object (auditor-evidence/1), got {type(data).__name__}")
    try:
        groups = bundles.from_document(UPLOAD_NAME, data, hashlib.sha256(raw).hexdigest())
    except InputError as exc:
        raise Refusal(422, f"not a valid evidence bundle: {exc.problem_text()}") from None
    target = bundles.load_target(*next(iter(groups.items())))
    problems = [target.problem] if target.problem else list(target.area_problems.values())
    if problems:
        problem = problems[0].removeprefix(f"{UPLOAD_NAME}: ")
        raise Refusal(422, f"not a valid evidence bundle: {problem}")
    return target, data


def receive(settings: Settings, raw: bytes) -> tuple[dict[str, Any], str]:
    """Check and store one body: the receipt and the target id; Refusal when it is not stored."""
    target, data = check_bundle(raw)
    relative = stored_name(target.id, data["collected_at"], data["collector"]["name"])
    digest = hashlib.sha256(raw).hexdigest()
    path = settings.directory / relative
    try:
        path.parent.mkdir(mode=0o700, exist_ok=True)
        written = write_new(raw, path)
    except OSError as exc:
        raise Refusal(500, f"the collection point could not store the bundle ({exc.strerror or exc}); "
                      "send it again later") from None
    if not written:
        try:
            with open(path, "rb") as stream:
                identical = hashlib.file_digest(stream, "sha256").hexdigest() == digest
        except OSError:
            identical = False
        if identical:
            raise Refusal(409, f"already received: {relative} holds these very bytes; nothing was changed",
                          stored=relative, sha256=digest, identical=True, target=target.id)
        raise Refusal(409, f"a bundle for target {target.id!r} collected at {data['collected_at']} by "
                      f"{data['collector']['name']} was received before ({relative}) and differs from this one; "
                      "it is kept as it was and this one was not stored", stored=relative, identical=False,
                      target=target.id)
    return {"stored": relative, "sha256": digest, "bytes": len(raw), "target": target.id,
            "collected_at": data["collected_at"], "message": f"stored as {relative}"}, target.id


def write_new(data: bytes, path: Path) -> bool:
    """Write ``data`` as a new file ``path``, whole and synced to disk, mode 0600; False (and
    ``path`` untouched) when it exists already, even when another request creates it at the same moment.

    The bytes go to a hidden temporary file beside it (not ``*.json``, so never read as evidence),
    which is then hard-linked to the name: a link fails when the name exists, where a rename
    would replace it.
    """
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        if hasattr(os, "O_DIRECTORY"):  # the new name itself survives a power cut
            folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
        return True
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


def _printable(text: str, limit: int = 200) -> str:
    """``text`` safe for one log line: what is not printable escaped, cut at ``limit`` characters."""
    shown = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text[:limit])
    return shown + ("…" if len(text) > limit else "")


class Handler(BaseHTTPRequestHandler):
    """One connection: one POST of one bundle to :data:`PATH`, then the connection is closed."""

    server: Server
    server_version = "auditor-collection-point"
    sys_version = ""
    timeout = IDLE_SECONDS

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        started = time.monotonic()
        self._body_read = False
        target = None
        try:
            if urllib.parse.urlsplit(self.path).path != PATH:
                raise Refusal(404, f"bundles are posted to {PATH}")
            self._authorise()
            raw = self._body(self._length())
            answer, target = receive(self.server.settings, raw)
            status = 201
        except Refusal as refusal:
            status = refusal.status
            answer = {"message": refusal.message, **refusal.extra}
            target = refusal.extra.get("target")
        detail = f"stored={answer['stored']} bytes={answer['bytes']} sha256={answer['sha256']}" if status == 201 \
            else f"reason={_printable(answer['message'])!r}"
        target_text = f"target={_printable(target)!r} " if target else ""
        # logged before the client hears the answer: an office holding a receipt has a line in the log
        self.server.log(f"{self.client_address[0]} POST {self._shown_path()} {status} {target_text}{detail} "
                        f"({time.monotonic() - started:.2f} s)")
        self._answer(status, answer)
        if not self._body_read:
            self._drain()

    def _refuse_method(self) -> None:
        self._body_read = False
        self.server.log(f"{self.client_address[0]} {_printable(self.command)} {self._shown_path()} 405")
        self._answer(405, {"message": f"only POST is accepted, at {PATH}"}, {"Allow": "POST"})
        self._drain()

    do_GET = do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse_method  # noqa: N815

    def _shown_path(self) -> str:
        return _printable(urllib.parse.urlsplit(self.path).path or "/", 100)  # never a query string

    def _authorise(self) -> None:
        given = self.headers.get_all("Authorization") or []
        scheme, _, token = given[0].partition(" ") if len(given) == 1 else ("", "", "")
        try:
            offered = token.strip().encode("ascii")
        except UnicodeEncodeError:
            offered = b""
        # compare_digest takes as long whatever the first differing byte: the time taken tells nothing.
        if not (scheme.lower() == "bearer" and hmac.compare_digest(offered, self.server.settings.token)):
            raise Refusal(401, "missing or wrong upload token (Authorization: Bearer ...)")

    def _length(self) -> int:
        if self.headers.get_all("Transfer-Encoding"):
            raise Refusal(411, "a body of known length is required (Content-Length); chunked transfer is not accepted")
        values = self.headers.get_all("Content-Length") or []
        if not values:
            raise Refusal(411, "Content-Length is required")
        if len(values) > 1 or not re.fullmatch(r"[0-9]{1,19}", values[0].strip()):
            raise Refusal(400, "Content-Length must be given once, as a number of bytes")
        length = int(values[0])
        limit = self.server.settings.max_bytes
        if length > limit:
            raise Refusal(413, f"{length:,} bytes is more than the {limit:,} bytes this collection point accepts "
                          "per bundle (auditor serve --max-bytes)")
        return length

    def _body(self, length: int) -> bytes:
        self._body_read = True
        try:
            raw = self.rfile.read(length)
        except TimeoutError:
            raise Refusal(408, f"the body did not arrive within {IDLE_SECONDS:.0f} s of silence") from None
        if len(raw) != length:
            raise Refusal(400, f"the body ended after {len(raw):,} of the {length:,} bytes announced")
        return raw

    def _answer(self, status: int, answer: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        body = json.dumps({"status": status, **answer}, ensure_ascii=False).encode("utf-8") + b"\n"
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.send_header("Cache-Control", "no-store")
            if status == 401:
                self.send_header("WWW-Authenticate", 'Bearer realm="auditor"')
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            pass  # the client has gone: its line is logged all the same
        self.close_connection = True

    def _drain(self) -> None:
        """Read and drop what the client still sends, for a while, so that it reads the answer
        instead of a reset connection (a client sends its whole body before it reads)."""
        deadline = time.monotonic() + DRAIN_SECONDS
        announced = (self.headers.get("Content-Length") or "").strip()
        left = int(announced) if announced.isdigit() and len(announced) < 20 else 1 << 62  # chunked: until the end
        try:
            while left > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.connection.settimeout(remaining)
                chunk = self.rfile.read1(min(left, 256 * 1024)) if hasattr(self.rfile, "read1") else b""
                if not chunk:
                    break
                left -= len(chunk)
        except (OSError, ValueError):
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        """http.server's own lines (a malformed request line, say), escaped, without the default request log."""
        self.server.log(f"{self.client_address[0]} {_printable(format % args)}")

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Requests are logged by do_POST with their target, not by http.server's default line."""


class Server(ThreadingHTTPServer):
    """The HTTP(S) server; TLS handshakes happen in each connection's thread, with a time limit,
    so a client that never completes one holds only its own connection."""

    daemon_threads = False  # shutting down waits for the uploads in progress
    block_on_close = True

    def __init__(self, address: tuple[str, int], settings: Settings, log: Callable[[str], None],
                 handler: type[Handler] | None = None) -> None:
        self.settings = settings
        self._log_lock = threading.Lock()
        self._log = log
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, handler or Handler)

    def server_bind(self) -> None:
        """Bind without http.server's reverse lookup of the address (a DNS query that may hang)."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def log(self, line: str) -> None:
        with self._log_lock:
            self._log(f"{now_iso()} {line}")

    def finish_request(self, request: Any, client_address: Any) -> None:
        tls = self.settings.tls
        if tls is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(IDLE_SECONDS)
        try:
            wrapped = tls.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError) as exc:
            self.log(f"{client_address[0]} TLS handshake failed: {_printable(str(exc))}")
            return
        try:
            super().finish_request(wrapped, client_address)
        finally:
            with contextlib.suppress(OSError):
                wrapped.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """An unexpected failure in one request: one line, no traceback with request data."""
        self.log(f"{client_address[0]} request failed: {_printable(repr(sys.exc_info()[1]))}")


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    """A server TLS context (TLS 1.2 or newer) with the certificate chain and key given; InputError
    naming the file when one cannot be used (an encrypted key is refused, never prompted for)."""
    for path in (cert, key):
        if not os.path.isfile(path):
            raise InputError(path, "no such file (--cert and --key name PEM files)")

    def no_passphrase() -> str:
        raise InputError(key, "the key is encrypted with a passphrase: give an unencrypted key readable only by "
                         "the server's account (chmod 600), as a service cannot type a passphrase")

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key, password=no_passphrase)
    except ssl.SSLError as exc:
        raise InputError(f"{cert}, {key}", f"cannot be used as the server's certificate and key: "
                         f"{exc.reason or exc}") from None
    return context


def settings_of(directory: str, token: str, max_bytes: int, cert: str | None, key: str | None,
                bind: str) -> Settings:
    """Checked settings: the directory is created (mode 0700) and proved writable, TLS is set up,
    and a server without TLS is refused unless it listens on loopback only."""
    if (cert is None) != (key is None):
        raise InputError("--cert" if cert is None else "--key", "give both --cert FILE and --key FILE for TLS")
    if cert is None and not is_loopback(bind):
        raise InputError(f"--bind {bind}", "without TLS the token and the evidence would cross the network in clear: "
                         "give --cert FILE --key FILE, or listen on 127.0.0.1 behind a TLS proxy on this host")
    if not 1 <= max_bytes <= MAX_FILE_BYTES["bundle"]:
        raise InputError("--max-bytes", f"expected 1 to {MAX_FILE_BYTES['bundle']:,} bytes (the bundle limit)")
    folder = Path(directory)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(directory, f"cannot create the collection directory: {exc.strerror or exc}") from None
    if not folder.is_dir():
        raise InputError(directory, "not a directory (--dir names the folder bundles are stored in)")
    probe = folder / f".auditor-serve-probe-{os.getpid()}"
    try:
        write_new(b"", probe)
        probe.unlink()
    except OSError as exc:
        raise InputError(directory, f"cannot store bundles here (a file is written, then hard-linked into place): "
                         f"{exc.strerror or exc}") from None
    return Settings(directory=folder, token=token.encode("ascii"), max_bytes=max_bytes,
                    tls=tls_context(cert, key) if cert is not None and key is not None else None)


def serve(server: Server, stop: threading.Event | None = None) -> None:
    """Serve until SIGINT or SIGTERM (or ``stop``), then finish the requests in progress and close."""
    stop = stop or threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for number in (signal.SIGINT, signal.SIGTERM):
            previous[number] = signal.signal(number, lambda signum, frame: stop.set())
    loop = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="auditor-serve")
    loop.start()
    try:
        while not stop.wait(0.5):
            if not loop.is_alive():
                break
    finally:
        server.log("stopping: finishing the uploads in progress")
        server.shutdown()
        loop.join()
        server.server_close()
        for number, handler in previous.items():
            signal.signal(number, handler)
        server.log("stopped")


def banner(server: Server) -> str:
    """The line saying where bundles are received, with the port actually bound (``--port 0``)."""
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in host else host
    scheme = "https" if server.settings.tls is not None else "http"
    return (f"auditor {__version__} serve: receiving bundles at {scheme}://{shown}:{port}{PATH} into "
            f"{server.settings.directory} (at most {server.settings.max_bytes:,} bytes each); SIGINT or SIGTERM stops")
