"""Property tests of the tabular parsers (``pytest -m fuzz`` runs 10,000 examples of each).

- Any bytes given to an importer either import (into a bundle that meets the schemas: see
  tests/conftest.py) or raise InputError: never another exception.
- A valid export gives the same facts in every encoding Windows writes (UTF-16 LE with BOM,
  CP932, UTF-8 with and without BOM), with CRLF line ends.
- Decoding a file as a stream, block by block, gives the text decoding it whole gives, and
  parsing the text piece by piece gives the records parsing it whole gives.
"""

import codecs
import contextlib
import io
from pathlib import Path

import pytest
from auditor.evidence.bundle import BundleBuilder
from auditor.evidence.importers import ImportOptions, load
from auditor.evidence.importers.csvrows import csv_batches, csv_records
from auditor.evidence.importers.textio import TextStream, decode
from hypothesis import given
from hypothesis import strategies as st

from auditor.errors import InputError

pytestmark = pytest.mark.fuzz

KINDS = ("ad-users", "hr-roster", "training", "hotfix", "auditpol")
HEADERS = {
    "ad-users": ["SamAccountName", "Name", "DisplayName", "EmployeeID", "Department", "Enabled", "LastLogonDate",
                 "PasswordLastSet", "PasswordNeverExpires", "userAccountControl", "lastLogonTimestamp", "pwdLastSet",
                 "accountExpires", "AccountExpirationDate", "whenCreated", "MemberOf"],
    "hr-roster": ["職員番号", "employee_id", "氏名", "所属", "在職区分", "発令日"],
    "training": ["職員番号", "staff_id", "研修名", "受講日", "修了"],
    "hotfix": ["HotFixID", "Description", "InstalledOn", "Caption"],
    "auditpol": ["Machine Name", "Policy Target", "Subcategory", "Subcategory GUID", "Inclusion Setting",
                 "Exclusion Setting"],
}
CELLS = ["", " ", "True", "False", "true", "x", "0", "1", "512", "66048", "9223372036854775807", "1" * 45, "9" * 4400,
         "133750000000000000", "2026/11/02 8:41:07", "2026-11-02T08:41:07+09:00", "0001-01-01 00:00:00",
         "9999-12-31T23:59:59-05:00", "9999-12-31 23:59:59", "2026-02-30", "10/15/2026", "10/15/2026 12:00:00 AM",
         "令和7年4月1日", "R7.4.1", "平成31年4月30日", "令和1年4月30日", "45748", "20260401", "在職", "退職", "修了",
         "未修了", "○", "CN=Domain Admins,CN=Users,DC=k,DC=local", "CN=a\\,b,DC=x;CN=c", "CN=", "System.Object[]",
         "Security Update", "Update", "KB5031356", "成功", "失敗", "成功および失敗", "No Auditing", "Success",
         "{0CCE9215-69AE-11D9-BED3-505054503030}", "0CCE9215-69AE-11D9-BED3-505054503030", "Option:CrashOnAuditFail",
         "石岡 太郎", "?? ??", "情報政策課", '"', '""', ",", "\n", "\r", "\t", ";", "#TYPE x", "\x00", "\ufeff"]
TIMES = ["", "2026/11/02 8:41:07", "2026-11-02T08:41:07+09:00", "133750000000000000", "0", "10/15/2026",
         "0001-01-01 00:00:00", "9999-12-31T23:59:59-05:00", "2026/2/30 0:00:00", "9" * 4400]
DAYS = ["", "2026/4/1", "令和7年4月1日", "R7.4.1", "令和1年4月30日", "45748", "20260401", "2026-02-30", "x"]
FITTING = {  # cells that a column of that name reads
    "SamAccountName": ["a", "b", "石岡", ""], "Enabled": ["True", "False", ""], "PasswordNeverExpires": ["True", "x"],
    "userAccountControl": ["512", "66050", "", "x", "9" * 4400], "MemberOf": ["CN=a,DC=b", "CN=a\\,b,DC=x;CN=c",
                                                                             "CN=", "System.Object[]", ""],
    "LastLogonDate": TIMES, "PasswordLastSet": TIMES, "lastLogonTimestamp": TIMES, "pwdLastSet": TIMES,
    "accountExpires": TIMES, "AccountExpirationDate": TIMES, "whenCreated": TIMES, "InstalledOn": TIMES,
    "職員番号": ["1", "001", "", "9" * 50], "employee_id": ["2"], "staff_id": ["3"],
    "在職区分": ["在職", "退職", "x", ""],
    "発令日": DAYS, "受講日": DAYS, "修了": ["修了", "未修了", "○", "", "x"], "研修名": ["情報セキュリティ", ""],
    "HotFixID": ["KB1", "KB2", ""], "Description": ["Update", "Security Update", ""],
    "Subcategory": ["Logon", "Option:CrashOnAuditFail", ""],
    "Subcategory GUID": ["{0CCE9215-69AE-11D9-BED3-505054503030}", "0cce9216-69ae-11d9-bed3-505054503030", "", "x"],
    "Inclusion Setting": ["Success", "成功および失敗", "No Auditing", "x"], "Machine Name": ["PC-1"],
    "Policy Target": ["System"], "Exclusion Setting": [""],
}
ENCODINGS = [lambda t: t.encode("utf-8"), lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
             lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"), lambda t: t.encode("cp932", "replace")]


def run(kind: str, data: bytes, name: str = "export.csv") -> dict:
    """Import ``data`` as one file of ``kind``: the bundle, or the InputError raised."""
    importer = load(kind)()
    configure = getattr(importer, "configure", None)
    if configure is not None:
        configure(ImportOptions())
    builder = BundleBuilder(target_id="t", kind=importer.target_kind, collector_name="fuzz",
                            collected_at="2026-11-02T09:00:00+09:00")
    importer.read(Path(name), data, builder)
    return builder.build()


REQUIRED = {"ad-users": ["SamAccountName"], "hr-roster": ["職員番号", "在職区分"], "training": ["職員番号", "研修名"],
            "hotfix": ["HotFixID", "InstalledOn"], "auditpol": HEADERS["auditpol"]}


@st.composite
def csvish(draw: st.DrawFn, kind: str, max_rows: int = 5) -> bytes:
    """Text shaped like the kind's export (its header names, cells that reach each parser), in any encoding.

    The header mostly has the columns the import requires (so that the rows are read), in any order,
    sometimes with one left out or given twice; the rows mostly have the header's width."""
    spellings = {"employee_id", "staff_id"} if draw(st.integers(0, 9)) else set()  # alternatives, now and then
    others = [h for h in HEADERS[kind] if h not in REQUIRED[kind] and h not in spellings]
    names = REQUIRED[kind] + draw(st.lists(st.sampled_from(others), unique=True, max_size=4)) if others else \
        list(REQUIRED[kind])
    if kind != "auditpol":
        names = draw(st.permutations(names))
    change = draw(st.sampled_from(["none"] * 18 + ["drop", "twice"]))
    if change == "drop":
        names = names[1:] or names
    elif change == "twice":
        names = [*names, draw(st.sampled_from(names))]
    width = len(names)
    fitting = st.tuples(*(st.one_of(st.sampled_from(FITTING.get(n, CELLS)), st.sampled_from(CELLS)) for n in names))
    any_width = st.lists(st.sampled_from(CELLS), max_size=width + 1)
    rows = draw(st.lists(st.one_of(*[fitting.map(list)] * 6, any_width), max_size=max_rows))
    quote = draw(st.booleans())

    def line(cells: list[str]) -> str:
        return ",".join('"' + c.replace('"', '""') + '"' if quote else c for c in cells)

    text = draw(st.sampled_from([""] * 6 + ["#TYPE Selected.Microsoft.ActiveDirectory.Management.ADUser\r\n",
                                           "題名\r\n"]))
    text += "\r\n".join([line(names), *map(line, rows)]) + draw(st.sampled_from(["", "\r\n", "\n"]))
    return draw(st.sampled_from(ENCODINGS))(text)


ANY_BYTES = st.one_of(st.binary(max_size=200), st.binary(max_size=60).map(lambda b: b"PK\x03\x04" + b))


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_any_bytes_import_or_raise_input_error(kind, data):
    raw = data.draw(st.one_of(ANY_BYTES, csvish(kind)), label="bytes")
    with contextlib.suppress(InputError):
        run(kind, raw)


# ---------------------------------------------------------------- one export, every encoding

SAFE = "石岡太郎水戸健情報政策課総務税あいうアイウ abcXYZ019-_."  # round-trips through CP932
TEXT = st.text(alphabet=SAFE + ',"\n', min_size=1, max_size=8).filter(str.strip)
NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._", min_size=1, max_size=8)
INSTANT = st.builds(lambda y, m, d, h, mi, s: f"{y}/{m}/{d} {h}:{mi:02d}:{s:02d}", st.integers(1990, 2030),
                    st.integers(1, 12), st.integers(1, 28), st.integers(0, 23), st.integers(0, 59), st.integers(0, 59))
DATE = st.one_of(st.builds(lambda y, m, d: f"{y}/{m}/{d}", st.integers(1990, 2030), st.integers(1, 12),
                           st.integers(1, 28)),
                 st.builds(lambda y, m, d: f"令和{y}年{m}月{d}日", st.integers(2, 12), st.integers(1, 12),
                           st.integers(1, 28)))


def quoted(cells: list[str]) -> str:
    return ",".join('"' + c.replace('"', '""') + '"' for c in cells)


@st.composite
def valid_export(draw: st.DrawFn, kind: str, max_rows: int = 4) -> str:
    """A valid export of the kind as text with CRLF (every field quoted, as PowerShell writes them)."""
    count = draw(st.integers(0, max_rows))
    if kind == "ad-users":
        header = ["SamAccountName", "DisplayName", "Department", "Enabled", "LastLogonDate", "MemberOf"]
        rows = [[draw(NAMES), draw(TEXT), draw(TEXT), draw(st.sampled_from(["True", "False", ""])),
                 draw(st.one_of(st.just(""), INSTANT)),
                 draw(st.sampled_from(["", "CN=Domain Users,CN=Users,DC=k,DC=local", "CN=情報政策課,DC=k"]))]
                for _ in range(count)]
    elif kind == "hr-roster":
        header = ["職員番号", "氏名", "所属", "在職区分", "発令日"]
        rows = [[str(draw(st.integers(1, 99999))), draw(TEXT), draw(TEXT), draw(st.sampled_from(["在職", "退職", "休職",
                 "定年退職"])), draw(DATE)] for _ in range(count)]
    elif kind == "training":
        header = ["職員番号", "研修名", "受講日", "修了"]
        rows = [[str(draw(st.integers(1, 99999))), draw(TEXT), draw(DATE),
                 draw(st.sampled_from(["修了", "未修了", ""]))] for _ in range(count)]
    elif kind == "hotfix":
        header = ["HotFixID", "Description", "InstalledOn"]
        rows = [[f"KB{draw(st.integers(1000000, 9999999))}", draw(st.sampled_from(["Update", "Security Update"])),
                 draw(st.one_of(st.just(""), INSTANT))] for _ in range(count)]
    else:
        header = ["Machine Name", "Policy Target", "Subcategory", "Subcategory GUID", "Inclusion Setting",
                  "Exclusion Setting"]
        guids = draw(st.lists(st.integers(0, 0xFFFFFFFF), min_size=1, max_size=4, unique=True))
        rows = [["PC-1", "System", draw(TEXT), f"{{{g:08X}-69AE-11D9-BED3-505054503030}}",
                 draw(st.sampled_from(["成功", "失敗", "成功および失敗", "監査なし", "Success"])), ""] for g in guids]
    return "".join(quoted(r) + "\r\n" for r in [header, *rows])


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_a_valid_export_gives_the_same_facts_in_every_encoding(kind, data):
    text = data.draw(valid_export(kind), label="export")
    facts = [run(kind, encode(text))["facts"] for encode in
             (lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"), lambda t: t.encode("cp932"),
              lambda t: codecs.BOM_UTF8 + t.encode("utf-8"), lambda t: t.encode("utf-8"))]
    assert facts[1:] == facts[:1] * 3


# ---------------------------------------------------------------- streaming and whole-file reading agree

TEXTLIKE = st.lists(st.sampled_from([b"a", b",", b'"', b"\n", b"\r", b"\r\n", "職".encode("cp932"), "職".encode(),
                                     "é".encode(), b"\xff", b"\x82", b"\x00", codecs.BOM_UTF8]),
                    max_size=40).map(b"".join)
WITH_BOM = st.tuples(st.sampled_from([b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE]),
                     st.one_of(TEXTLIKE, st.binary(max_size=80))).map(b"".join)


def outcome(read) -> tuple:
    try:
        return ("ok", *read())
    except InputError as exc:
        return ("error", exc.line, exc.problem)


@given(data=WITH_BOM, block_size=st.integers(1, 64))
def test_decoding_as_a_stream_gives_the_whole_files_text(data, block_size):
    whole = outcome(lambda: decode(data, "x.csv"))
    stream = TextStream(io.BytesIO(data), "x.csv", block_size)
    streamed = outcome(lambda: (stream.text(), stream.encoding))
    if streamed[0] == "error" and "mixes encodings" in streamed[2]:
        # UTF-8 for a whole block, then not: decoded whole, all of it is read as CP932 (or refused)
        assert whole[0] == "error" or whole[2] == "cp932"
    else:
        assert streamed == whole
    if streamed[0] == "ok":
        assert stream.digest.size == len(data) and stream.ascii == data.isascii()
    one_block = TextStream(io.BytesIO(data), "x.csv", max(len(data), 1))
    assert outcome(lambda: (one_block.text(), one_block.encoding)) == whole


CSV_TEXT = st.lists(st.sampled_from(["a", "b", ",", '"', '""', "\n", " ", "職", "\x00"]), max_size=40).map("".join)


@given(text=CSV_TEXT, sizes=st.lists(st.integers(1, 12), min_size=1, max_size=20))
def test_parsing_in_pieces_gives_the_whole_texts_records(text, sizes):
    pieces, rest = [], text
    for size in sizes * (len(text) + 1):  # cut after the first line end at or past each size
        if not rest:
            break
        end = rest.find("\n", size - 1) + 1 or len(rest)
        pieces.append(rest[:end])
        rest = rest[end:]
    whole = outcome(lambda: csv_records(text, "t.csv"))

    def streamed():
        records, lines = [], []
        for more, at in csv_batches(pieces, "t.csv"):
            records += more
            lines += at
        return records, lines

    assert outcome(streamed) == whole


@pytest.mark.parametrize("kind", ["ad-users", "hotfix"])
@given(data=st.data(), block_size=st.integers(1, 64))
def test_an_export_read_in_small_batches_gives_the_records_read_whole(kind, data, block_size):
    # Batches are cut wherever the blocks fall; what is remembered from batch to batch (flags, groups,
    # departments, instants) must not change a record, nor whether the file is refused.
    from datetime import timedelta, timezone

    from auditor.evidence.importers.ad_users import accounts_in
    from auditor.evidence.importers.csvrows import Instants, read_csv
    from auditor.evidence.importers.hotfix import hotfixes_from

    # more rows than the header search reads at once (11), so that later rows come in batches of their own
    raw = data.draw(st.one_of(csvish(kind, max_rows=20), valid_export(kind, max_rows=20).map(str.encode)),
                    label="export")
    zone = timezone(timedelta(hours=9))

    def read(size: int):
        header, batches = read_csv(TextStream(io.BytesIO(raw), "e.csv", size).pieces(), "e.csv")
        if kind == "ad-users":
            return (accounts_in(header, batches, zone),)
        parser = Instants(zone)
        header.require("update id", "HotFixID")
        header.require("install date", "InstalledOn")
        return ([h for batch in batches for h in hotfixes_from(batch, parser)],)

    expected = outcome(lambda: read(len(raw) + 1))  # the whole file in one piece: one batch
    found = outcome(lambda: read(block_size))
    if found[0] == "error" and "mixes encodings" in found[2]:
        return
    if found[0] == expected[0] == "error":
        # the same file is refused; with two problems in it, the one met first may depend on the batches
        # (each batch's rows are checked column by column before the next batch is read)
        assert found[1] is not None and expected[1] is not None
        return
    assert found == expected
