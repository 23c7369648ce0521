"""Active Directory's password policies: the domain's default policy and its fine-grained ones.

A domain has one default password and lockout policy (``Get-ADDefaultDomainPasswordPolicy``, or
``net accounts /domain`` run on a member) and any number of fine-grained password policies
(password settings objects, ``Get-ADFineGrainedPasswordPolicy -Filter *``), each applied to
groups or users (``AppliesTo``) with a ``Precedence``. Every file given is one of these, in the
forms Windows PowerShell 5.1 writes them:

* ``Format-List`` text, the cmdlets' own output redirected (``> FILE``, ``Out-File``: UTF-16 LE
  with a byte-order mark, CRLF): ``Name : value`` lines, one block per object, blocks apart by
  blank lines; a value too long for the console is wrapped onto lines indented to the value's
  column; a collection shows as ``{a, b}``, cut after ``$FormatEnumerationLimit`` (4) entries
  with ``...`` — such a cut list is refused, as the subjects it hides cannot be judged;
* ``ConvertTo-Json`` (any encoding): TimeSpans as objects (``Ticks``, ``Days``, ``Hours``, ...,
  ``TotalMinutes``), read from their ticks and checked against their parts; ``AppliesTo`` as a
  list of distinguished names;
* ``Export-Csv`` (UTF-8 with a BOM, CP932 or ASCII, ``#TYPE`` line or not): TimeSpans as text,
  ``AppliesTo`` joined (``@{n='AppliesTo';e={$_.AppliesTo -join ';'}}``); a column holding the
  collection's type name is refused with that hint, and so is an ASCII export whose names lost
  their characters to ``?`` (PowerShell 5.1's default ``Export-Csv`` encoding);
* ``net accounts /domain`` (read by :mod:`net_accounts`): the default policy without complexity
  or reversible encryption, which it does not print. Output without ``/domain`` is the policy of
  the computer it ran on and is refused here (import it with ``net-accounts`` for that computer).

TimeSpans are written ``d.hh:mm:ss[.fffffff]`` (``42.00:00:00``, ``00:30:00``). A maximum password
age of zero or of TimeSpan's extreme value means passwords never expire (null); a lockout duration
of zero or the extreme means locked until an administrator unlocks (0, as elsewhere in the facts).
Maximum ages are counted in whole days rounded up and minimum ages and windows rounded down, so a
fraction never rounds a value over a limit; a lockout shorter than a minute counts as one minute,
never as 0.

The default policy becomes ``password_policy`` and ``lockout_policy`` (as secedit and net accounts
give them for a computer); each fine-grained policy one record of ``fine_grained_password_policies``
with its settings under the same keys, the CN of each subject and ``effective_for``: the subjects
for which it is the policy AD applies. AD applies, of the policies linked to a subject, the one with
the lowest ``Precedence``, and of two with the same precedence the one with the smaller objectGUID
(compared as AD stores it, little-endian); a tie the export cannot settle (no ObjectGUID) is refused.
For an account AD also weighs the policies of all its groups, the lowest precedence winning; the
checks judge every policy in effect for some subject, so whichever wins for an account is judged.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from auditor.evidence.bundle import BundleBuilder
from auditor.evidence.importers import ImportOptions, net_accounts, register
from auditor.evidence.importers.csvrows import csv_table
from auditor.evidence.importers.textio import decode
from auditor.evidence.importers.windows import psjson

from auditor.errors import InputError, duplicate_key
from auditor.limits import MAX_FILE_BYTES, check_int_text, check_size

PASSWORD, LOCKOUT, AREA = "password_policy", "lockout_policy", "fine_grained_password_policies"
DEFAULT_CMDLET, FGPP_CMDLET = "Get-ADDefaultDomainPasswordPolicy", "Get-ADFineGrainedPasswordPolicy"
TICKS_PER_MINUTE = 600_000_000
TICKS_PER_DAY = 1440 * TICKS_PER_MINUTE
NEVER_DAYS = 10675199  # TimeSpan.MaxValue is 10675199.02:48:05.4775807 (and MinValue its negative)
COLLECTION_TYPES = ("Microsoft.ActiveDirectory.Management.ADPropertyValueCollection", "System.Object[]",
                    "System.String[]")
_TIMESPAN = re.compile(r"(-)?(?:([0-9]+)\.)?([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,7}))?")
_LIST_LINE = re.compile(r"([A-Za-z][A-Za-z0-9-]*)( *): ?(.*)")
_RULE_LINE = re.compile(r"-+( +-+)*")  # Format-Table's underline: a table cannot be read back
SETTINGS = ("minpasswordlength", "complexityenabled", "maxpasswordage", "minpasswordage", "passwordhistorycount",
            "reversibleencryptionenabled", "lockoutthreshold", "lockoutduration", "lockoutobservationwindow")
EXPORT_HINT = (f"export with {FGPP_CMDLET} -Filter * > FILE, | ConvertTo-Json, or | Select-Object *,"
               "@{n='AppliesTo';e={$_.AppliesTo -join ';'}} -ExcludeProperty AppliesTo | Export-Csv")


@dataclass
class Value:
    """One property of an object as written: its name as written, its value and its line."""

    key: str
    raw: Any
    line: int


@dataclass
class Policy:
    """One object of an export: its properties by case-folded name, where it starts, and its form."""

    file: str
    line: int
    form: str  # Format-List, JSON or CSV
    props: dict[str, Value] = field(default_factory=dict)

    def get(self, key: str) -> Value | None:
        return self.props.get(key)

    @property
    def fine_grained(self) -> bool:
        """A password settings object (it has a precedence and subjects), not the domain's default."""
        kind = self.get("objectclass")
        return ("precedence" in self.props or "appliesto" in self.props
                or (kind is not None and "msds-passwordsettings" in str(kind.raw).casefold()))

    def error(self, value: Value | None, problem: str) -> InputError:
        where = value.key if value is not None else None
        return InputError(self.file, problem, where=where, line=value.line if value is not None else self.line)


# --- the three written forms ----------------------------------------------------------------------

def list_objects(text: str, name: str) -> list[Policy]:
    """The objects of ``Format-List`` text: blocks of ``Name : value`` lines with wrapped continuations."""
    found: list[Policy] = []
    current: Policy | None = None
    column = 0  # where values start in the current block: every label is padded to it
    last: Value | None = None
    lines = text.split("\n")
    for number, raw in enumerate(lines, start=1):
        if _RULE_LINE.fullmatch(raw.strip()):
            raise InputError(name, "a table (Format-Table): its columns are cut to the console's width and cannot "
                             f"be read back; {EXPORT_HINT}", line=number)
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip()
        if not line.strip():
            current, last = None, None
            continue
        match = _LIST_LINE.fullmatch(line)
        if current is not None and last is not None and line[:column].strip() == "" and len(line) > column:
            last.raw += line[column:]  # a wrapped value: the console cut it at its width, mid-word
            continue
        if match is None:
            raise InputError(name, f"not Format-List output ('Name : value'): {line.strip()[:60]!r}; "
                             f"{EXPORT_HINT}", line=number)
        key, padding, value = match.groups()
        if current is None:
            current = Policy(name, number, "Format-List")
            found.append(current)
            column = len(key) + len(padding) + 2
        folded = key.casefold()
        if folded in current.props:
            raise duplicate_key(name, key, current.props[folded].line, number, what="property")
        last = current.props[folded] = Value(key, value, number)
    return found


def json_objects(text: str, name: str) -> list[Policy]:
    """The objects of ``ConvertTo-Json`` output (one object or a list), each with the line it starts on."""
    doc = psjson.loads(text, name)
    items = psjson.records(doc, name)
    starts = _element_lines(text) if isinstance(psjson.unwrap(doc), list) else [text.count("\n", 0, _first(text)) + 1]
    found = []
    for item, line in zip(items, starts + [1] * (len(items) - len(starts)), strict=False):
        policy = Policy(name, line, "JSON")
        for key, value in item.items():
            policy.props[key.casefold()] = Value(key, value, _key_line(text, key, line))
        found.append(policy)
    return found


def _first(text: str) -> int:
    return len(text) - len(text.lstrip())


def _element_lines(text: str) -> list[int]:
    """The line each element of a top-level JSON array starts on (the array has been parsed already)."""
    decoder = json.JSONDecoder()
    at = text.find("[")
    lines = []
    while at >= 0:
        at += 1
        while at < len(text) and text[at] in " \t\r\n,":
            at += 1
        if at >= len(text) or text[at] == "]":
            break
        lines.append(text.count("\n", 0, at) + 1)
        _, at = decoder.raw_decode(text, at)
    return lines


def _key_line(text: str, key: str, start_line: int) -> int:
    """The line of ``"key":`` at or after the object's first line (the object's line if not found)."""
    offset = 0
    for _ in range(start_line - 1):
        offset = text.find("\n", offset) + 1
    at = text.find(json.dumps(key) + ":", offset)
    return text.count("\n", 0, at) + 1 if at >= 0 else start_line


def csv_objects(text: str, name: str) -> list[Policy]:
    """The rows of an ``Export-Csv`` export, one object each."""
    table = csv_table(text, name)
    found = []
    for row, line in zip(table.rows, table.lines, strict=True):
        policy = Policy(name, line, "CSV")
        for index, key in enumerate(table.header):
            folded = key.casefold()
            if folded in policy.props:
                raise duplicate_key(name, key, table.header_line, table.header_line, what="column")
            if key:
                policy.props[folded] = Value(key, row[index], line)
        found.append(policy)
    return found


def form_of(text: str) -> str:
    """Which written form a decoded export is in."""
    body = text.lstrip()
    if body.startswith(("{", "[")):
        return "JSON"
    first = next((line for line in body.split("\n") if line.strip() and not line.startswith("#TYPE")), "")
    if first.startswith('"') or ("," in first and ":" not in first):
        return "CSV"
    folded = [net_accounts.fold(line) for line in body.split("\n")[:20]]
    if any(net_accounts.LABELS.get(f.partition(":")[0].strip()) for f in folded if ":" in f):
        return "net accounts"
    return "Format-List"


# --- values -----------------------------------------------------------------------------------------

def _text(value: Value) -> str:
    return "" if value.raw is None else str(value.raw).strip()


def boolean(policy: Policy, value: Value) -> bool:
    if isinstance(value.raw, bool):
        return value.raw
    text = _text(value).casefold()
    if text in ("true", "false"):
        return text == "true"
    raise policy.error(value, f"expected True or False, found {value.raw!r}")


def integer(policy: Policy, value: Value, minimum: int = 0) -> int:
    raw = value.raw
    if isinstance(raw, int) and not isinstance(raw, bool):
        number = raw
    else:
        text = _text(value)
        if not (text.isascii() and text.lstrip("-").isdigit()):
            raise policy.error(value, f"expected a whole number, found {raw!r}")
        check_int_text(text, policy.file, value.line, value.key)
        number = int(text)
    if number < minimum:
        raise policy.error(value, f"expected a whole number of at least {minimum}, found {number}")
    return number


def ticks(policy: Policy, value: Value) -> int:
    """A TimeSpan's ticks, from its text (``42.00:00:00``) or the object ConvertTo-Json writes."""
    raw = value.raw
    if isinstance(raw, dict):
        return _object_ticks(policy, value, raw)
    text = _text(value)
    match = _TIMESPAN.fullmatch(text)
    if match is None:
        raise policy.error(value, f"expected a TimeSpan such as 42.00:00:00 or 00:30:00, found {raw!r}")
    minus, days, hours, minutes, seconds, fraction = match.groups()
    check_int_text(days or "0", policy.file, value.line, value.key)
    if int(hours) > 23 or int(minutes) > 59 or int(seconds) > 59:
        raise policy.error(value, f"expected a TimeSpan such as 42.00:00:00 (hours 0-23, minutes and seconds 0-59), "
                           f"found {raw!r}")
    total = ((int(days or 0) * 24 + int(hours)) * 60 + int(minutes)) * 60 + int(seconds)
    count = total * 10_000_000 + int((fraction or "0").ljust(7, "0"))
    return -count if minus else count


def _object_ticks(policy: Policy, value: Value, raw: dict[str, Any]) -> int:
    parts = {key.casefold(): part for key, part in raw.items()}
    count = parts.get("ticks")
    if isinstance(count, bool) or not isinstance(count, int):
        raise policy.error(value, "expected a TimeSpan as ConvertTo-Json writes it, with its Ticks "
                           f"(found {json.dumps(raw, ensure_ascii=False)[:80]})")
    sign = -1 if count < 0 else 1
    magnitude = abs(count)
    seconds, _ = divmod(magnitude, 10_000_000)
    expected = {"days": magnitude // TICKS_PER_DAY, "hours": seconds // 3600 % 24, "minutes": seconds // 60 % 60,
                "seconds": seconds % 60}
    for key, want in expected.items():
        given = parts.get(key)
        if given is not None and given != sign * want:
            raise policy.error(value, f"the TimeSpan's {key.title()} ({given}) does not agree with its Ticks "
                               f"({count}): the file was changed after it was written")
    return count


def _never(count: int) -> bool:
    return abs(count) // TICKS_PER_DAY >= NEVER_DAYS


def _span(policy: Policy, value: Value, key: str) -> int | None:
    """A TimeSpan setting in the unit of its fact: days for ages, minutes for the lockout's times.

    None: the setting's "never" (no expiry). Rounding never carries a value over a limit.
    """
    count = ticks(policy, value)
    extreme = _never(count)
    if count < 0 and not extreme:
        raise policy.error(value, f"a negative TimeSpan ({_text(value) or count}); the cmdlets write intervals "
                           "as positive values")
    if key == "max_age_days":
        return None if extreme or count == 0 else math.ceil(count / TICKS_PER_DAY)
    if key == "duration_minutes":
        return 0 if extreme or count == 0 else max(1, count // TICKS_PER_MINUTE)
    if extreme:
        raise policy.error(value, f"{value.key} has TimeSpan's extreme value, which means nothing here")
    return count // (TICKS_PER_DAY if key == "min_age_days" else TICKS_PER_MINUTE)


def subjects(policy: Policy, value: Value) -> list[str]:
    """The distinguished names of ``AppliesTo``, as written (``{a, b}``, a JSON list, or joined by ``;``)."""
    raw = value.raw
    if raw is None:
        return []
    if isinstance(raw, list):
        if not all(isinstance(item, str) for item in raw):
            raise policy.error(value, "expected a list of distinguished names")
        return [dn for item in raw for dn in split_dns(policy, value, item)]
    text = _text(value)
    if text in COLLECTION_TYPES:
        raise policy.error(value, "the subjects were exported as the collection's type name; export them joined: "
                           "@{n='AppliesTo';e={$_.AppliesTo -join ';'}}")
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
        if text.rstrip().endswith(("...", "…")):
            raise policy.error(value, "Format-List cut the list of subjects short (more than $FormatEnumerationLimit "
                               "of them); set $FormatEnumerationLimit = -1 before exporting, or use ConvertTo-Json")
    return split_dns(policy, value, text)


def split_dns(policy: Policy, value: Value, text: str) -> list[str]:
    """Distinguished names written one after another, split where one ends.

    A DN's parts are joined by ``,`` and the list's entries by ``, `` (Format-List) or ``;``; a wrap
    may have eaten the space, so an entry is known to end where a ``DC=`` part is followed by a part
    of another type, as every DN of a domain's objects ends with its ``DC=`` parts.
    """
    parts: list[tuple[str, str]] = []  # (the separator before it, the part)
    start, i, before = 0, 0, ""
    while i <= len(text):
        char = text[i] if i < len(text) else ";"
        if char == "\\":
            i += 2
            continue
        if char in ",;":
            piece = text[start:i].strip()
            if piece:
                parts.append((before, piece))
            elif i < len(text) and char == ",":
                raise policy.error(value, f"expected distinguished names, found an empty part in {text[:80]!r}")
            before, start = char, i + 1
        i += 1
    names: list[list[str]] = []
    for separator, part in parts:
        kind, eq, _ = part.partition("=")
        if not eq or not kind.strip():
            raise policy.error(value, f"expected distinguished names such as CN=Domain Admins,CN=Users,DC=example,"
                               f"DC=local, found {part[:60]!r}")
        previous = names[-1][-1].partition("=")[0].strip().casefold() if names else None
        if not names or separator == ";" or (previous == "dc" and kind.strip().casefold() != "dc"):
            names.append([part])
        else:
            names[-1].append(part)
    return [",".join(dn) for dn in names]


def common_name(dn: str) -> str:
    """The value of a DN's first part, escapes undone (``CN=Smith\\, John,...`` → ``Smith, John``)."""
    from auditor.evidence.importers.ad_users import group_names

    return group_names(dn)[0]


def _dn_key(dn: str) -> str:
    return ",".join(part.strip() for part in unicodedata.normalize("NFKC", dn).casefold().split(","))


# --- objects to facts -------------------------------------------------------------------------------

def settings(policy: Policy) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """The password and lockout settings of an object (under the facts' keys) and the properties read."""
    password: dict[str, Any] = {}
    lockout: dict[str, Any] = {}
    read: list[str] = []

    def take(prop: str) -> Value | None:
        value = policy.get(prop)
        if value is not None and (value.raw is None or _text(value) == "" and not isinstance(value.raw, dict)):
            raise policy.error(value, "no value given")
        if value is not None:
            read.append(value.key)
        return value

    if (value := take("minpasswordlength")) is not None:
        password["min_length"] = integer(policy, value)
    if (value := take("complexityenabled")) is not None:
        password["complexity"] = boolean(policy, value)
        password["min_char_classes"] = 3 if password["complexity"] else 0  # Windows: 3 of the 4 classes
    if (value := take("maxpasswordage")) is not None:
        password["max_age_days"] = _span(policy, value, "max_age_days")
    if (value := take("minpasswordage")) is not None:
        password["min_age_days"] = _span(policy, value, "min_age_days")
    if (value := take("passwordhistorycount")) is not None:
        password["history"] = integer(policy, value)
    if (value := take("reversibleencryptionenabled")) is not None:
        password["reversible_encryption"] = boolean(policy, value)
    if (value := take("lockoutthreshold")) is not None:
        threshold = integer(policy, value)
        lockout = {"enabled": threshold > 0, "threshold": threshold}
    for prop, key in (("lockoutduration", "duration_minutes"), ("lockoutobservationwindow", "window_minutes")):
        if (value := take(prop)) is not None:
            minutes = _span(policy, value, key)
            if lockout.get("enabled"):  # with nothing locking there is nothing to time (docs/facts.md)
                lockout[key] = minutes
    return password, lockout, read


def fine_grained(policy: Policy) -> tuple[dict[str, Any], list[str], str | None]:
    """A fine-grained policy's record (``effective_for`` still to be worked out), its subjects' DNs and GUID."""
    name, precedence, applies = (_required(policy, prop) for prop in ("Name", "Precedence", "AppliesTo"))
    if not _text(name):
        raise policy.error(name, "a fine-grained password policy without a name")
    password, lockout, _ = settings(policy)
    missing = [prop for prop in SETTINGS if prop not in policy.props]
    if missing:
        raise InputError(policy.file, f"the fine-grained password policy {_text(name)!r} lacks {', '.join(missing)}: "
                         "a policy applies all its settings, so all are needed", line=policy.line)
    dns = subjects(policy, applies)
    guid = policy.get("objectguid")
    record: dict[str, Any] = {"name": _text(name), "precedence": integer(policy, precedence, 1),
                              "applies_to": [common_name(dn) for dn in dns], "applies_to_dn": dns,
                              "effective_for": [], **password,
                              "lockout_threshold": lockout["threshold"]}
    for key in ("duration_minutes", "window_minutes"):
        if key in lockout:
            record[f"lockout_{key}"] = lockout[key]
    record["source"] = {"file": policy.file, "line": policy.line}
    return record, dns, _text(guid) if guid is not None and _text(guid) else None


def _required(policy: Policy, prop: str) -> Value:
    value = policy.get(prop.casefold())
    if value is None:
        raise InputError(policy.file, f"a fine-grained password policy without {prop}: it cannot be judged for the "
                         f"groups it applies to; {EXPORT_HINT}", line=policy.line)
    return value


def resolve(records: list[tuple[dict[str, Any], list[str], str | None]], name: str) -> None:
    """Fill each record's ``effective_for``: the subjects for which AD applies it (lowest precedence,
    then the smaller objectGUID)."""
    linked: dict[str, list[int]] = {}
    shown: dict[str, str] = {}
    for record, _, _ in records:
        record["effective_for"] = []
    for index, (_, dns, _) in enumerate(records):
        for dn in dns:
            key = _dn_key(dn)
            shown.setdefault(key, dn)
            if index not in linked.setdefault(key, []):
                linked[key].append(index)
    for key, indexes in linked.items():
        best = min(records[i][0]["precedence"] for i in indexes)
        tied = [i for i in indexes if records[i][0]["precedence"] == best]
        if len(tied) > 1:
            guids = [records[i][2] for i in tied]
            if None in guids:
                first, second = (records[i][0] for i in tied[:2])
                raise InputError(name, f"{first['name']!r} and {second['name']!r} both apply to {shown[key]} with "
                                 f"precedence {best}: AD applies the one with the smaller objectGUID, which the export "
                                 "does not give; export ObjectGUID too (or give them different precedences)",
                                 line=second["source"]["line"])
            tied.sort(key=lambda i: _guid_order(records[i][2], name, records[i][0]))
        winner = records[tied[0]][0]
        subject = common_name(shown[key])
        if subject not in winner["effective_for"]:
            winner["effective_for"].append(subject)


def _guid_order(guid: str | None, name: str, record: dict[str, Any]) -> bytes:
    try:
        return uuid.UUID(str(guid)).bytes_le
    except ValueError:
        raise InputError(name, f"{record['name']!r}: ObjectGUID {guid!r} is not a GUID",
                         line=record["source"]["line"]) from None


@dataclass
class Read:
    """What one import has read so far, across its files."""

    default: tuple[str, dict[str, Any], dict[str, Any]] | None = None  # file, password, lockout
    policies: list[tuple[dict[str, Any], list[str], str | None]] = field(default_factory=list)
    names: dict[str, dict[str, Any]] = field(default_factory=dict)  # folded policy name → record


def _mangled(policy: Policy, text: str, encoding: str) -> None:
    """Refuse an ASCII export whose names PowerShell replaced by '?' (which group a '????' is, is lost)."""
    if encoding != "utf-8" or not text.isascii():
        return
    for key in ("name", "appliesto", "distinguishedname"):
        value = policy.get(key)
        if value is not None and "?" in json.dumps(value.raw):
            raise policy.error(value, "the export is ASCII, with '?' in place of other characters, so which groups "
                               "the policies apply to is lost. Windows PowerShell 5.1's Export-Csv and Out-File "
                               "-Encoding ascii write ASCII: export again with -Encoding UTF8")


class ADPasswordPolicyImporter:
    name = "ad-password-policy"
    target_kind = "directory"
    description = (f"{DEFAULT_CMDLET}, {FGPP_CMDLET} -Filter * (Format-List, JSON or CSV) and "
                   "net accounts /domain: the domain's password policies")

    def __init__(self) -> None:
        self.state = Read()

    def configure(self, options: ImportOptions) -> None:
        """Refuse the options of the spreadsheet importers: these exports have no columns to map or sheets."""
        if options.mapping is not None:
            raise InputError(options.mapping, "--mapping is for hr-roster and training: the ad-password-policy import "
                             "reads the cmdlets' own property names")
        if options.sheet is not None:
            raise InputError("--sheet", "the ad-password-policy import reads text, JSON or CSV, which have no sheets")

    def read_stream(self, path: Path, file: BinaryIO, builder: BundleBuilder) -> None:
        """As :meth:`read`, the file's size checked before it is read."""
        check_size(path, "text")
        self.read(path, file.read(MAX_FILE_BYTES["text"] + 1), builder)

    def read(self, path: Path, data: bytes, builder: BundleBuilder) -> None:
        name = str(path)
        check_size(name, "text", len(data))
        text, encoding = decode(data, name)
        form = form_of(text) if text.strip() else "empty"
        if form == "net accounts":
            self._net_accounts(name, text, encoding, data, builder)
            return
        objects = {"JSON": json_objects, "CSV": csv_objects, "Format-List": list_objects}.get(form)
        found = objects(text, name) if objects is not None else []
        defaults = [p for p in found if not p.fine_grained]
        for policy in found:
            _mangled(policy, text, encoding)
            if not policy.fine_grained and not any(key in policy.props for key in SETTINGS):
                raise InputError(name, f"not a password policy: none of MinPasswordLength, LockoutThreshold, ... in "
                                 f"this {form} object; {EXPORT_HINT}", line=policy.line)
        if len(defaults) > 1:
            raise InputError(name, f"two default domain policies in one file (lines {defaults[0].line} and "
                             f"{defaults[1].line}): import each domain as its own target", line=defaults[1].line)
        parser = f"{self.name} ({form}, {encoding})"
        if defaults:
            password, lockout, read = settings(defaults[0])
            shown = [key for key in read if not key.casefold().startswith("lockout")]
            password["sources"] = [f"{name} ({DEFAULT_CMDLET}: {', '.join(shown)})"]
            self._set_default(name, password, lockout, data, parser, builder)
        fine = [p for p in found if p.fine_grained]
        if fine or form == "empty":  # Get-ADFineGrainedPasswordPolicy writes nothing where there is none
            for policy in fine:
                self._add(fine_grained(policy), name)
            resolve(self.state.policies, name)
            builder.add_source(name, parser if form != "empty" else f"{self.name} (empty: no fine-grained "
                               "password policies)", data, AREA)
            builder.set_fact(AREA, [record for record, _, _ in self.state.policies])

    def _add(self, entry: tuple[dict[str, Any], list[str], str | None], name: str) -> None:
        record = entry[0]
        folded = record["name"].casefold()
        if folded in self.state.names:
            first = self.state.names[folded]["source"]
            raise InputError(name, f"the fine-grained password policy {record['name']!r} is given twice (first in "
                             f"{first['file']}, line {first['line']}): import each domain as its own target",
                             line=record["source"]["line"])
        self.state.names[folded] = record
        self.state.policies.append(entry)

    def _set_default(self, name: str, password: dict[str, Any], lockout: dict[str, Any], data: bytes, parser: str,
                     builder: BundleBuilder) -> None:
        if self.state.default is not None:
            raise InputError(name, f"a second default domain policy (the first came from {self.state.default[0]}): "
                             "import each domain as its own target")
        self.state.default = (name, password, lockout)
        for area, value in ((PASSWORD, password), (LOCKOUT, lockout)):
            if value:
                builder.add_source(name, parser, data, area)
                builder.set_fact(area, value)
        if not lockout:
            builder.add_error(LOCKOUT, f"{name}: no LockoutThreshold in the export", name)

    def _net_accounts(self, name: str, text: str, encoding: str, data: bytes, builder: BundleBuilder) -> None:
        parsed = net_accounts.parse(text, name)
        if not parsed.domain:
            raise InputError(name, "net accounts without /domain: this is the policy of the computer it ran on, not "
                             "the domain's; run net accounts /domain, or import this file with net-accounts for that "
                             "computer")
        facts = net_accounts.facts_from(parsed, name)
        self._set_default(name, facts[PASSWORD], facts[LOCKOUT], data, f"{self.name} (net accounts /domain, "
                          f"{encoding})", builder)


@register("ad-password-policy")
def ad_password_policy_importer() -> ADPasswordPolicyImporter:
    return ADPasswordPolicyImporter()
