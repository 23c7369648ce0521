"""Keyed pseudonyms for the people an evidence package names.

An inspection package may leave the 情報政策課 (to an outside auditor, to the prefecture's
team) without the staff's names in it. Every personal value — account and display names,
employee numbers, home directories, the roster's and the training records' names — is replaced
by a pseudonym made with HMAC-SHA256 under a key that stays outside the package:

- stable: the same person has the same pseudonym everywhere in one package (an AD account
  and its roster row still match: values are normalised as the ``match`` condition compares
  them — NFKC, spaces removed, case folded, digits-only numbers without leading zeros);
- keyed: without the key a pseudonym cannot be recomputed from a list of known names, as a
  plain hash could be;
- the key is never written into the package; the manifest records a key id (an HMAC of a fixed
  text) so that two packages made with the same key can be recognised.

Values are replaced wherever they occur as text: in the evidence, in the results' messages,
findings and items, and in the reports rendered from them.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from auditor.errors import InputError

KEY_ENV = "AUDITOR_PSEUDONYM_KEY"
MIN_KEY_BYTES = 16
MIN_ASCII_LENGTH = 3  # shorter ASCII values (an id of "7") would also hit unrelated numbers and words

# Which fields of which fact areas name a person, and the pseudonym's prefix for them.
PERSONAL: dict[str, dict[str, str]] = {
    "accounts": {"name": "user", "home": "home"},
    "directory_accounts": {"name": "user", "display_name": "person", "employee_id": "staff"},
    "hr_roster": {"name": "person", "employee_id": "staff"},
    "training_records": {"employee_id": "staff", "name": "person"},
    "local_admins": {"name": "user"},
}


def load_key(key_file: str | None) -> bytes:
    """The pseudonym key from ``--key-file`` or the environment; refused when missing or too short."""
    if key_file is not None:
        try:
            key = Path(key_file).read_bytes().strip()
        except OSError as exc:
            raise InputError(key_file, f"cannot read: {exc.strerror or exc}") from None
        where = key_file
    else:
        key = os.environ.get(KEY_ENV, "").encode()
        where = f"${KEY_ENV}"
    if len(key) < MIN_KEY_BYTES:
        raise InputError(where, f"a pseudonym key of at least {MIN_KEY_BYTES} bytes is needed (kept outside the "
                         "package), e.g. head -c 32 /dev/urandom | base64 > pseudonym.key; then --key-file "
                         "pseudonym.key")
    return key


def key_id(key: bytes) -> str:
    return hmac.new(key, b"auditor-pseudonym-key-id", hashlib.sha256).hexdigest()[:16]


def normalised(value: str) -> str:
    """The value as ``match`` compares it, so that the same person gets one pseudonym in every list."""
    text = "".join(unicodedata.normalize("NFKC", value).split()).casefold()
    return str(int(text)) if text.isdigit() and len(text) < 30 else text


class Pseudonymizer:
    """Collects the personal values of bundles, then rewrites any JSON document or text with them replaced."""

    def __init__(self, key: bytes) -> None:
        self.key = key
        self.values: dict[str, str] = {}  # personal value as written → pseudonym
        self._pattern: re.Pattern[str] | None = None

    def pseudonym(self, value: str, prefix: str) -> str:
        digest = hmac.new(self.key, normalised(value).encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
        return f"{prefix}-{digest[:10]}"

    def learn(self, bundle: dict[str, Any]) -> None:
        """Remember every personal value of a bundle's facts (see :data:`PERSONAL`)."""
        facts = bundle.get("facts")
        if not isinstance(facts, dict):
            return
        for area, fields in PERSONAL.items():
            records = facts.get(area)
            if not isinstance(records, list):
                continue
            for record in records:
                if not isinstance(record, dict) or (area == "accounts" and record.get("system") is True):
                    continue  # root, daemon: not people
                if area == "local_admins" and record.get("kind") not in (None, "user"):
                    continue
                for name, prefix in fields.items():
                    value = record.get(name)
                    if isinstance(value, str) and self._worth_replacing(value):
                        self.values.setdefault(value, self.pseudonym(value, prefix))
        self._pattern = None

    @staticmethod
    def _worth_replacing(value: str) -> bool:
        stripped = value.strip()
        if not stripped or stripped in ("/", "/root"):
            return False
        return not stripped.isascii() or len(stripped) >= MIN_ASCII_LENGTH

    def _compiled(self) -> re.Pattern[str] | None:
        if self._pattern is None and self.values:
            parts = []
            for value in sorted(self.values, key=len, reverse=True):  # longest first: 石岡 太郎 before 石岡
                escaped = re.escape(value)
                # an ASCII value only as a whole token (t.ishioka, not inside t.ishioka2); a Japanese name anywhere
                parts.append(rf"(?<![\w.@-]){escaped}(?![\w@-]|\.\w)" if value.isascii() else escaped)
            self._pattern = re.compile("|".join(parts))
        return self._pattern

    def text(self, value: str) -> str:
        pattern = self._compiled()
        if pattern is None:
            return value
        return pattern.sub(lambda m: self.values[m.group(0)], value)

    def document(self, doc: Any) -> Any:
        """A copy of a JSON document with personal values replaced in every string (keys included)."""
        return _map_strings(doc, self.text)


def _map_strings(doc: Any, fn: Callable[[str], str]) -> Any:
    """``doc`` with ``fn`` applied to every string, iteratively (documents are deep and large)."""
    root: list[Any] = [doc]
    pending: list[tuple[Any, Any]] = [(root, 0)]
    while pending:
        parent, key = pending.pop()
        value = parent[key]
        if isinstance(value, str):
            parent[key] = fn(value)
        elif isinstance(value, dict):
            copy = {fn(k) if isinstance(k, str) else k: v for k, v in value.items()}
            parent[key] = copy
            pending.extend((copy, k) for k in copy)
        elif isinstance(value, list):
            copy_list = list(value)
            parent[key] = copy_list
            pending.extend((copy_list, i) for i in range(len(copy_list)))
    return root[0]


def learn_all(pseudonymizer: Pseudonymizer, bundles: Iterable[dict[str, Any]]) -> None:
    for bundle in bundles:
        pseudonymizer.learn(bundle)
