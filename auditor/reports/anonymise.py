"""Personal names out of a results document, for the trainer view (``--view trainer``).

Training material is shown to rooms of staff: it may say that an administrator account has no
separate daily account, never whose. A report reads the results document alone (no evidence, no
policy), so the people are found there:

- a finding about a person or an account: its ``actual`` record names a person field
  (``name``, ``display_name``, ``employee_id``, ``home``) or an account attribute (password,
  logon, group membership), or its expected sentence speaks of one; its ``item`` label (what
  precedes `` (file:line)``, split at `` / ``) and those fields are the person's values;
- the approver of a waiver and the person who attested a manual check.

Each person gets one label for the whole run: ``職員A`` / ``Staff A``, ``B``, ... in the order
they first appear (stable for the same document), the values of one record sharing it. With a
pseudonym key (:data:`auditor.pseudonyms.KEY_ENV`, as ``auditor export --pseudonymize`` uses) the
labels are the export's keyed pseudonyms instead, so that a trainer's report and an inspection
package made with one key name the same person the same way. Built-in accounts (root,
Administrator, ...) are not people and keep their names: "root's password is old" is a lesson.

The values are then replaced wherever they occur as text (messages, items, expected sentences,
waiver records), as :class:`auditor.pseudonyms.Pseudonymizer` replaces them: ASCII names as whole
tokens, Japanese names anywhere, with and without the space between family and given name.
"""

from __future__ import annotations

import copy
import os
import re
from typing import Any

from auditor.pseudonyms import KEY_ENV, MIN_ASCII_LENGTH, MIN_KEY_BYTES, Pseudonymizer, normalised

# Fields of a finding's ``actual`` record that name a person, with the export's pseudonym prefix.
PERSON_FIELDS = {"name": "user", "display_name": "person", "employee_id": "staff", "home": "home"}
# Words in a record's keys or in an expected sentence that show the record is an account or a person.
ACCOUNT_MARKERS = ("employee_id", "display_name", "password_", "logon", "groups", "hr_roster", "training_records",
                   "account", "employee", "staff", "vendor", "アカウント", "職員", "氏名", "委託先")
# Accounts every system has: not people.
NOT_PEOPLE = frozenset({"root", "administrator", "guest", "krbtgt", "defaultaccount", "wdagutilityaccount",
                        "system", "nobody", "daemon"})
# " (exports/ad-users.csv:11)", and what follows it (" ← exports/hr-roster.csv:3"): where a record is
SOURCE_SUFFIX = re.compile(r"\s+\([^()]*:\d+\)")
FACT_PATH = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")  # password_policy.min_length: a setting, not a record
LABEL_WORD = {"ja": "職員", "en": "Staff "}


def key_from_environment() -> bytes | None:
    """The pseudonym key of :data:`auditor.pseudonyms.KEY_ENV` when one long enough is set, else None."""
    key = os.environ.get(KEY_ENV, "").encode()
    return key if len(key) >= MIN_KEY_BYTES else None


def letters(n: int) -> str:
    """0 → A, 25 → Z, 26 → AA: the spreadsheet's column letters, for as many people as a run has."""
    text = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        text = chr(ord("A") + rest) + text
    return text


def is_personal(finding: dict[str, Any]) -> bool:
    """Whether a finding is about an account or a person (see the module)."""
    actual = finding.get("actual")
    if isinstance(actual, dict):
        keys = [str(k) for k in actual]
        if any(k in PERSON_FIELDS or any(m in k for m in ACCOUNT_MARKERS) for k in keys):
            return True
    item = finding.get("item")
    if isinstance(item, str) and FACT_PATH.match(item):
        return False
    sentences = [finding.get("expected")]
    expected_text = finding.get("expected_text")
    if isinstance(expected_text, dict):
        sentences += list(expected_text.values())
    return any(isinstance(s, str) and any(m in s for m in ACCOUNT_MARKERS) for s in sentences)


def _item_parts(finding: dict[str, Any]) -> tuple[list[tuple[str, str]], list[list[tuple[str, str]]], str]:
    """A personal finding's values: its record's person fields (value, prefix), the pieces of its item label
    (each one value, or an employee number and a name), and the label's source suffix."""
    actual = finding.get("actual")
    fields: list[tuple[str, str]] = []
    for field, prefix in PERSON_FIELDS.items():
        value = actual.get(field) if isinstance(actual, dict) else None
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            fields.append((str(value), prefix))
    item = finding.get("item")
    label, suffix = _split_suffix(item) if isinstance(item, str) else ("", "")
    prefixes = {normalised(v): p for v, p in fields}
    pieces: list[list[tuple[str, str]]] = []
    for piece in (p.strip() for p in label.split(" / ")):
        if not piece:
            continue
        head = next((v for v, _ in fields if piece.startswith(v + " ")), None)
        if head is not None:  # "00131 結城 翔": the number, then the name
            pieces.append([(head, prefixes[normalised(head)]), (piece[len(head) + 1:].strip(), "person")])
        else:
            pieces.append([(piece, prefixes.get(normalised(piece), "user"))])
    return fields, pieces, suffix


def _split_suffix(item: str) -> tuple[str, str]:
    match = SOURCE_SUFFIX.search(item)
    return (item[: match.start()], item[match.start():]) if match else (item, "")


def _variants(value: str) -> list[str]:
    """A Japanese name as it is written, without its spaces and with an ideographic space."""
    if value.isascii():
        return [value]
    squeezed = "".join(value.split())
    return list(dict.fromkeys([value, squeezed, " ".join(value.split()), "\u3000".join(value.split())]))


class Anonymiser:
    """Learns the people of one results document, then returns it (or any text) with them replaced."""

    def __init__(self, lang: str = "ja", key: bytes | None = None) -> None:
        self.lang = lang if lang in LABEL_WORD else "ja"
        self.key = key
        self._keyed = Pseudonymizer(key or b"")
        self._labels: dict[str, str] = {}  # normalised value → label
        self._written: dict[str, str] = {}  # value as written → label (what text() replaces)
        self._findings: dict[tuple[int, int], tuple[str, str]] = {}  # (result, finding) → (item label, suffix)
        self._replacer: Pseudonymizer | None = None

    # learning ------------------------------------------------------------------------------------
    def learn(self, doc: dict[str, Any]) -> Anonymiser:
        """Every person of ``doc`` (results' findings, waivers, attestations), labelled in order of appearance."""
        for r_index, result in enumerate(doc.get("results") or []):
            if not isinstance(result, dict):
                continue
            for f_index, finding in enumerate(result.get("findings") or []):
                if isinstance(finding, dict) and is_personal(finding):
                    fields, pieces, suffix = _item_parts(finding)
                    record_label = self._record(fields, pieces)
                    if record_label is not None:
                        self._findings[(r_index, f_index)] = (record_label, suffix)
            for key, field in (("waiver", "approver"), ("attestation", "attested_by")):
                entry = result.get(key)
                if isinstance(entry, dict):
                    self._person(entry.get(field))
            for note in result.get("notes") or []:
                if isinstance(note, dict) and isinstance(note.get("waiver_expired"), dict):
                    self._person(note["waiver_expired"].get("approver"))
        for waiver in doc.get("waivers") or []:
            if isinstance(waiver, dict):
                self._person(waiver.get("approver"))
        for attestation in doc.get("attestations") or []:
            if isinstance(attestation, dict):
                self._person(attestation.get("attested_by"))
        self._replacer = None
        return self

    def _person(self, value: Any) -> None:
        if isinstance(value, str) and value.strip():
            self._record([(value, "staff")], [])

    def _record(self, fields: list[tuple[str, str]], pieces: list[list[tuple[str, str]]]) -> str | None:
        """The label of one record: without a key one label for all its values; with a key each value's
        pseudonym, the item's pieces joined as the item joins them (``user-… / person-…``)."""
        values = [(v, p) for v, p in fields + [part for piece in pieces for part in piece]
                  if v.strip() and normalised(v) not in NOT_PEOPLE]
        if not values:
            return None
        if self.key is not None:
            for value, prefix in values:
                self._labels.setdefault(normalised(value), self._keyed.pseudonym(value, prefix))
            shown = [" ".join(self._labels.get(normalised(v), v) for v, _ in piece) for piece in pieces]
            whole = " / ".join(shown) or " / ".join(dict.fromkeys(self._labels[normalised(v)] for v, _ in values))
        else:
            whole = next((self._labels[normalised(v)] for v, _ in values if normalised(v) in self._labels), None) \
                or f"{LABEL_WORD[self.lang]}{letters(len(set(self._labels.values())))}"
            for value, _ in values:
                self._labels.setdefault(normalised(value), whole)
        for value, _ in values:
            for written in _variants(value):
                self._written.setdefault(written, self._labels[normalised(value)])
        shown = []
        for piece in pieces:  # the whole piece as written ("00131 結城 翔"), replaced before its parts
            written = " ".join(v for v, _ in piece)
            shown.append(" ".join(self._labels.get(normalised(v), v) for v, _ in piece) if self.key else whole)
            if len(piece) > 1:
                self._written.setdefault(written, shown[-1])
        if len(pieces) > 1:  # "y.kasama / 笠間 由美" as the item and the message write it
            self._written.setdefault(" / ".join(" ".join(v for v, _ in piece) for piece in pieces),
                                     " / ".join(shown) if self.key else whole)
        return whole

    # replacing ----------------------------------------------------------------------------------
    @property
    def people(self) -> dict[str, str]:
        """Each personal value as written in the document → its label."""
        return dict(self._written)

    def label(self, value: str) -> str | None:
        """The label of a personal value (compared as ``match`` compares names), or None for one not learnt."""
        return self._labels.get(normalised(value))

    def _text_replacer(self) -> Pseudonymizer:
        if self._replacer is None:
            self._replacer = Pseudonymizer(b"")
            self._replacer.values.update({value: label for value, label in self._written.items()
                                          if not value.isascii() or len(value.strip()) >= MIN_ASCII_LENGTH})
        return self._replacer

    def text(self, value: str) -> str:
        """``value`` with every learnt personal value replaced by its label."""
        return self._text_replacer().text(value)

    def document(self, doc: dict[str, Any]) -> dict[str, Any]:
        """A copy of the learnt ``doc`` with the people replaced in every string; findings' items and
        records carry the label even where a name is too short to be replaced as text."""
        out = self._text_replacer().document(doc) if self._written else copy.deepcopy(doc)
        results = out.get("results") or []
        for (r_index, f_index), (label, suffix) in self._findings.items():
            finding = results[r_index]["findings"][f_index]
            finding["item"] = label + suffix
            actual = finding.get("actual")
            if isinstance(actual, dict):
                for field in PERSON_FIELDS:
                    if isinstance(actual.get(field), str | int) and not isinstance(actual.get(field), bool):
                        original = doc["results"][r_index]["findings"][f_index]["actual"][field]
                        actual[field] = self.label(str(original)) or label
        return out


def anonymised(doc: dict[str, Any], lang: str = "ja", key: bytes | None = None) -> dict[str, Any]:
    """A copy of ``doc`` without personal names (see the module); ``doc`` is left as it is."""
    return Anonymiser(lang, key).learn(doc).document(doc)


def for_view(doc: dict[str, Any], view: str, lang: str = "ja") -> dict[str, Any]:
    """The document a view may show: ``doc`` itself, or for ``trainer`` an anonymised copy (keyed
    pseudonyms when :data:`auditor.pseudonyms.KEY_ENV` holds a key, else per-run labels)."""
    if view != "trainer":
        return doc
    return anonymised(doc, lang, key_from_environment())
