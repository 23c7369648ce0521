"""Sending bundles to a collection point (``auditor serve``): ``auditor collect --upload URL`` and
``auditor upload FILE ... --url URL``, for offices that have no Ansible to fetch their bundles.

The upload token is a secret shared by the offices and the collection point. It is read from
the environment (:data:`TOKEN_ENV`) or from a file (``--token-file``), never from the command
line, where every user of the machine would see it in the process list and the shell would keep
it in its history; ``--token`` exists only to refuse that with a clear message. The token goes
in the ``Authorization`` header only: never in the URL, a message or a log line.

The bundle is posted as the exact bytes ``--out`` writes (or the file holds), so that the
collection point stores what the office kept, byte for byte; the server's receipt carries the
SHA-256 of what it stored, and a receipt for other bytes is an error. HTTPS is required, except
to this machine itself (``http://127.0.0.1``, ``localhost``: a test, or a TLS proxy on the same
host). Connection failures and 502/503/504 answers are retried with exponential back-off (the
server's ``Retry-After`` is honoured); a refusal (4xx) is not retried, and is exit 2 with the
server's message. Retrying a post is safe: a bundle already stored is never stored twice (409),
and a 409 whose stored copy is identical to what was sent means the bundle has arrived.

This module imports requests only when it sends: the command line builds its parser from here.
"""

from __future__ import annotations

import argparse
import hashlib
import ipaddress
import os
import re
import stat
import sys
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.errors import InputError

# What the client and the collection point (auditor/collection_point.py) share; here, as the
# command line imports this module to build its parser and the server's is heavier.
TOKEN_ENV = "AUDITOR_UPLOAD_TOKEN"  # noqa: S105 - the variable's name, not a token
PATH = "/bundles"  # where a collection point receives bundles
MIN_TOKEN_LENGTH = 16  # a collection point refuses to start with a shorter token
DEFAULT_MAX_BYTES = 64 << 20  # an endpoint's bundle is about 0.1 MiB; a 100,000-account directory 50 MiB

MAX_TOKEN_FILE_BYTES = 4096
RETRIES = 5  # attempts after the first: waits of 0, 2, 4, 8 and 16 s (back-off factor 1 s)
BACKOFF_SECONDS = 1.0
RETRY_AFTER_MAX_SECONDS = 120.0  # a server's Retry-After beyond this is not waited for longer
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 300.0  # the server validates the whole bundle before it answers (a large directory: seconds)
RETRY_STATUSES = (502, 503, 504)
MAX_ANSWER_BYTES = 64 * 1024  # of an answer's body: a receipt or an error message, never more
_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")


class _RefuseToken(argparse.Action):
    """``--token VALUE``: refused, without repeating the value (it would land in the error output)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        parser.exit(2, f"auditor: {option_string}: a token is never given on the command line (every user sees "
                    f"the process list, and the shell keeps a history): set {TOKEN_ENV} or use --token-file FILE\n")


def add_token_arguments(parser: argparse.ArgumentParser) -> None:
    """``--token-file``, and the ``--token`` that refuses a token on the command line."""
    parser.add_argument("--token-file", metavar="FILE",
                        help=f"file holding the upload token (default: the {TOKEN_ENV} environment variable)")
    parser.add_argument("--token", action=_RefuseToken, metavar="-", help=argparse.SUPPRESS)


def add_client_arguments(parser: argparse.ArgumentParser, url_flag: str, required: bool = False) -> None:
    """The options of a command that uploads: the collection point's URL, its CA and the token."""
    parser.add_argument(url_flag, dest="upload_url", metavar="URL", required=required,
                        help="post the bundle to this collection point (auditor serve), e.g. "
                        "https://collect.example.lg.jp:8443/bundles; token in $" + TOKEN_ENV)
    parser.add_argument("--ca-bundle", metavar="FILE",
                        help="CA certificate(s) to trust for the collection point (PEM), e.g. its own certificate")
    add_token_arguments(parser)


def read_token(token_file: str | None, min_length: int = 1) -> str:
    """The upload token: the content of ``token_file`` (surrounding white space removed), else the
    environment variable. InputError naming where it was looked for; the token itself is never quoted.

    A token file that others may read or anyone but its owner and group may change is refused,
    as ssh refuses such a key: a token readable by every user of a shared office PC is no secret.
    """
    if token_file is not None:
        where = token_file
        try:
            info = os.stat(token_file)
            if not stat.S_ISREG(info.st_mode):
                raise InputError(token_file, "not a regular file: --token-file names a file holding the token")
            if os.name == "posix" and info.st_mode & 0o026:
                raise InputError(token_file, f"others may read or change it (mode {stat.filemode(info.st_mode)}): "
                                 f"make it readable by its owner only (chmod 600 {token_file})")
            if info.st_size > MAX_TOKEN_FILE_BYTES:
                raise InputError(token_file, f"{info.st_size:,} bytes: a token file holds one token "
                                 f"(at most {MAX_TOKEN_FILE_BYTES:,} bytes)")
            raw = Path(token_file).read_bytes()
        except FileNotFoundError:
            raise InputError(token_file, "no such file (--token-file)") from None
        except OSError as exc:
            raise InputError(token_file, f"cannot read: {exc.strerror or exc}") from None
        try:
            token = raw.decode("utf-8-sig").strip()
        except UnicodeDecodeError:
            raise InputError(token_file, "not a text token: use printable ASCII characters") from None
    else:
        where = f"${TOKEN_ENV}"
        token = os.environ.get(TOKEN_ENV, "").strip()
        if not token:
            raise InputError(where, "no upload token: set the environment variable to the collection point's token, "
                             "or use --token-file FILE")
    if not token:
        raise InputError(where, "empty: the file must hold the upload token")
    if not _VISIBLE_ASCII.fullmatch(token):
        raise InputError(where, "the token must be one word of printable ASCII characters (no spaces or line breaks)")
    if len(token) < min_length:
        raise InputError(where, f"the token is {len(token)} characters long; use at least {min_length} random "
                         "characters (e.g. the output of: openssl rand -hex 32)")
    return token


def shown_url(url: str) -> str:
    """The URL as messages show it: scheme, host, port and path, never a user, password or query."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def is_loopback(host: str) -> bool:
    """This machine itself: ``localhost`` or a loopback address (127.0.0.0/8, ::1)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> str:
    """``url`` when a bundle may be posted to it; InputError otherwise (before anything is collected)."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError as exc:
        raise InputError(shown_url(url) if "://" in url else "(--upload URL)", f"not a URL: {exc}") from None
    shown = shown_url(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InputError(shown, "expected an https:// URL of the collection point, such as "
                         "https://collect.example.lg.jp:8443/bundles")
    if parts.username is not None or parts.password is not None:
        raise InputError(shown, f"the URL holds a user or password, which every user sees in the process list: "
                         f"remove it and give the token in ${TOKEN_ENV} or --token-file")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise InputError(shown, "plain http:// would send the token and the evidence unencrypted: use https:// "
                         "(http:// is accepted only to this machine itself, 127.0.0.1 or localhost)")
    return url


@dataclass(frozen=True)
class Destination:
    """A collection point, checked before any work: URL, trusted CA and the token."""

    url: str
    ca_bundle: str | None
    token: str = field(repr=False)
    retries: int = RETRIES
    backoff: float = BACKOFF_SECONDS

    @property
    def shown(self) -> str:
        return shown_url(self.url)


def destination(args: argparse.Namespace, retries: int = RETRIES) -> Destination:
    """The destination the parsed options name (``upload_url``, ``ca_bundle``, ``token_file``)."""
    url = check_url(args.upload_url)
    ca = args.ca_bundle
    if ca is not None and not os.path.isfile(ca):
        raise InputError(ca, "no such file (--ca-bundle names the PEM file of the CA to trust)")
    return Destination(url=url, ca_bundle=ca, token=read_token(args.token_file), retries=retries)


@dataclass(frozen=True)
class Receipt:
    """What the collection point answered to one bundle."""

    stored: str  # the file name it keeps the bundle under
    sha256: str
    already: bool = False  # it had these very bytes already (an earlier run, or a retried post that arrived)
    attempts: int = 1

    def line(self, name: str, dest: Destination) -> str:
        verb = "already received (identical), kept as" if self.already else "stored as"
        tries = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        return f"{name}: {verb} {self.stored} at {dest.shown}{tries} (SHA-256 {self.sha256})\n"


class Unreachable(InputError):
    """The collection point could not be reached or did not answer: later files would fare no better."""


class Sender:
    """One session with a collection point (connections, retries), for one or many bundles."""

    def __init__(self, dest: Destination) -> None:
        import requests
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry

        self.dest = dest
        class CappedRetry(Retry):
            """Retry that waits at most RETRY_AFTER_MAX_SECONDS whatever ``Retry-After`` asks for."""

            def get_retry_after(self, response: Any) -> float | None:
                seconds = super().get_retry_after(response)
                return None if seconds is None else min(seconds, RETRY_AFTER_MAX_SECONDS)

        retry = CappedRetry(total=dest.retries, connect=dest.retries, read=dest.retries, status=dest.retries, other=0,
                      redirect=0, status_forcelist=RETRY_STATUSES, allowed_methods=frozenset({"POST"}),
                      backoff_factor=dest.backoff, raise_on_status=False, respect_retry_after_header=True)
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers["User-Agent"] = f"auditor-upload ({sys.platform})"
        token = dest.token

        class Bearer(requests.auth.AuthBase):
            """The token in the Authorization header; given as ``auth``, so no ~/.netrc entry replaces it."""

            def __call__(self, request: Any) -> Any:
                request.headers["Authorization"] = f"Bearer {token}"
                return request

        self.auth = Bearer()

    def close(self) -> None:
        self.session.close()

    def send(self, data: bytes, name: str) -> Receipt:
        """Post one bundle's bytes; the receipt, or InputError naming ``name`` with the server's message."""
        import requests

        dest = self.dest
        digest = hashlib.sha256(data).hexdigest()
        try:
            response = self.session.post(dest.url, data=data, auth=self.auth, verify=dest.ca_bundle or True,
                                         timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), allow_redirects=False, stream=True,
                                         headers={"Content-Type": "application/json"})
        except requests.exceptions.SSLError as exc:
            raise Unreachable(dest.shown, f"TLS failed ({_reason(exc)}): if the collection point's certificate is "
                              "the city's own, give it (or its CA's) with --ca-bundle FILE") from None
        except requests.exceptions.Timeout as exc:
            raise Unreachable(dest.shown, f"no answer in time after {dest.retries + 1} attempts ({_reason(exc)}); "
                              f"{name} was not sent") from None
        except requests.exceptions.RequestException as exc:
            raise Unreachable(dest.shown, f"cannot reach the collection point after {dest.retries + 1} attempts "
                              f"({_reason(exc)}); {name} was not sent") from None
        try:
            body = response.raw.read(MAX_ANSWER_BYTES, decode_content=True) or b""
        except Exception as exc:  # noqa: BLE001 - any failure reading the answer is reported, not raised
            raise Unreachable(dest.shown, f"the answer could not be read ({_reason(exc)})") from None
        finally:
            response.close()
        history = getattr(getattr(response.raw, "retries", None), "history", ()) or ()
        attempts = len(history) + 1
        answer = _json_object(body)
        status = response.status_code
        if status == 201 or (status == 409 and answer.get("identical") is True):
            stored, got = answer.get("stored"), answer.get("sha256")
            if not isinstance(stored, str) or got != digest:
                raise InputError(name, f"{dest.shown} answered {status} without a receipt for these bytes "
                                 f"(SHA-256 {digest}): is this URL a collection point (auditor serve)?")
            return Receipt(stored=_printable(stored), sha256=digest, already=status == 409, attempts=attempts)
        message = _printable(answer["message"]) if isinstance(answer.get("message"), str) else _text(body)
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        if status in RETRY_STATUSES:
            raise Unreachable(dest.shown, f"{status} {response.reason}{tries}: {message}; {name} was not stored")
        if 300 <= status < 400:
            message = f"redirects are not followed (to {shown_url(response.headers.get('Location', ''))}): " \
                      "give the collection point's own URL"
        raise InputError(name, f"refused by {dest.shown} ({status} {response.reason}){tries}: {message}")


def _json_object(body: bytes) -> dict[str, Any]:
    import json

    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _printable(text: str, limit: int = 500) -> str:
    """What a server said, safe for a terminal: no control characters (escape sequences), cut at ``limit``."""
    shown = "".join(c if c.isprintable() else "?" for c in text[:limit])
    return shown + ("…" if len(text) > limit else "")


def _text(body: bytes) -> str:
    """An answer that is not the collection point's JSON (a proxy's page): its start, printable."""
    return _printable(" ".join(body.decode("utf-8", "replace").split()), 200) or "(no message)"


def _reason(exc: BaseException) -> str:
    """The root cause of a requests error, in a few words ("Connection refused", "certificate verify failed")."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        reason = getattr(cause, "reason", None)
        nxt = reason if isinstance(reason, BaseException) else None
        if nxt is None and cause.args and isinstance(cause.args[0], BaseException):
            nxt = cause.args[0]
        if nxt is None:
            nxt = cause.__cause__ or cause.__context__
        if nxt is None:
            break
        cause = nxt
    text = str(cause if cause is not None else exc)
    text = re.sub(r" \(_ssl\.c:\d+\)", "", text)
    found = re.search(r"\[Errno -?\d+\] ([^')\]]+)", text) or re.search(r"\] ([^')\]]*certificate[^')\]]*)", text)
    if found:
        text = found.group(1)
    text = re.sub(r"\S+Pool\([^)]*\): ", "", text)
    return _printable(text, 200) or type(exc).__name__


def send_files(dest: Destination, files: list[tuple[str, bytes]]) -> tuple[list[str], list[InputError]]:
    """Post each (name, bytes); the receipt lines and the refusals. An unreachable collection point
    stops the run: the files not yet sent are named in one refusal, not each waited for again."""
    lines: list[str] = []
    refused: list[InputError] = []
    sender = Sender(dest)
    try:
        for at, (name, data) in enumerate(files):
            try:
                lines.append(sender.send(data, name).line(name, dest))
            except Unreachable as exc:
                refused.append(exc)
                rest = [n for n, _ in files[at + 1:]]
                if rest:
                    refused.append(InputError(", ".join(rest[:5]) + (f" and {len(rest) - 5} more" if len(rest) > 5
                                                                     else ""), "not sent (see above)"))
                break
            except InputError as exc:
                refused.append(exc)
    finally:
        sender.close()
    return lines, refused


def send_collected(dest: Destination, data: bytes, kept: str | None) -> str:
    """Post a bundle just collected; its receipt line, or InputError saying where the bundle is now."""
    name = kept or "(the collected bundle)"
    sender = Sender(dest)
    try:
        return sender.send(data, name).line(name, dest)
    except InputError as exc:
        after = (f"; the bundle is kept in {kept}: send it later with auditor upload {kept} --url {dest.shown}"
                 if kept else "; nothing was kept: collect again, or give --out FILE to keep the bundle too")
        raise InputError(exc.file, exc.problem + after, where=exc.where, line=exc.line) from None
    finally:
        sender.close()
