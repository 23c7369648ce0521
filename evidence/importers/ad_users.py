"""``Get-ADUser -Filter * -Properties ... | Export-Csv``: a directory's user accounts.

Two shapes of export are read, column by column and case-insensitively:

* the friendly properties of the ActiveDirectory module (``Enabled``, ``LastLogonDate``,
  ``PasswordLastSet``, ``PasswordNeverExpires`` ...), dates written in the exporting
  session's locale — on Japanese Windows ``2026/11/02 8:41:07``, with no offset, so they
  are read in the import's ``--utc-offset``;
* the raw LDAP attributes (``userAccountControl``, ``lastLogonTimestamp``, ``pwdLastSet``,
  ``accountExpires``), FileTime integers in UTC where 0 and 0x7FFFFFFFFFFFFFFF mean
  never / not set.

Where both are present the friendly one wins. ``SID`` (or ``objectSid``), in the default property
set of Get-ADUser, gives each account's relative identifier (``rid``): 500 is the domain's built-in
Administrator whatever it has been renamed to, which the checks judge as what it is.

``MemberOf`` must be exported joined
(``@{n='MemberOf';e={$_.MemberOf -join ';'}}``): Export-Csv writes a bare collection as its
type name, which is refused rather than read as "no groups". Only the facts the checks need
are kept; every record says which line of which file it came from.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import timezone
from pathlib import Path
from typing import Any, BinaryIO

from auditor.evidence.bundle import BundleBuilder
from auditor.evidence.importers import add_source, register
from auditor.evidence.importers.csvrows import (
    INSTANT_FORMS,
    BadCell,
    Instants,
    Table,
    TableFile,
    read_csv,
    records,
    shown,
)
from auditor.evidence.importers.tabular import LocalTimeImporter

from auditor.errors import InputError
from auditor.limits import check_int_text
from auditor.memory import paused_gc

AREA = "directory_accounts"
DISABLED, PASSWD_NOTREQD, ENCRYPTED_TEXT_PWD_ALLOWED, DONT_EXPIRE_PASSWORD = 0x2, 0x20, 0x80, 0x10000
COLLECTION_NAMES = ("Microsoft.ActiveDirectory.Management.ADPropertyValueCollection", "System.Object[]")
EXPORT_HINT = ("; export with Get-ADUser -Filter * -Properties ... | Select-Object SamAccountName,... | "
               "Export-Csv")

Column = list[Any]
ABSENT: Any = object()  # a row whose export gives no value for a fact: the key is left out
BOOLEANS = {"True": True, "False": False, "": ABSENT}
INSTANT_MEMO = 100_000  # instants remembered per column across batches (shared strings for repeated ones)
SID = re.compile(r"S-1-[0-9]+(-[0-9]+)+", re.IGNORECASE)  # as Get-ADUser writes SID (and objectSid)
YEAR_LAST = re.compile(r"\d{1,2}/\d{1,2}/\d{4}\b")  # 11/2/2026 (en-US) or 2/11/2026 (en-GB): which is it?


def group_names(value: str) -> list[str]:
    """The CN (first RDN value) of each ``;``-joined distinguished name, escapes undone.

    ``CN=Domain Admins,CN=Users,DC=kakuu,DC=local`` → ``Domain Admins``;
    ``CN=Smith\\, John,OU=...`` → ``Smith, John``; ``\\2C``-style hex escapes are decoded.
    """
    if "\\" not in value:
        names = []
        for dn in value.split(";"):
            dn = dn.strip()
            if dn:
                attribute, eq, rest = dn.partition("=")
                if not eq or not attribute.strip():
                    raise ValueError(dn)
                names.append(rest.split(",", 1)[0].strip())
        return names
    return _escaped_group_names(value)


def _escaped_group_names(value: str) -> list[str]:
    names: list[str] = []
    i, n = 0, len(value)
    while i < n:
        # one DN: attribute type, '=', the value up to an unescaped ',', then skip to an unescaped ';'
        eq = value.find("=", i)
        semi = value.find(";", i)
        if eq < 0 or (0 <= semi < eq):
            rest = value[i: semi if semi >= 0 else n].strip()
            if rest:
                raise ValueError(rest)
            i = n if semi < 0 else semi + 1
            continue
        i = eq + 1
        out = bytearray()
        while i < n and value[i] not in ",;":
            char = value[i]
            if char == "\\" and i + 1 < n:
                pair = value[i + 1: i + 3]
                if len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair):
                    out.append(int(pair, 16))
                    i += 3
                    continue
                char = value[i + 1]
                i += 1
            out += char.encode("utf-8")
            i += 1
        names.append(out.decode("utf-8", "replace").strip())
        while i < n and value[i] != ";":
            i += 2 if value[i] == "\\" else 1
        i += 1
    return names


class _Memos:
    """What converting one export's columns remembers from batch to batch: each distinct flag, group
    list, department and time is converted (and kept) once for the whole file."""

    def __init__(self, zone: timezone) -> None:
        self.parser = Instants(zone)
        self.by_column: dict[tuple[str, int], dict[Any, Any]] = {}

    def get(self, kind: str, index: int, initial: dict[Any, Any] | None = None) -> dict[Any, Any]:
        memo = self.by_column.get((kind, index))
        if memo is None:
            memo = self.by_column[kind, index] = dict(initial or {})
        return memo


class _Columns:
    """Converts whole columns of a batch of rows at once, naming the file, line and column on failure.

    Each distinct value is converted once (a directory has a handful of flag values and group
    lists) and the column is then mapped in C; a row-by-row loop with a function per field
    took several times as long on a 100,000-row export.
    """

    def __init__(self, table: Table, memos: _Memos) -> None:
        self.table = table
        self.memos = memos
        self.parser = memos.parser
        self._columns: dict[int, list[str]] = {}

    def column(self, index: int) -> list[str]:
        if index not in self._columns:
            self._columns[index] = self.table.values(index)
        return self._columns[index]

    def index(self, *names: str) -> int | None:
        return next((i for i in map(self.table.column, names) if i is not None), None)

    def fail(self, problem: str, raw: str, index: int) -> InputError:
        """An error on the first row of the column that holds ``raw``."""
        return self.table.error(problem, self.table.lines[self.column(index).index(raw)], index)

    def text(self, *names: str) -> Column | None:
        """The first non-empty of the named columns, row by row; None when none is in the export."""
        present = [self.column(i) for i in map(self.table.column, names) if i is not None]
        if not present:
            return None
        values = list(map(str.strip, present[0]))  # stripped in C; the rest only where a value is empty
        for fallback in present[1:]:
            if "" in values:
                values = [v or w for v, w in zip(values, map(str.strip, fallback), strict=True)]
        return [v or None for v in values] if "" in values else values

    def _mapped(self, index: int, memo: dict[str, Any], convert: Callable[[str], Any]) -> Column:
        """The column through ``memo`` (kept across batches), each value not in it yet converted first."""
        column = self.column(index)
        for raw in dict.fromkeys(column):  # distinct values in file order: the first bad row is the one named
            if raw not in memo:
                memo[raw] = convert(raw)
        return list(map(memo.__getitem__, column))

    def booleans(self, index: int) -> Column:
        def convert(raw: str) -> Any:
            folded = raw.strip().casefold()
            if folded not in ("true", "false", ""):
                raise self.fail(f"expected True or False, found {shown(raw)}", raw, index)
            return ABSENT if not folded else folded == "true"

        return self._mapped(index, self.memos.get("booleans", index, BOOLEANS), convert)

    def flags(self, index: int) -> Column:
        def convert(raw: str) -> Any:
            text = raw.strip()
            if not (text.isascii() and text.isdigit()):
                raise self.fail(f"expected a whole number (userAccountControl flags), found {shown(raw)}", raw,
                                index)
            check_int_text(text, self.table.name, self.table.lines[self.column(index).index(raw)],
                           f"column {self.table.header[index]!r}")
            return int(text)

        return self._mapped(index, self.memos.get("flags", index, {"": ABSENT}), convert)

    def instants(self, index: int) -> Column:
        memo = self.memos.get("instants", index)
        if len(memo) > INSTANT_MEMO:  # mostly distinct (last logons): keep it from growing with the file
            memo.clear()
        try:
            return self.parser.column(self.column(index), memo)
        except BadCell as bad:
            hint = ""
            if YEAR_LAST.match(bad.value.strip()):
                column = self.table.header[index]
                hint = (f"; a date with the year last, as an English-locale Windows writes it, cannot be told "
                        f"from a day-first one: export it as @{{n='{column}';e={{$_.{column}.ToString('s')}}}}")
            raise self.fail(f"expected a date and time such as {INSTANT_FORMS} (or a FileTime integer), "
                            f"found {shown(bad.value)}{bad.why()}{hint}", bad.value, index) from None

    def rids(self, index: int) -> Column:
        """The relative identifier (the last part) of each SID: 500 is the domain's built-in Administrator."""
        def convert(raw: str) -> Any:
            text = raw.strip()
            if not text:
                return ABSENT
            if SID.fullmatch(text) is None:
                raise self.fail(f"expected a SID such as S-1-5-21-1004336348-1177238915-682003330-500, found "
                                f"{shown(raw)}", raw, index)
            rid = text.rsplit("-", 1)[1]
            check_int_text(rid, self.table.name, self.table.lines[self.column(index).index(raw)],
                           f"column {self.table.header[index]!r}")
            return int(rid)

        return self._mapped(index, self.memos.get("rids", index, {"": ABSENT}), convert)

    def groups(self, index: int) -> Column:
        def convert(raw: str) -> list[str]:
            if raw.strip() in COLLECTION_NAMES:
                raise self.fail("the group list was exported as its type name; export it joined: "
                                "Select-Object ...,@{n='MemberOf';e={$_.MemberOf -join ';'}}", raw, index)
            try:
                return group_names(raw)
            except ValueError as exc:
                raise self.fail(f"expected distinguished names such as CN=Domain Admins,CN=Users,DC=example,"
                                f"DC=local joined by ';', found {shown(str(exc))}", raw, index) from None

        # a list of its own for every record
        return list(map(list, self._mapped(index, self.memos.get("groups", index), convert)))


def _facts(cols: _Columns, sam: int) -> tuple[dict[str, Column], set[str]]:
    """Each fact's column of values in the documented key order, and the facts that may be ABSENT."""
    names = [v.strip() for v in cols.column(sam)]
    if "" in names:
        raw = cols.column(sam)[names.index("")]
        raise cols.fail("empty logon name: every account has a SamAccountName", raw, sam)
    facts: dict[str, Column] = {"name": names}
    for key, columns in (("display_name", ("DisplayName", "Name")), ("employee_id", ("EmployeeID", "EmployeeNumber")),
                         ("department", ("Department",))):
        if (values := cols.text(*columns)) is not None:
            if key == "department":  # a handful of names, one string each for the whole file
                shared = cols.memos.get("text", 0)
                values = list(map(shared.setdefault, values, values))
            facts[key] = values
    optional: set[str] = set()
    uac_index = cols.index("userAccountControl")
    uac = cols.flags(uac_index) if uac_index is not None else None

    def flag(key: str, friendly: str, bit: int, invert: bool = False) -> None:
        index = cols.index(friendly)
        raw = None if uac is None else [v if v is ABSENT else bool(v & bit) != invert for v in uac]
        if index is None and raw is None:
            return
        if index is None:
            facts[key] = raw
        else:
            values = cols.booleans(index)
            facts[key] = values if raw is None else [r if v is ABSENT else v for v, r in zip(values, raw, strict=True)]
        optional.add(key)

    def instant(key: str, *names: str) -> None:
        index = cols.index(*names)
        if index is not None:
            facts[key] = cols.instants(index)

    flag("enabled", "Enabled", DISABLED, invert=True)
    instant("created_at", "whenCreated", "Created")
    instant("last_logon_at", "LastLogonDate", "lastLogonTimestamp")
    instant("password_last_set_at", "PasswordLastSet", "pwdLastSet")
    flag("password_never_expires", "PasswordNeverExpires", DONT_EXPIRE_PASSWORD)
    flag("password_not_required", "PasswordNotRequired", PASSWD_NOTREQD)
    flag("reversible_encryption", "AllowReversiblePasswordEncryption", ENCRYPTED_TEXT_PWD_ALLOWED)
    instant("expires_at", "AccountExpirationDate", "accountExpires")
    if (member_of := cols.index("MemberOf")) is not None:
        facts["groups"] = cols.groups(member_of)
    if (sid := cols.index("SID", "objectSid")) is not None:
        facts["rid"] = cols.rids(sid)
        optional.add("rid")
    return facts, optional


def accounts_from(text: str, name: str, zone: timezone) -> list[dict[str, Any]]:
    """The ``directory_accounts`` records of one decoded export, in file order."""
    header, batches = read_csv([text], name)
    return accounts_in(header, batches, zone)


def accounts_in(header: Table, batches: Iterable[Table], zone: timezone) -> list[dict[str, Any]]:
    """The ``directory_accounts`` records of an export's rows, in file order (see :func:`account_batches`)."""
    with paused_gc():
        return [record for found in account_batches(header, batches, zone) for record in found]


def account_batches(header: Table, batches: Iterable[Table], zone: timezone) -> Iterator[list[dict[str, Any]]]:
    """The ``directory_accounts`` records of an export's rows, batch by batch, in file order.

    Each batch of rows becomes records before the next is parsed, so what is held is one batch
    of rows and its records (see csvrows); the logon-name column is required before any row.
    """
    sam = header.require("logon name", "SamAccountName", hint=EXPORT_HINT)
    return _account_batches(sam, batches, _Memos(zone))


def _account_batches(sam: int, batches: Iterable[Table], memos: _Memos) -> Iterator[list[dict[str, Any]]]:
    for table in batches:
        if not table.rows:
            continue
        facts, optional = _facts(_Columns(table, memos), sam)
        batch = records(table, facts)
        for key in optional:
            if ABSENT in facts[key]:
                for record in batch:
                    if record[key] is ABSENT:
                        del record[key]
        yield batch


class ADUsersImporter(LocalTimeImporter):
    name = "ad-users"
    target_kind = "directory"
    description = "Get-ADUser ... | Export-Csv (Active Directory user accounts)"
    columns_owner = "Active Directory"

    def read(self, path: Path, data: bytes, builder: BundleBuilder) -> None:
        self.read_stream(path, io.BytesIO(data), builder)

    def read_stream(self, path: Path, file: BinaryIO, builder: BundleBuilder) -> None:
        """Read the export batch by batch, each batch of records handed to the builder before the next is read."""
        name = str(path)
        opened = TableFile(file, name, workbooks=False)
        mangled = _Mangled(opened)
        with paused_gc():
            batches = account_batches(opened.header, opened.rows, self.zone)
            builder.add_records(AREA, [])  # the area is there for an export without rows too
            for found in batches:
                builder.add_records(AREA, mangled.checked(found))
        encoding, digest = opened.finish()
        add_source(builder, name, f"ad-users ({encoding})", digest, AREA)
        if (note := mangled.note()) is not None:
            builder.add_error(AREA, f"{name}: {note}", name)


MANGLED_TEXT = ("display_name", "department")


class _Mangled:
    """For an export written in ASCII, leave out the names and departments that lost characters.

    Windows PowerShell 5.1's Export-Csv writes ASCII unless told otherwise, and puts a '?' in
    place of each character it cannot write: 石岡 太郎 becomes ``?? ??``. Kept, such names would
    match no roster name and a check by name would pass on nothing; left out, the checks that
    need them say which fact is missing and why.

    Whether the whole file is ASCII is known once it is read, but the records go out batch by
    batch. While every byte read so far is ASCII, what the note says is counted; when a batch
    holds a '?' where a name would be left out, the rest of the file is looked at first (read
    ahead, then the stream goes on where it was) to know now what reading it would tell at the end.
    """

    def __init__(self, opened: TableFile) -> None:
        self.opened = opened
        self.verdict: bool | None = None  # whether the whole file is ASCII, when it had to be known early
        self.dropped = self.names = self.groups = 0

    def checked(self, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The batch, with the mangled names and departments left out if the file is ASCII."""
        stream = self.opened.stream
        if stream is None or not stream.ascii:  # a byte beyond ASCII was read: not an ASCII export
            return found
        self.names += sum("?" in record["name"] for record in found)
        self.groups += sum(any("?" in g for g in record.get("groups", ())) for record in found)
        hits = [record for record in found if any("?" in (record.get(key) or "") for key in MANGLED_TEXT)]
        if hits and self.verdict is None:
            self.verdict = stream.rest_is_ascii()
        if hits and self.verdict:
            for record in hits:
                for key in MANGLED_TEXT:
                    value = record.get(key)
                    if value is not None and "?" in value:
                        del record[key]
                        self.dropped += 1
        return found

    def note(self) -> str | None:
        """What was done (None if nothing), once the file is read."""
        ascii_file = self.opened.ascii
        if self.verdict is not None and self.verdict != ascii_file:
            raise InputError(self.opened.name, "the file changed while it was read; import it again once it is "
                             "complete")
        if not ascii_file or not (self.dropped or self.names or self.groups):
            return None
        lost = [f"{self.dropped} display name(s) and department(s) (left out)"] if self.dropped else []
        lost += [f"{self.names} logon name(s)"] if self.names else []
        lost += [f"the groups of {self.groups} account(s)"] if self.groups else []
        return (f"the export is ASCII, with '?' in place of other characters: {'; '.join(lost)}. Windows "
                "PowerShell 5.1's Export-Csv writes ASCII unless given -Encoding: export again with -Encoding "
                "UTF8")


@register("ad-users")
def ad_users_importer() -> ADUsersImporter:
    return ADUsersImporter()
