"""Property tests of the Windows parsers (``pytest -m fuzz`` runs 10,000 examples of each).

- Any bytes, any text, and the real fixtures mutated (lines repeated, dropped, swapped, values
  replaced with hostile ones, bytes flipped, JSON structures rewritten) given to secedit's
  ``parse_inf``, the net accounts parser, PowerShell's JSON (psjson), the registry snapshots,
  the collection manifest and a whole windows-raw collection zip either parse (into a bundle
  that meets the schemas: see tests/conftest.py) or raise InputError: never another exception.
- A valid secedit export gives the same facts in UTF-16 LE with BOM and UTF-8 with BOM, with
  CRLF or LF line ends, and the facts say what the export says.
- Dates from ConvertTo-Json are None, or an instant with an offset that exists in UTC.
"""

import codecs
import contextlib
import copy
import io
import json
import warnings
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from auditor.evidence.bundle import BundleBuilder
from auditor.evidence.importers import ImportOptions
from auditor.evidence.importers.net_accounts import NetAccountsImporter
from auditor.evidence.importers.net_accounts import facts_from as net_facts
from auditor.evidence.importers.net_accounts import parse as net_parse
from auditor.evidence.importers.secedit import SeceditImporter, facts_from, parse_inf
from auditor.evidence.importers.textio import decode
from auditor.evidence.importers.windows import collection, psjson, registry
from auditor.evidence.importers.windows_raw import WindowsRawImporter
from hypothesis import event, given
from hypothesis import strategies as st

from auditor.errors import InputError

pytestmark = pytest.mark.fuzz

WINDOWS = Path(__file__).resolve().parents[1] / "fixtures" / "windows"
FOLDERS = [WINDOWS / "raw-compliant" / "auditor-raw-LGPC-0101-20261102084107",
           WINDOWS / "raw-weak" / "auditor-raw-LGPC-0217-20261102091530"]
MEMBERS = {folder.name: [(f"{folder.name}\\{p.name}", p.read_bytes()) for p in sorted(folder.iterdir())]
           for folder in FOLDERS}
SECEDIT = [WINDOWS / "secedit-weak.inf", *(folder / "secedit.inf" for folder in FOLDERS)]
NET = [WINDOWS / "net-accounts-ja.txt", WINDOWS / "net-accounts-domain-en.txt",
       *(folder / "net-accounts.txt" for folder in FOLDERS)]
JSONS = sorted({p.name for folder in FOLDERS for p in folder.glob("*.json")})
JST = timezone(timedelta(hours=9))

HOSTILE = ["", " ", "-1", "0", "1", "14", "4294967295", "9" * 41, "9" * 5000, "1_4", "１４", "²", "٣", "--5", "+5",
           "0x0E", "1e3", "NaN", "Infinity", "true", "null", "/Date(1793567560000)/", "/Date(99999999999999999)/",
           "/Date(-62135596800000)/", "/Date(-62135629200000)/", "/Date(253402300799999)/", "/Date(0+9999)/",
           "0001-01-01T00:00:00+09:00", "9999-12-31T23:59:59-09:00", "2026-02-30", "2026/02/30 0:00:00",
           "20260230", "10/15/2026", "なし", "無制限", "しない", "Never", "Unlimited", "None", "[System Access]",
           "[System Access", "=", "==", ";", "[", "]", "{", "}", '"', "\\", "\x00", "\ufeff", "\r", "\t",
           "コマンドは正常に終了しました。", "システム エラー 5 が発生しました。", "Local CMOS Clock", "ソース: ",
           "-" * 79, "HKLM", "HKCU", "Registry64", "FullyEncrypted", "On", "OperatingSystem", "Removable",
           "machine-64", "user", "Block", "NotConfigured", "IPv4", "IPv6", "::1", "fe80::1%12", "300.1.1.1"]
KEYS = ["Name", "name", "NAME", "value", "Count", "Hive", "Path", "Exists", "Values", "Data", "Kind", "Enabled",
        "Caption", "Version", "BuildNumber", "UBR", "CSName", "LastBootUpTime", "InterfaceIndex", "IPAddress",
        "AddressFamily", "LocalAddress", "LocalPort", "MountPoint", "VolumeStatus", "ProtectionStatus",
        "DisplayName", "InstallDate", "Scope", "ObjectClass", "SID", "productState", "displayName", "Id",
        "steps", "status", "file", "started_at", "format", "exit_code"]
HOSTILE_VALUES = st.integers(0, len(HOSTILE) - 1).map(lambda i: HOSTILE[i])  # a short repr in the statistics
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), HOSTILE_VALUES, st.text(max_size=12))
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), inner,
                                                 max_size=4)), max_leaves=8)


# ---------------------------------------------------------------- helpers


def encode(text: str, encoding: str, newline: str = "\r\n") -> bytes:
    """Text in one of the encodings :func:`textio.decode` reports, with the given line ends."""
    text = text.replace("\n", newline)
    if encoding == "utf-16-le":
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le", "surrogatepass")
    if encoding == "utf-16-be":
        return codecs.BOM_UTF16_BE + text.encode("utf-16-be", "surrogatepass")
    if encoding == "utf-8-sig":
        return codecs.BOM_UTF8 + text.encode("utf-8", "surrogatepass")
    return text.encode(encoding, "replace")


def ps51(doc: Any) -> bytes:
    """ConvertTo-Json's layout closely enough: indented, UTF-8 with BOM, CRLF."""
    return encode(json.dumps(doc, ensure_ascii=False, indent=4), "utf-8-sig")


@st.composite
def mutated_text(draw: st.DrawFn, text: str) -> str:
    """A few line-level edits: a line repeated, dropped, swapped or inserted; a value replaced; characters added."""
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 3))):
        if not lines:
            lines = [""]
        at = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["repeat", "drop", "value", "value", "insert", "swap", "chars", "case"]))
        if op == "repeat":
            lines.insert(draw(st.integers(0, len(lines))), lines[at])
        elif op == "drop":
            del lines[at]
        elif op == "value":
            line = lines[at]
            sep = next((s for s in ("=", ":") if s in line), None)
            value = draw(st.one_of(HOSTILE_VALUES, st.text(max_size=8)))
            lines[at] = f"{line.split(sep, 1)[0]}{sep}  {value}" if sep else value
        elif op == "insert":
            lines.insert(at, draw(st.one_of(HOSTILE_VALUES, st.text(max_size=20))))
        elif op == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        elif op == "chars":
            cut = draw(st.integers(0, len(lines[at])))
            lines[at] = lines[at][:cut] + draw(st.text(max_size=4)) + lines[at][cut:]
        else:
            lines[at] = draw(st.sampled_from([str.lower, str.upper, str.swapcase]))(lines[at])
    return "\n".join(lines)


@st.composite
def mutated_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    """A few byte-level edits: a bit flipped, bytes inserted or deleted, the end cut off."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(out)))
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        if op == "flip" and out:
            out[min(at, len(out) - 1)] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del out[at:at + draw(st.integers(1, 16))]
        elif op == "truncate":
            del out[at:]
    return bytes(out)


def _places(doc: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) of a JSON document, depth first."""
    found: list[tuple[Any, Any]] = []
    pending = [doc]
    while pending:
        node = pending.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            found.append((node, key))
            pending.append(value)
    return found


@st.composite
def mutated_json(draw: st.DrawFn, doc: Any) -> Any:
    """A few structural edits: a value replaced or wrapped, a key dropped, renamed or given in another case."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, 3))):
        places = _places(doc)
        if not places:
            return draw(JSON_VALUES)
        node, key = draw(st.sampled_from(places))
        op = draw(st.sampled_from(["replace", "replace", "replace", "drop", "wrap", "case", "rename", "unwrap"]))
        if op == "replace":
            node[key] = draw(JSON_VALUES)
        elif op == "drop":
            del node[key]
        elif op == "wrap":
            node[key] = draw(st.sampled_from([[node[key]], {"value": [node[key]], "Count": 1}, {"value": node[key]}]))
        elif op == "unwrap" and isinstance(node[key], list) and node[key]:
            node[key] = node[key][0]
        elif op in ("case", "rename") and isinstance(node, dict):
            new = key.swapcase() if op == "case" else draw(st.sampled_from(KEYS))
            node[new] = draw(st.one_of(st.just(node[key]), JSON_VALUES))
    return doc


def builder() -> BundleBuilder:
    return BundleBuilder(target_id="t", kind="endpoint", collector_name="fuzz",
                         collected_at="2026-11-02T09:00:00+09:00")


def imported(importer: Any, name: str, data: bytes) -> dict:
    """The bundle ``data`` imports into (checked against the schemas by tests/conftest.py)."""
    made = builder()
    importer.read(Path(name), data, made)
    return made.build()


def windows_raw(data: bytes, name: str = "c.zip") -> dict:
    importer = WindowsRawImporter()
    importer.configure(ImportOptions())
    return imported(importer, name, data)


def zipped(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": two members of one name are meant
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def text_of(path: Path) -> tuple[str, str]:
    return decode(path.read_bytes(), path.name)


ANY_BYTES = st.one_of(st.binary(max_size=300), st.binary(max_size=80).map(lambda b: codecs.BOM_UTF16_LE + b),
                      st.binary(max_size=80).map(lambda b: codecs.BOM_UTF8 + b))
INI_TEXT = st.lists(st.one_of(st.sampled_from(["[System Access]", "[system access]", "[Version]", "[Unicode]",
                                               "MinimumPasswordLength = ", "LockoutBadCount = ", "LockoutDuration =",
                                               "PasswordComplexity=", "MaximumPasswordAge = ", "\n", " ", "; c"]),
                              HOSTILE_VALUES, st.text(max_size=6)), max_size=30).map("".join)
NET_TEXT = st.lists(st.one_of(st.sampled_from(["最小パスワード長:", "Minimum password length:", "ロックアウトしきい値:",
                                               "Lockout threshold:   ", "ロックアウト期間 (分):", "Lockout duration "
                                               "(minutes):", "パスワード有効期間 (日数):", "Force user logoff how long "
                                               "after time expires?:", "コンピューターの役割:", "\n", "   ",
                                               "The request will be processed at a domain controller for domain x."]),
                              HOSTILE_VALUES, st.text(max_size=6)), max_size=30).map("".join)


# ---------------------------------------------------------------- secedit


@given(text=st.one_of(INI_TEXT, st.text(max_size=200)))
def test_any_text_is_a_secedit_export_or_an_input_error(text):
    with contextlib.suppress(InputError):
        facts_from(parse_inf(text, "s.inf"), "s.inf")


def import_a_mutated_fixture(data, fixtures, importer, name):
    """A real fixture mutated as text in its own encoding, or as bytes, or any bytes: imported or refused."""
    path = data.draw(st.sampled_from(fixtures), label="fixture")
    text, encoding = text_of(path)
    raw = data.draw(st.one_of(
        mutated_text(text).map(lambda t: encode(t, encoding)),
        mutated_bytes(path.read_bytes()),
        ANY_BYTES), label="bytes")
    try:
        imported(importer, name, raw)
        event("imported")
    except InputError:
        event("refused")


@given(data=st.data())
def test_mutated_secedit_exports_import_or_raise_input_error(data):
    import_a_mutated_fixture(data, SECEDIT, SeceditImporter(), "s.inf")


ACCESS_KEYS = ["MinimumPasswordAge", "MaximumPasswordAge", "MinimumPasswordLength", "PasswordComplexity",
               "PasswordHistorySize", "LockoutBadCount", "ResetLockoutCount", "LockoutDuration", "ClearTextPassword"]


@given(values=st.dictionaries(st.sampled_from(ACCESS_KEYS), st.integers(0, 10 ** 12)),
       never=st.sets(st.sampled_from(["MaximumPasswordAge", "LockoutDuration"])),
       spaced=st.booleans(), keys_case=st.sampled_from([str, str.lower, str.upper]))
def test_a_valid_secedit_export_gives_the_same_facts_in_every_encoding_windows_writes(values, never, spaced,
                                                                                      keys_case):
    values.update(dict.fromkeys(never, -1))  # never expires; locked until an administrator unlocks
    for flag in ("PasswordComplexity", "ClearTextPassword"):
        if flag in values:
            values[flag] %= 2
    sep = " = " if spaced else "="
    text = "\n".join(["[Unicode]", "Unicode=yes", "[System Access]",
                      *(f"{keys_case(key)}{sep}{value}" for key, value in values.items()),
                      'NewAdministratorName = "Administrator"', "[Event Audit]", "AuditLogonEvents = 3",
                      "[Version]", 'signature="$CHICAGO$"', "Revision=1", ""])
    facts = [imported(SeceditImporter(), "s.inf", encode(text, encoding, newline))["facts"]
             for encoding in ("utf-16-le", "utf-8-sig") for newline in ("\r\n", "\n")]
    assert facts[1:] == facts[:1] * 3
    policy = facts[0]["password_policy"]
    if "MinimumPasswordLength" in values:
        assert policy["min_length"] == values["MinimumPasswordLength"]
    if "LockoutBadCount" in values:
        assert facts[0]["lockout_policy"]["threshold"] == values["LockoutBadCount"]
    else:
        assert "lockout_policy" not in facts[0]


# ---------------------------------------------------------------- net accounts


@given(text=st.one_of(NET_TEXT, st.text(max_size=200)))
def test_any_text_is_net_accounts_output_or_an_input_error(text):
    with contextlib.suppress(InputError):
        net_facts(net_parse(text, "n.txt"), "n.txt")


@given(data=st.data())
def test_mutated_net_accounts_outputs_import_or_raise_input_error(data):
    import_a_mutated_fixture(data, NET, NetAccountsImporter(), "n.txt")


# ---------------------------------------------------------------- ConvertTo-Json, registry snapshots, manifest


@given(data=st.data())
def test_any_bytes_are_powershell_json_or_an_input_error(data):
    name = data.draw(st.sampled_from(JSONS), label="file")
    raw = MEMBERS[FOLDERS[0].name]
    original = dict((n.split("\\")[-1], b) for n, b in raw).get(name) or \
        (FOLDERS[1] / name).read_bytes()
    text, _encoding = decode(original, name)
    candidate = data.draw(st.one_of(
        ANY_BYTES, mutated_bytes(original), mutated_text(text).map(lambda t: encode(t, "utf-8-sig")),
        st.lists(st.sampled_from(['{', '}', '[', ']', ',', ':', '"a"', '"A"', '1', "9" * 50, "null", " ", "\n"]),
                 max_size=40).map(lambda parts: "".join(parts).encode())), label="bytes")
    with contextlib.suppress(InputError):
        psjson.load(candidate, name)


@given(value=st.one_of(
    st.integers().map(lambda n: f"/Date({n})/"),
    st.tuples(st.integers(-62135596800000 - 10 ** 6, 253402300799999 + 10 ** 6), st.sampled_from(["+", "-"]),
              st.integers(0, 99), st.integers(0, 99)).map(lambda t: f"/Date({t[0]}{t[1]}{t[2]:02d}{t[3]:02d})/"),
    st.builds(lambda moment, minutes: moment.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat(),
              st.datetimes(), st.integers(-1439, 1439)),
    st.datetimes().map(datetime.isoformat),
    SCALARS, JSON_VALUES),
    minutes=st.integers(-1439, 1439))
def test_convertto_json_dates_are_none_or_instants_that_exist_in_utc(value, minutes):
    try:
        found = psjson.instant(value, timezone(timedelta(minutes=minutes)), "d.json", "When")
    except InputError:
        return
    if found is not None:
        moment = datetime.fromisoformat(found)
        assert moment.tzinfo is not None
        moment.astimezone(UTC)  # no OverflowError: it can be compared with any other instant


HIVES = st.sampled_from(["HKLM", "HKCU", "hklm", "HKU", ""])
PATHS = st.sampled_from([registry.USBSTOR, registry.REMOVABLE, f"{registry.REMOVABLE}\\{registry.REMOVABLE_DISK_CLASS}",
                         registry.RESTRICTIONS, registry.RESTRICTIONS + "\\AllowDeviceIDs",
                         registry.RESTRICTIONS + "\\AllowInstanceIDs", registry.MACHINE_SYSTEM_POLICY,
                         registry.DESKTOP_POLICY, registry.TERMINAL_SERVER, registry.TS_POLICY,
                         registry.TS_POLICY.lower()])
VALUE_NAMES = st.sampled_from(["Start", "Deny_All", "Deny_Read", "Deny_Write", "DenyUnspecified",
                               "DenyRemovableDevices", "InactivityTimeoutSecs", "ScreenSaveTimeOut",
                               "ScreenSaverIsSecure", "ScreenSaveActive", "fDenyTSConnections", "fDisableClip",
                               "fEnableSmartCard", "1", "2", "10", "²", "start"])
REG_KEY = st.fixed_dictionaries({"Hive": st.one_of(HIVES, SCALARS), "Path": st.one_of(PATHS, SCALARS),
                                 "Exists": st.one_of(st.booleans(), SCALARS),
                                 "Values": st.one_of(st.lists(st.fixed_dictionaries(
                                     {"Name": st.one_of(VALUE_NAMES, SCALARS),
                                      "Data": st.one_of(SCALARS, st.lists(SCALARS, max_size=2))}), max_size=4),
                                     SCALARS)})


@given(doc=st.one_of(st.lists(REG_KEY, max_size=6), JSON_VALUES), desktop=st.sampled_from([None, True, False]))
def test_registry_snapshots_give_their_areas_or_an_input_error(doc, desktop):
    try:
        snapshot = registry.Snapshot(doc, "r.json")
    except InputError:
        return
    for area in (registry.removable_media, lambda s: registry.screen_lock(s, desktop), registry.remote_desktop):
        with contextlib.suppress(InputError):
            json.dumps(area(snapshot))


MANIFEST = json.loads((FOLDERS[0] / "manifest.json").read_bytes().decode("utf-8-sig"))


@given(data=st.data())
def test_any_manifest_is_read_or_an_input_error(data):
    raw = (FOLDERS[0] / "manifest.json").read_bytes()
    candidate = data.draw(st.one_of(ANY_BYTES, mutated_bytes(raw), mutated_json(MANIFEST).map(ps51),
                                    mutated_text(decode(raw, "m")[0]).map(lambda t: encode(t, "utf-8-sig"))),
                          label="manifest")
    with contextlib.suppress(InputError):
        collection.parse_manifest(candidate, "manifest.json")


# ---------------------------------------------------------------- a whole collection, from a zip


@st.composite
def mutated_member(draw: st.DrawFn, name: str, raw: bytes) -> bytes:
    if name.endswith(".json"):
        try:
            doc = json.loads(raw.decode("utf-8-sig"))
        except ValueError:
            doc = None
        if doc is not None and draw(st.booleans()):
            return ps51(draw(mutated_json(doc)))
    try:
        text, encoding = decode(raw, name)
    except InputError:  # a member an earlier edit made undecodable
        return draw(mutated_bytes(raw))
    if draw(st.integers(0, 3)) == 0:
        return draw(mutated_bytes(raw))
    return encode(draw(mutated_text(text)), draw(st.sampled_from([encoding, encoding, "utf-8", "utf-16-le"])))


@st.composite
def mutated_collection(draw: st.DrawFn) -> bytes:
    members = list(MEMBERS[draw(st.sampled_from(sorted(MEMBERS)))])
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(members) - 1))
        name, raw = members[at]
        op = draw(st.sampled_from(["member"] * 15 + ["drop", "rename", "again", "outside", "nested"]))
        if op == "member":
            members[at] = (name, draw(mutated_member(name, raw)))
        elif op == "drop":
            del members[at]
        elif op == "rename":
            members[at] = (draw(st.sampled_from([name.upper(), name.replace("\\", "/"), name + ".bak",
                                                 name.split("\\")[-1]])), raw)
        elif op == "again":
            members.append((draw(st.sampled_from([name, name.upper()])), raw))
        elif op == "outside":
            members.append((draw(st.sampled_from(["../x.txt", "/etc/x", "C:\\x", name.split("\\")[0] + "\\..\\x"])),
                            raw))
        else:
            members.append((name.replace("\\", "\\sub\\"), raw))
        if not members:
            break
    data = zipped(members)
    if draw(st.integers(0, 19)) == 0:
        data = draw(mutated_bytes(data))
    return data


@given(data=st.one_of(mutated_collection(), ANY_BYTES.map(lambda b: b"PK\x03\x04" + b)))
def test_a_mutated_collection_zip_imports_or_raises_input_error(data):
    try:
        bundle = windows_raw(data)
    except InputError:
        event("refused")
    else:
        event(f"imported, {len(bundle['errors'])} errors recorded" if bundle["errors"] else "imported")
