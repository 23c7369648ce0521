"""Upload to a collection point (#18 item 4): ``auditor collect --upload`` / ``auditor upload`` and
``auditor serve``, over TLS with a certificate the test makes, on 127.0.0.1 only.

Acceptance: a bundle posted arrives byte-identical; a wrong token gets 401 and nothing is written;
an oversized body is refused; the token never appears in logs, the process list or the bundle.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from auditor import collection_point as cp
from auditor.cli import main
from auditor.upload import TOKEN_ENV
from tests.support import make_bundle

TOKEN = secrets.token_hex(24)  # random per run, so that finding it anywhere is no coincidence
AUDITOR = [sys.executable, "-m", "auditor"]
FLEET = Path(__file__).parent.parent / "examples" / "fleet"
MAX_BYTES = 1 << 20


def _env(token: str | None = TOKEN) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
    if token is not None:
        env[TOKEN_ENV] = token
    return env


# -- a certificate, and a collection point started by the test ------------------------------------------------


@pytest.fixture(scope="session")
def openssl() -> str:
    """The openssl command, to make the server's certificate; installed with apt-get in CI (as root)."""
    found = shutil.which("openssl")
    in_ci = os.environ.get("CI") == "true"
    if found is None and in_ci and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], check=False, env=env, capture_output=True, timeout=900)
        subprocess.run(["apt-get", "install", "-y", "-q", "openssl"], check=False, env=env, capture_output=True,
                       timeout=900)
        found = shutil.which("openssl")
    if found is None:
        if in_ci:
            pytest.fail("openssl is not installed and apt-get install -y openssl did not install it")
        pytest.skip("the openssl command is not installed (apt-get install openssl)")
    return found


@pytest.fixture(scope="module")
def tls(openssl: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 and its key, made as the README tells an administrator."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], check=True, capture_output=True)
    return str(cert), str(key)


class Serving:
    """``auditor serve`` in its own process on 127.0.0.1, a free port, its log in a file."""

    def __init__(self, directory: Path, tls: tuple[str, str], *extra: str, env: dict[str, str] | None = None):
        self.directory = directory
        self.log = directory.parent / f"{directory.name}.log"
        self.cert = tls[0]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([*AUDITOR, "serve", "--dir", str(directory), "--port", "0", "--cert", tls[0],
                                          "--key", tls[1], *extra], env=env or _env(), stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = re.search(r"at (https://127\.0\.0\.1:\d+/bundles) into", self.text())
            if found:
                self.url = found.group(1)
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.proc.kill()
        raise AssertionError(f"auditor serve did not start:\n{self.text()}")

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()

    def post(self, body: bytes, token: str | None = TOKEN, path: str = "/bundles", **kw) -> requests.Response:
        headers = {"Content-Type": "application/json", **kw.pop("headers", {})}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return requests.post(self.url.replace("/bundles", path), data=body, headers=headers, verify=self.cert,
                             timeout=30, **kw)


@pytest.fixture(scope="module")
def point(tmp_path_factory: pytest.TempPathFactory, tls: tuple[str, str]):
    serving = Serving(tmp_path_factory.mktemp("point") / "received", tls, "--max-bytes", str(MAX_BYTES))
    yield serving
    assert serving.stop() == 0
    log = serving.text()
    assert TOKEN not in log
    assert log.rstrip().endswith("stopped")


def _files(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too), with its SHA-256."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _bundle_bytes(target: str, **changes) -> bytes:
    return json.dumps(make_bundle(target__id=target, **changes), ensure_ascii=False, indent=2).encode("utf-8")


def _tokens_in_process_list() -> list[str]:
    """The command lines of every process this user can see that hold the token."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if TOKEN.encode() in cmdline:
                found.append(cmdline.replace(b"\0", b" ").decode("utf-8", "replace"))
    return found


# -- acceptance ------------------------------------------------------------------------------------------------


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="collects this Linux host; reads /proc")
def test_collect_upload_arrives_byte_identical_and_the_token_is_nowhere(point: Serving, tmp_path: Path) -> None:
    out = tmp_path / "host.json"
    proc = subprocess.Popen([*AUDITOR, "collect", "--upload", point.url, "--ca-bundle", point.cert, "--out", str(out)],
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    own = b""
    while not own and proc.poll() is None:  # empty until the new program is running
        own = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
    assert b"collect\0--upload\0" in own and TOKEN.encode() not in own
    seen = []
    while proc.poll() is None:  # every process, while the client runs: the server's and the client's own
        seen += _tokens_in_process_list()
        time.sleep(0.05)
    stdout, stderr = proc.communicate()
    assert (proc.returncode, stderr) == (0, b"")
    assert seen == []
    receipt = re.fullmatch(rb"(.+): stored as (\S+) at (\S+) \(SHA-256 ([0-9a-f]{64})\)\n", stdout)
    assert receipt, stdout
    sent = out.read_bytes()
    stored = point.directory / receipt.group(2).decode()
    assert stored.read_bytes() == sent  # byte-identical with what --out wrote
    assert receipt.group(4).decode() == hashlib.sha256(sent).hexdigest()
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(point.directory.stat().st_mode) == 0o700
    doc = json.loads(sent)
    month = doc["collected_at"][:7]
    assert stored.parent.name == month and stored.name.startswith(f"{doc['target']['id']}_")
    assert TOKEN.encode() not in sent and TOKEN.encode() not in stdout + stderr
    assert TOKEN not in point.text()
    assert re.search(rf"127\.0\.0\.1 POST /bundles 201 target='{re.escape(doc['target']['id'])}' "
                     rf"stored={re.escape(receipt.group(2).decode())} bytes={len(sent)} ", point.text())


def test_a_file_is_stored_as_it_is_byte_for_byte(point: Serving, tmp_path: Path) -> None:
    """A bundle as a Windows editor saves it (UTF-8 with a BOM, CRLF) is valid, and kept unchanged."""
    raw = b"\xef\xbb\xbf" + _bundle_bytes("pc-bom-01").replace(b"\n", b"\r\n")
    path = tmp_path / "pc-bom-01.json"
    path.write_bytes(raw)
    done = subprocess.run([*AUDITOR, "upload", str(path), "--url", point.url, "--ca-bundle", point.cert], env=_env(),
                          capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (0, "")
    name = "2026-11/pc-bom-01_20261101T234107Z_test.json"  # its own month; the instant in UTC
    assert f"{path}: stored as {name} at {point.url} (SHA-256 {hashlib.sha256(raw).hexdigest()})" in done.stdout
    assert (point.directory / name).read_bytes() == raw


def test_a_wrong_token_gets_401_and_nothing_is_written(point: Serving, tmp_path: Path) -> None:
    before = _files(point.directory)
    body = _bundle_bytes("pc-401-01")
    wrong = TOKEN[:-1] + ("0" if TOKEN[-1] != "0" else "1")  # one character off
    for headers in ({"Authorization": f"Bearer {wrong}"}, {}, {"Authorization": f"Bearer {TOKEN}x"},
                    {"Authorization": f"Basic {TOKEN}"}, {"Authorization": "Bearer"},
                    {"Authorization": "Bearer ｔｏｋｅｎ".encode()}):
        answer = point.post(body, token=None, headers=headers)
        assert answer.status_code == 401, headers
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        assert "upload token" in answer.json()["message"]
    path = tmp_path / "pc-401-01.json"
    path.write_bytes(body)
    done = subprocess.run([*AUDITOR, "upload", str(path), "--url", point.url, "--ca-bundle", point.cert],
                          env=_env("wrong-token-" + "x" * 20), capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr == (f"auditor: {path}: refused by {point.url} (401 Unauthorized): missing or wrong upload "
                           "token (Authorization: Bearer ...)\n")
    assert _files(point.directory) == before
    assert point.text().count("POST /bundles 401") >= 7


def test_an_oversized_body_is_refused_before_it_is_read(point: Serving, tmp_path: Path) -> None:
    before = _files(point.directory)
    bundle = make_bundle(target__id="pc-big-01")
    bundle["facts"]["accounts"] = [{"name": f"user{i:07d}", "password_empty": False} for i in range(30_000)]
    raw = json.dumps(bundle).encode()
    assert len(raw) > MAX_BYTES
    answer = point.post(raw)
    assert answer.status_code == 413
    assert f"{len(raw):,} bytes is more than the {MAX_BYTES:,} bytes" in answer.json()["message"]
    path = tmp_path / "pc-big-01.json"
    path.write_bytes(raw)
    done = subprocess.run([*AUDITOR, "upload", str(path), "--url", point.url, "--ca-bundle", point.cert], env=_env(),
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "(413 Request Entity Too Large)" in done.stderr and "--max-bytes" in done.stderr
    assert _files(point.directory) == before


def test_a_second_upload_of_a_target_and_time_is_refused_and_the_first_kept(point: Serving, tmp_path: Path) -> None:
    first = tmp_path / "first.json"
    first.write_bytes(_bundle_bytes("pc-dup-01"))
    other = tmp_path / "other.json"  # the same target and instant, written in UTC, with other facts
    other.write_bytes(_bundle_bytes("pc-dup-01", collected_at="2026-11-01T23:41:07Z",
                                    facts={"password_policy": {"min_length": 14}}))

    def upload(path: Path) -> subprocess.CompletedProcess:
        return subprocess.run([*AUDITOR, "upload", str(path), "--url", point.url, "--ca-bundle", point.cert],
                              env=_env(), capture_output=True, text=True)

    assert upload(first).returncode == 0
    stored = point.directory / "2026-11" / "pc-dup-01_20261101T234107Z_test.json"
    kept = (stored.read_bytes(), stored.stat().st_mtime_ns, stored.stat().st_ino)
    refused = upload(other)
    assert refused.returncode == 2
    assert "(409 Conflict): a bundle for target 'pc-dup-01' collected at 2026-11-01T23:41:07Z" in refused.stderr
    assert "it is kept as it was and this one was not stored" in refused.stderr
    assert (stored.read_bytes(), stored.stat().st_mtime_ns, stored.stat().st_ino) == kept
    assert kept[0] == first.read_bytes()
    again = upload(first)  # the very bytes again (a rerun after a lost answer): arrived, nothing rewritten
    assert (again.returncode, again.stderr) == (0, "")
    assert "already received (identical), kept as 2026-11/pc-dup-01_20261101T234107Z_test.json" in again.stdout
    assert (stored.read_bytes(), stored.stat().st_mtime_ns, stored.stat().st_ino) == kept
    assert sorted(p.name for p in stored.parent.iterdir() if p.name.startswith(".")) == []  # no temporary file left


def test_simultaneous_posts_of_one_bundle_store_it_once(point: Serving) -> None:
    body = _bundle_bytes("pc-race-01")
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: point.post(body), range(8)))
    assert sorted(a.status_code for a in answers) == [201] + [409] * 7
    assert all(a.json()["identical"] for a in answers if a.status_code == 409)
    assert (point.directory / "2026-11" / "pc-race-01_20261101T234107Z_test.json").read_bytes() == body


# -- hostile input ---------------------------------------------------------------------------------------------


def _hostile(target: str, **changes) -> bytes:
    return json.dumps(make_bundle(target__id=target, **changes)).encode()


HOSTILE = {
    "not JSON": (b"{\"format\": \"auditor-evidence/1\", ", 400, "not valid JSON"),
    "UTF-16": (json.dumps(make_bundle(target__id="pc-utf16")).encode("utf-16"), 400, "this is UTF-16"),
    "CP932": (json.dumps(make_bundle(target__id="総務課-01"), ensure_ascii=False).encode("cp932"), 400,
              "not UTF-8 text (line 1)"),
    "a JSON array": (b"[1, 2]", 400, "expected a JSON object"),
    "empty": (b"", 400, "not valid JSON"),
    "a key twice": (b'{"format": "auditor-evidence/1", "format": "x"}', 400, "duplicate key 'format'"),
    "too deep": (b"[" * 200 + b"]" * 200, 400, "nested more than 100 levels"),
    "path traversal": (_hostile("../../etc"), 422, "target.id '../../etc' cannot name a file"),
    "a slash": (_hostile("pc/01"), 422, "target.id 'pc/01' cannot name a file"),
    "a backslash": (_hostile("..\\..\\pc"), 422, "cannot name a file"),
    "dot-dot": (_hostile(".."), 422, "target.id '..' cannot name a file"),
    "hidden": (_hostile(".pc"), 422, "cannot name a file"),
    "a line break": (_hostile("pc\n01 GET / 201"), 422, "target.id 'pc\\\\n01 GET / 201' cannot name a file"),
    "NUL": (_hostile("pc\u000001"), 422, "cannot name a file"),
    "too long": (_hostile("p" * 129), 422, "at most 128 letters"),
    "collector": (_hostile("pc-col-01", collector={"name": "../x", "version": "0", "host": None}), 422,
                  "collector.name '../x' cannot name a file"),
    "wrong format": (_hostile("pc-fmt-01", format="auditor-evidence/2"), 422, "format: expected 'auditor-evidence/1'"),
    "no time": (json.dumps({k: v for k, v in make_bundle(target__id="pc-t-01").items() if k != "collected_at"})
                .encode(), 422, "collected_at"),
    "no offset": (_hostile("pc-off-01", collected_at="2026-11-02T08:41:07"), 422, "collected_at"),
    "facts not an object": (_hostile("pc-facts-01", facts=[]), 422, "facts"),
    "a bad fact area": (_hostile("pc-area-01", facts={"password_policy": {"min_length": "eight"}}), 422,
                        "facts.password_policy.min_length"),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_bodies_are_refused_cleanly(point: Serving, case: str) -> None:
    body, status, message = HOSTILE[case]
    outside = point.directory.parent
    before, around = _files(point.directory), sorted(p.name for p in outside.iterdir())
    answer = point.post(body)
    assert answer.status_code == status, answer.text
    assert message in answer.json()["message"]
    assert _files(point.directory) == before
    assert sorted(p.name for p in outside.iterdir()) == around
    lines = point.text().splitlines()
    assert all(re.match(r"\d{4}-\d\d-\d\dT|auditor ", line) for line in lines)  # hostile text cannot forge a line
    assert f"POST /bundles {status}" in lines[-1]


@contextlib.contextmanager
def _in_a_thread(folder: Path, tls: tuple[str, str] | None = None, max_bytes: int = MAX_BYTES,
                 handler: type[cp.Handler] | None = None):
    """A collection point served by a thread of this process: the server, its URL and its log lines."""
    lines: list[str] = []
    settings = cp.settings_of(str(folder), TOKEN, max_bytes, *(tls or (None, None)), "127.0.0.1")
    server = cp.Server(("127.0.0.1", 0), settings, lines.append, handler=handler)
    stop = threading.Event()
    thread = threading.Thread(target=cp.serve, args=(server, stop))
    thread.start()
    try:
        yield server, f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}/bundles", lines
    finally:
        stop.set()
        thread.join(30)
    assert lines[-1].endswith("stopped") and not any(TOKEN in line for line in lines)


@pytest.fixture
def plain(tmp_path: Path):
    """A collection point without TLS, as it may run on loopback behind a TLS proxy."""
    with _in_a_thread(tmp_path / "received") as (server, _, lines):
        yield server, lines


def _raw_request(port: int, head: bytes, body: bytes = b"", end: bool = False) -> tuple[int, dict]:
    """A hand-written request, for what requests will not send; ``end``: the client stops sending."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(head + body)
        if end:
            conn.shutdown(socket.SHUT_WR)
        response = http.client.HTTPResponse(conn)
        response.begin()
        return response.status, json.loads(response.read() or b"{}")


def test_protocol_refusals(plain) -> None:
    server, lines = plain
    port = server.server_address[1]
    url = f"http://127.0.0.1:{port}/bundles"
    auth = f"Authorization: Bearer {TOKEN}\r\n".encode()
    body = _bundle_bytes("pc-proto-01")
    status, answer = _raw_request(port, b"POST /bundles HTTP/1.1\r\nHost: x\r\n" + auth + b"\r\n")
    assert (status, answer["message"]) == (411, "Content-Length is required")

    def chunks():
        yield body[:100]
        yield body[100:]

    answer = requests.post(url, data=chunks(), headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert answer.status_code == 411 and "chunked transfer is not accepted" in answer.json()["message"]
    status, answer = _raw_request(port, b"POST /bundles HTTP/1.1\r\nHost: x\r\n" + auth +
                                  b"Content-Length: 5\r\nContent-Length: 5\r\n\r\n", b"{}{}{")
    assert status == 400 and "given once" in answer["message"]
    status, answer = _raw_request(port, b"POST /bundles HTTP/1.1\r\nHost: x\r\n" + auth +
                                  f"Content-Length: {len(body) + 1000}\r\n\r\n".encode(), body, end=True)
    assert status == 400
    assert f"the body ended after {len(body):,} of the {len(body) + 1000:,} bytes" in answer["message"]
    assert requests.post(url.replace("/bundles", "/elsewhere"), data=body, timeout=30).status_code == 404
    got = requests.get(url, timeout=30)
    assert (got.status_code, got.headers["Allow"]) == (405, "POST")
    assert _files(server.settings.directory) == {}
    stored = requests.post(f"{url}?token={TOKEN[:8]}", data=body, headers={"Authorization": f"Bearer {TOKEN}"},
                           timeout=30)
    assert stored.status_code == 201  # and the query string is not logged
    assert not any(TOKEN[:8] in line for line in lines)
    assert [line.split(" ", 5)[2:5] for line in lines[-7:]] == [
        ["POST", "/bundles", "411"], ["POST", "/bundles", "411"], ["POST", "/bundles", "400"],
        ["POST", "/bundles", "400"], ["POST", "/elsewhere", "404"], ["GET", "/bundles", "405"],
        ["POST", "/bundles", "201"]]


def test_a_broken_tls_handshake_holds_only_its_own_connection(point: Serving) -> None:
    port = int(point.url.rsplit(":", 1)[1].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=30):  # connects, never says hello
        assert point.post(_bundle_bytes("pc-tls-01")).status_code == 201
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(b"POST /bundles HTTP/1.0\r\n\r\n")  # plain HTTP to the TLS port
        with contextlib.suppress(ConnectionResetError):
            conn.recv(100)
    deadline = time.monotonic() + 10
    while "TLS handshake failed" not in point.text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "TLS handshake failed" in point.text()


# -- the client: retries, refusals before any work ----------------------------------------------------------


class _Recording(cp.Handler):
    """The collection point's own handler, behind a plan of answers given first (503s, say)."""

    plan: list[tuple[int, str | None] | tuple[int, str | None, bytes]] = []
    posts: list[int] = []

    def do_POST(self) -> None:  # noqa: N802
        type(self).posts.append(int(self.headers.get("Content-Length", "0")))
        if not type(self).plan:
            super().do_POST()
            return
        status, retry_after, *body = type(self).plan.pop(0)
        answer = body[0] if body else b""
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(status)
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


@pytest.fixture
def in_process(tmp_path: Path, tls: tuple[str, str]):
    """A collection point over TLS with the recording handler."""
    _Recording.plan, _Recording.posts = [], []
    with _in_a_thread(tmp_path / "received", tls, handler=_Recording) as serving:
        yield serving


def test_the_client_retries_after_503_with_back_off(in_process, tls, tmp_path: Path, monkeypatch, capsys) -> None:
    server, url, lines = in_process
    path = tmp_path / "pc-503-01.json"
    path.write_bytes(_bundle_bytes("pc-503-01"))
    _Recording.plan = [(503, None), (503, "1")]
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    started = time.monotonic()
    assert main(["upload", str(path), "--url", url, "--ca-bundle", tls[0]]) == 0
    took = time.monotonic() - started
    out = capsys.readouterr().out
    assert _Recording.posts == [path.stat().st_size] * 3
    assert took >= 1.0  # the second retry waited as Retry-After said
    assert "stored as 2026-11/pc-503-01_20261101T234107Z_test.json" in out and "after 3 attempts" in out
    assert (server.settings.directory / "2026-11" / "pc-503-01_20261101T234107Z_test.json").read_bytes() == \
        path.read_bytes()


def test_the_client_gives_up_and_says_so(in_process, tls, tmp_path: Path, monkeypatch, capsys) -> None:
    server, url, _ = in_process
    files = [tmp_path / f"pc-down-0{i}.json" for i in range(3)]
    for path in files:
        path.write_bytes(_bundle_bytes(path.stem))
    _Recording.plan = [(503, "0")] * 3
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    assert main(["upload", *map(str, files), "--url", url, "--ca-bundle", tls[0], "--retries", "2"]) == 2
    err = capsys.readouterr().err
    assert f"auditor: {url}: 503 Service Unavailable after 3 attempts" in err
    assert f"{files[0]} was not stored" in err and f"auditor: {files[1]}, {files[2]}: not sent" in err
    assert len(_Recording.posts) == 3  # the other files were not sent into a collection point that is down
    assert _files(server.settings.directory) == {}


def test_a_refusal_is_not_retried(in_process, tls, tmp_path: Path, monkeypatch, capsys) -> None:
    _, url, _ = in_process
    path = tmp_path / "pc-once-01.json"
    path.write_bytes(_hostile("../pc"))
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    assert main(["upload", str(path), "--url", url, "--ca-bundle", tls[0]]) == 2
    assert "(422 Unprocessable Entity): target.id '../pc' cannot name a file" in capsys.readouterr().err
    monkeypatch.setenv(TOKEN_ENV, "not-the-token-at-all")
    assert main(["upload", str(path), "--url", url, "--ca-bundle", tls[0]]) == 2
    assert len(_Recording.posts) == 2


def test_what_a_server_answers_is_not_taken_on_trust(in_process, tls, tmp_path: Path, monkeypatch, capsys) -> None:
    """A receipt for other bytes is an error; a message is shown without its terminal escape sequences."""
    _, url, _ = in_process
    path = tmp_path / "pc-trust-01.json"
    path.write_bytes(_bundle_bytes("pc-trust-01"))
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    _Recording.plan = [(201, None, json.dumps({"stored": "x.json", "sha256": "0" * 64}).encode()),
                       (422, None, json.dumps({"message": "\x1b[2J\x1b]0;owned\x07bad"}).encode()),
                       (500, None, b"<html><body>\n  Internal \x1b[31m error</body></html>")]
    for _ in range(3):
        assert main(["upload", str(path), "--url", url, "--ca-bundle", tls[0], "--retries", "0"]) == 2
    err = capsys.readouterr().err
    assert f"{url} answered 201 without a receipt for these bytes (SHA-256 " \
           f"{hashlib.sha256(path.read_bytes()).hexdigest()})" in err
    assert "(422 Unprocessable Entity): ?[2J?]0;owned?bad\n" in err
    assert "(500 Internal Server Error): <html><body> Internal ?[31m error</body></html>\n" in err
    assert "\x1b" not in err and "\x07" not in err


def test_an_unreachable_collection_point(tmp_path: Path, monkeypatch, capsys) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = tmp_path / "pc.json"
    path.write_bytes(_bundle_bytes("pc-unreach-01"))
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    assert main(["upload", str(path), "--url", f"http://127.0.0.1:{port}/bundles", "--retries", "1"]) == 2
    err = capsys.readouterr().err
    assert f"auditor: http://127.0.0.1:{port}/bundles: cannot reach the collection point after 2 attempts " \
           f"(Connection refused); {path} was not sent" in err


def test_an_untrusted_certificate_is_refused(point: Serving, tmp_path: Path) -> None:
    path = tmp_path / "pc.json"
    path.write_bytes(_bundle_bytes("pc-untrusted-01"))
    env = {k: v for k, v in _env().items() if k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")}
    done = subprocess.run([*AUDITOR, "upload", str(path), "--url", point.url], env=env, capture_output=True, text=True)
    assert done.returncode == 2
    assert "TLS failed (certificate verify failed: self-signed certificate)" in done.stderr
    assert "--ca-bundle FILE" in done.stderr


@pytest.mark.parametrize(("argv", "env_token", "message"), [
    (["--upload", "http://192.0.2.1/bundles"], TOKEN, "http://192.0.2.1/bundles: plain http:// would send the token"),
    (["--upload", "ftp://127.0.0.1/bundles"], TOKEN, "expected an https:// URL"),
    (["--upload", "https://office:s3cret-pass@127.0.0.1/bundles"], TOKEN, "the URL holds a user or password"),
    (["--upload", "https://127.0.0.1:99999/bundles"], TOKEN, "not a URL"),
    (["--upload", "https://127.0.0.1/bundles"], None, f"${TOKEN_ENV}: no upload token"),
    (["--upload", "https://127.0.0.1/bundles"], "has a space in it", "one word of printable ASCII"),
    (["--upload", "https://127.0.0.1/bundles", "--ca-bundle", "/nonexistent/ca.pem"], TOKEN, "/nonexistent/ca.pem"),
    (["--upload", "https://127.0.0.1/bundles", "--token", "s3cret-on-the-command-line"], None,
     "--token: a token is never given on the command line"),
])
def test_collect_refuses_before_collecting(argv, env_token, message, tmp_path: Path) -> None:
    out = tmp_path / "host.json"
    done = subprocess.run([*AUDITOR, "collect", *argv, "--out", str(out)], env=_env(env_token), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert message in done.stderr and done.stderr.startswith("auditor: ")
    assert "s3cret" not in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()  # nothing was collected


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="collects this Linux host")
def test_collect_upload_to_loopback_without_out(tmp_path: Path, monkeypatch, capsys) -> None:
    """Plain HTTP to this machine (a TLS proxy in front): the receipt is all that is written out."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with _in_a_thread(tmp_path / "received") as (server, url, lines):
        assert main(["collect", "--upload", url, "--target", "pc-loop-01"]) == 0
    out = capsys.readouterr().out
    found = re.fullmatch(r"\(the collected bundle\): stored as (\S+) at (\S+) \(SHA-256 ([0-9a-f]{64})\)\n", out)
    assert found and found.group(2) == url
    stored = server.settings.directory / found.group(1)
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == found.group(3)
    assert json.loads(stored.read_bytes())["target"]["id"] == "pc-loop-01"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="collects this Linux host")
def test_collect_keeps_the_bundle_when_the_upload_is_refused(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    out = tmp_path / "host.json"
    with _in_a_thread(tmp_path / "received", max_bytes=1000) as (server, url, _):
        assert main(["collect", "--upload", url, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"auditor: {out}: refused by {url} (413 Request Entity Too Large): {out.stat().st_size:,} bytes is more " \
           "than the 1,000 bytes" in err
    assert err.rstrip().endswith(f"; the bundle is kept in {out}: send it later with auditor upload {out} --url {url}")
    assert json.loads(out.read_bytes())["format"] == "auditor-evidence/1"
    assert _files(server.settings.directory) == {}


def test_a_token_file_readable_by_others_is_refused(tmp_path: Path, monkeypatch, capsys) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o644)
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert main(["upload", str(token_file), "--url", "https://127.0.0.1/bundles", "--token-file", str(token_file)]) == 2
    err = capsys.readouterr().err
    assert f"{token_file}: others may read or change it (mode -rw-r--r--): make it readable by its owner only" in err
    assert TOKEN not in err


# -- the server's own refusals, and a whole session ------------------------------------------------------------


@pytest.mark.parametrize(("argv", "token", "message"), [
    (["--bind", "0.0.0.0"], TOKEN, "--bind 0.0.0.0: without TLS the token and the evidence would cross the network"),
    ([], "short-token", "the token is 11 characters long; use at least 16"),
    ([], None, f"${TOKEN_ENV}: no upload token"),
    (["--cert", "{cert}"], TOKEN, "--key: give both --cert FILE and --key FILE"),
    (["--cert", "{key}", "--key", "{key}"], TOKEN, "cannot be used as the server's certificate and key"),
    (["--max-bytes", "0"], TOKEN, "expected a number of bytes"),
    (["--token", "s3cret-on-the-command-line"], None, "a token is never given on the command line"),
    (["--tok", "s3cret-on-the-command-line"], None, "unrecognized arguments"),
])
def test_serve_refuses_a_bad_set_up(argv, token, message, tls, tmp_path: Path, monkeypatch, capsys) -> None:
    if token is None:
        monkeypatch.delenv(TOKEN_ENV, raising=False)
    else:
        monkeypatch.setenv(TOKEN_ENV, token)
    argv = [a.format(cert=tls[0], key=tls[1]) for a in argv]
    try:
        code = main(["serve", "--dir", str(tmp_path / "d"), "--port", "0", *argv])
    except SystemExit as exc:
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "s3cret" not in err or "unrecognized" in err  # argparse's own message for an unknown option


def test_an_encrypted_key_is_refused_not_prompted_for(openssl, tls, tmp_path: Path, monkeypatch, capsys) -> None:
    key = tmp_path / "encrypted.pem"
    subprocess.run([openssl, "pkey", "-in", tls[1], "-out", str(key), "-aes256", "-passout", "pass:secret"],
                   check=True, capture_output=True)
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    assert main(["serve", "--dir", str(tmp_path / "d"), "--port", "0", "--cert", tls[0], "--key", str(key)]) == 2
    assert "the key is encrypted with a passphrase" in capsys.readouterr().err


def test_a_session_from_start_to_stop(tls, tmp_path: Path) -> None:
    """A token from a file, uploads good and bad, SIGTERM: the server stops cleanly, and the token is in
    none of its log, the clients' output, the stored bundles or any process's command line."""
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    received = tmp_path / "received"
    serving = Serving(received, tls, "--token-file", str(token_file), "--max-bytes", str(MAX_BYTES), env=_env(None))
    try:
        assert _tokens_in_process_list() == []
        good = tmp_path / "pc-session-01.json"
        good.write_bytes(_bundle_bytes("pc-session-01"))
        outputs = []
        for token in (TOKEN, "wrong-" + TOKEN[6:]):
            done = subprocess.run([*AUDITOR, "upload", str(good), str(FLEET / "lg-fs-01.json"), "--url", serving.url,
                                   "--ca-bundle", serving.cert], env=_env(token), capture_output=True, text=True)
            outputs.append(done.stdout + done.stderr)
        assert serving.post(b"x" * (MAX_BYTES + 1)).status_code == 413
    finally:
        code = serving.stop()
    assert code == 0
    log = serving.text()
    lines = log.splitlines()
    assert lines[-2].endswith(" stopping: finishing the uploads in progress") and lines[-1].endswith(" stopped")
    assert log.count(" 201 ") == 2 and log.count(" 401 ") == 2 and log.count(" 413 ") == 1
    assert TOKEN not in log and not any(TOKEN in text for text in outputs)
    stored = sorted(received.rglob("*.json"))
    assert len(stored) == 2 and not any(TOKEN.encode() in p.read_bytes() for p in stored)
    assert sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in stored) == sorted(
        hashlib.sha256(p.read_bytes()).hexdigest() for p in (good, FLEET / "lg-fs-01.json"))


def test_the_uploaded_fleet_audits_as_the_fleet(tls, tmp_path: Path) -> None:
    """Every bundle of the example city posted: the broken one refused, the rest stored where ``auditor audit``
    reads them, with the same results as the files themselves."""
    directory = tmp_path / "collected"
    serving = Serving(directory, tls)
    try:
        done = subprocess.run([*AUDITOR, "upload", str(FLEET), "--url", serving.url, "--ca-bundle", serving.cert],
                              env=_env(), capture_output=True, text=True)
    finally:
        assert serving.stop() == 0
    fleet = sorted(FLEET.rglob("*.json"))
    broken = [p for p in fleet if p.name.startswith("broken-")]
    assert done.returncode == 2
    assert [line.split(": ")[0] for line in done.stderr.splitlines()] == ["auditor"] * len(broken)
    assert all(f"auditor: {p}: refused by {serving.url} (422 Unprocessable Entity): not a valid evidence bundle"
               in done.stderr for p in broken)
    assert done.stdout.count(": stored as ") == len(fleet) - len(broken)

    def audit(*paths: Path) -> dict:
        run = subprocess.run([*AUDITOR, "audit", *map(str, paths), "--format", "json", "--lang", "en"],
                             capture_output=True, text=True)
        assert run.returncode in (0, 1), run.stderr
        doc = json.loads(run.stdout)
        def unnamed(text: str) -> str:  # the same whatever the bundle files are called
            return re.sub(r"[^\s\"]+\.json", "FILE", text)

        return {(r["target"], r["check"]): (r["status"], unnamed(r["message"]),
                                            unnamed(json.dumps(r["findings"], sort_keys=True)))
                for r in doc["results"]}

    assert audit(directory) == audit(*(p for p in fleet if p not in broken))
