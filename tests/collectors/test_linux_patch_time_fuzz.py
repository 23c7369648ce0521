"""Property tests of the patch-history and time-sync parsers (``pytest -m fuzz`` runs 10,000 examples each).

Each parser reads what a host wrote, which may be damaged, truncated or hostile: arbitrary
text (any unicode but lone surrogates, binary junk, very long lines, real lines cut and
spliced) must give the documented outcome — a parsed value or "unknown" (None, {}) — and
nothing else; and generated well-formed input must parse to what it says.
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from auditor.evidence.collectors.linux.rotated import gunzip, rotation_number
from auditor.evidence.collectors.linux.timesync import (
    parse_chrony_tracking,
    parse_ntpq_peers,
    parse_ntpstat,
    parse_timedatectl,
    parse_timespan,
    timesyncd_state,
)
from auditor.evidence.collectors.linux.updates import (
    last_apt_upgrade,
    last_dnf_upgrade,
    last_dpkg_upgrade,
    local_instant,
)
from hypothesis import given
from hypothesis import strategies as st
from linux_support import area_problems, fixture_text

pytestmark = pytest.mark.fuzz

REAL_LINES = [line for name in ("patch-history/debian/var/log/dpkg.log.2", "patch-history/debian/var/log/dpkg.log.1",
                                "patch-history/debian/var/log/apt/history.log.1",
                                "patch-history/rhel/var/log/dnf.rpm.log.1", "commands/chronyc-n-tracking.txt",
                                "commands/chronyc-tracking.csv", "commands/ntpq-pn.txt",
                                "commands/ntpq-pn-wrapped.txt", "commands/ntpstat.txt",
                                "commands/timedatectl-show.txt")
              for line in fixture_text(name).splitlines()]


@st.composite
def spliced(draw: st.DrawFn) -> str:
    """Real lines, some cut, some with junk inserted: the near misses a damaged log holds."""
    lines = draw(st.lists(st.sampled_from(REAL_LINES), max_size=12))
    out = []
    for line in lines:
        cut = draw(st.integers(0, len(line)))
        junk = draw(st.text(max_size=5))
        out.append(draw(st.sampled_from([line, line[:cut], line[:cut] + junk + line[cut:]])))
    return "\n".join(out)


JUNK = st.one_of(
    st.text(),  # any unicode (Hypothesis leaves lone surrogates out)
    st.binary().map(lambda b: b.decode("utf-8", "replace")),  # as read_text decodes junk bytes
    st.binary().map(lambda b: b.decode("latin-1")),  # control characters, NUL, form feeds
    st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=3), st.integers(1_000, 60_000)),  # very long lines
    spliced(),
)
TEXTS = st.lists(JUNK, max_size=3)


def _is_time(value: object, aware: bool) -> bool:
    return value is None or (isinstance(value, datetime) and (value.tzinfo is not None) == aware)


# --- patches: dpkg.log, apt history.log, dnf.rpm.log -------------------------------------------

@given(TEXTS)
def test_dpkg_log_junk_gives_a_naive_time_or_none(texts: list[str]) -> None:
    assert _is_time(last_dpkg_upgrade(texts), aware=False)


@given(TEXTS)
def test_apt_history_junk_gives_a_naive_time_or_none(texts: list[str]) -> None:
    assert _is_time(last_apt_upgrade(texts), aware=False)


@given(TEXTS)
def test_dnf_rpm_log_junk_gives_an_aware_time_or_none(texts: list[str]) -> None:
    assert _is_time(last_dnf_upgrade(texts), aware=True)


START = datetime(2026, 1, 1, 0, 0, 0)
DPKG_KINDS = ("install", "upgrade", "unfinished", "reinstall", "remove")


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S")


def _dpkg_event(kind: str, package: str, serial: int, when: datetime) -> list[str]:
    """The lines dpkg writes for one operation (versions unique per operation)."""
    t, old, new = _stamp(when), f"1.{serial}-1", f"1.{serial}-2"
    if kind == "install":
        return [f"{t} startup archives unpack", f"{t} install {package} <none> {new}",
                f"{t} status half-installed {package} {new}", f"{t} status unpacked {package} {new}",
                f"{t} configure {package} {new} <none>", f"{t} status installed {package} {new}"]
    if kind == "remove":
        return [f"{t} startup packages remove", f"{t} remove {package} {old} <none>",
                f"{t} status not-installed {package} <none>"]
    if kind == "reinstall":
        old = new
    lines = [f"{t} upgrade {package} {old} {new}", f"{t} status half-configured {package} {old}",
             f"{t} status unpacked {package} {old}", f"{t} status half-installed {package} {old}",
             f"{t} status unpacked {package} {new}"]
    if kind != "unfinished":
        lines += [f"{t} configure {package} {new} <none>", f"{t} status half-configured {package} {new}",
                  f"{t} status installed {package} {new}"]
    return lines


@given(st.lists(st.tuples(st.sampled_from(DPKG_KINDS), st.sampled_from(["openssl:amd64", "tzdata:all", "htop"]),
                          st.integers(1, 10**6)), max_size=20),
       st.lists(st.integers(0, 200), max_size=3))
def test_generated_dpkg_logs_parse_to_their_newest_completed_upgrade(events, cuts) -> None:
    lines, when, expected = [], START, None
    for serial, (kind, package, step) in enumerate(events):
        when += timedelta(seconds=step)
        lines += _dpkg_event(kind, package, serial, when)
        if kind == "upgrade":
            expected = when
    bounds = sorted({min(c, len(lines)) for c in cuts})  # rotations cut anywhere, read oldest first
    files = ["\n".join(lines[a:b]) + "\n" for a, b in zip([0, *bounds], [*bounds, len(lines)], strict=True)]
    assert last_dpkg_upgrade(files) == expected


APT_KINDS = ("install", "upgrade", "error", "interrupted", "reinstall", "install+upgrade")


def _apt_entry(kind: str, serial: int, start: datetime, end: datetime) -> str:
    s, e = start.strftime("%Y-%m-%d  %H:%M:%S"), end.strftime("%Y-%m-%d  %H:%M:%S")
    lines = [f"Start-Date: {s}", f"Commandline: apt-get -y {kind}"]
    if kind in ("install", "install+upgrade"):
        lines.append(f"Install: new{serial}:amd64 (1.{serial}-1), libnew{serial}:amd64 (1.{serial}-1, automatic)")
    if kind in ("upgrade", "error", "interrupted", "install+upgrade"):
        lines.append(f"Upgrade: openssl:amd64 (3.0.{serial}-1~deb12u1, 3.0.{serial}-1~deb12u2), "
                     f"libssl3:amd64 (3.0.{serial}-1~deb12u1, 3.0.{serial}-1~deb12u2)")
    if kind == "reinstall":
        lines.append(f"Reinstall: tzdata:all (2025b-0+deb12u{serial})")
    if kind == "error":
        lines.append("Error: Sub-process /usr/bin/dpkg returned an error code (1)")
    if kind != "interrupted":
        lines.append(f"End-Date: {e}")
    return "\n".join(lines) + "\n"


@given(st.lists(st.tuples(st.sampled_from(APT_KINDS), st.integers(0, 10**5), st.integers(0, 3600)), max_size=15))
def test_generated_apt_history_parses_to_its_newest_finished_upgrade(entries) -> None:
    texts, when, expected = [], START, None
    for serial, (kind, gap, duration) in enumerate(entries):
        start = when + timedelta(seconds=gap)
        when = start + timedelta(seconds=duration)
        texts.append("\n" + _apt_entry(kind, serial, start, when))
        if kind in ("upgrade", "install+upgrade"):
            expected = when
    assert last_apt_upgrade(["".join(texts)]) == expected


DNF_ACTIONS = ("Upgrade", "Upgraded", "Installed", "Reinstall", "Reinstalled", "Downgrade", "Downgraded", "Erase")
OFFSETS = {"+0000": UTC, "+00": UTC, "Z": UTC, "+0900": timezone(timedelta(hours=9)),
           "-05:00": timezone(timedelta(hours=-5))}


@given(st.lists(st.tuples(st.sampled_from(DNF_ACTIONS), st.sampled_from(sorted(OFFSETS)),
                          st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1))),
                max_size=15))
def test_generated_dnf_rpm_log_parses_to_its_newest_upgrade(lines) -> None:
    text = "".join(f"{when.strftime('%Y-%m-%dT%H:%M:%S')}{offset} SUBDEBUG {action}: pkg-1:2.3-4.el9.x86_64\n"
                   for action, offset, when in lines)
    upgrades = [when.replace(microsecond=0, tzinfo=OFFSETS[offset]) for action, offset, when in lines
                if action == "Upgrade"]
    assert last_dnf_upgrade(["2026-01-01T00:00:00+0000 INFO --- logging initialized ---\n" + text]) == (
        max(upgrades, default=None))


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
       st.sampled_from([None, UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))]))
def test_local_instant_is_an_instant_or_none(when: datetime, zone) -> None:
    instant = local_instant(when.replace(tzinfo=zone))
    assert instant is None or area_problems("patches", {"last_installed_at": instant}) == {}


# --- rotations ------------------------------------------------------------------------------

@given(st.binary())
def test_gunzip_of_junk_is_text_or_none(data: bytes) -> None:
    assert gunzip(data) is None or isinstance(gunzip(data), str)


@given(st.text(), st.integers(0, 3))
def test_gunzip_reads_what_gzip_wrote(text: str, members: int) -> None:
    data = b"".join(gzip.compress(text.encode(), mtime=0) for _ in range(members + 1))
    assert gunzip(data) == text * (members + 1)
    if text:  # one byte over the limit is refused, not cut short
        assert gunzip(data, limit=len(text.encode()) * (members + 1) - 1) is None


@given(st.text(), st.integers(0, 9999), st.booleans())
def test_rotation_numbers(name: str, number: int, gz: bool) -> None:
    assert rotation_number("dpkg.log", f"dpkg.log.{number}" + (".gz" if gz else "")) == number
    found = rotation_number("dpkg.log", name)
    assert found is None or (0 <= found <= 9999 and name.startswith("dpkg.log."))


# --- time sync: timedatectl, chronyc, ntpq, ntpstat, timesyncd ---------------------------------

def _valid_time_sync(found: dict) -> bool:
    return area_problems("time_sync", found) == {}


@given(JUNK)
def test_timedatectl_junk(text: str) -> None:
    found = parse_timedatectl(text)
    assert set(found) <= {"synchronized", "ntp_enabled", "timezone"} and _valid_time_sync(found)


@given(st.dictionaries(st.sampled_from(["NTPSynchronized", "NTP", "CanNTP", "LocalRTC"]),
                       st.sampled_from(["yes", "no"])),
       st.sampled_from(["Asia/Tokyo", "Etc/UTC", ""]))
def test_generated_timedatectl(values: dict[str, str], zone: str) -> None:
    text = f"Timezone={zone}\n" + "".join(f"{k}={v}\n" for k, v in values.items())
    found = parse_timedatectl(text)
    assert found.get("synchronized") == ({"yes": True, "no": False}.get(values.get("NTPSynchronized", "")))
    assert found.get("ntp_enabled") == ({"yes": True, "no": False}.get(values.get("NTP", "")))
    assert found.get("timezone") == (zone or None)


@given(JUNK)
def test_chronyc_tracking_junk(text: str) -> None:
    found = parse_chrony_tracking(text)
    assert found == {} or (isinstance(found["synchronized"], bool) and _valid_time_sync(found))
    assert "offset_seconds" not in found or found["synchronized"] is True


LEAPS = {"Normal": True, "Insert second": True, "Delete second": True, "Not synchronised": False, "Unknown": None}
DECIMALS = st.decimals(min_value=0, max_value=10**6, places=9, allow_nan=False, allow_infinity=False)


@given(st.sampled_from(sorted(LEAPS)), DECIMALS, st.sampled_from(["fast", "slow"]), st.booleans())
def test_generated_chronyc_tracking(leap: str, offset: Decimal, side: str, csv: bool) -> None:
    if csv:
        sign = "-" if side == "slow" else ""
        text = (f"C0000201,192.0.2.1,3,1768264800.123456789,{sign}{offset:f},0.000001234,0.000023456,-4.321,"
                f"0.001,0.045,0.000345678,0.001234567,1026.5,{leap}\n")
    else:
        text = (f"Reference ID    : C0000201 (192.0.2.1)\nStratum         : 3\n"
                f"System time     : {offset:f} seconds {side} of NTP time\nLast offset     : -0.000002345 seconds\n"
                f"Leap status     : {leap}\n")
    expected = {} if LEAPS[leap] is None else {"synchronized": LEAPS[leap]}
    if LEAPS[leap]:
        expected["offset_seconds"] = float(offset)
    assert parse_chrony_tracking(text) == expected


@given(JUNK)
def test_ntpq_junk(text: str) -> None:
    found = parse_ntpq_peers(text)
    assert found == {} or (isinstance(found["synchronized"], bool) and _valid_time_sync(found))


NTPQ_HEADER = ("     remote           refid      st t when poll reach   delay   offset  jitter\n"
               "==============================================================================\n")
TALLIES = st.sampled_from([" ", "x", ".", "-", "+", "#", "*", "o"])
MILLIS = st.decimals(min_value=-10**5, max_value=10**5, places=3, allow_nan=False, allow_infinity=False)


@given(st.lists(st.tuples(TALLIES, MILLIS, st.booleans()), max_size=8))
def test_generated_ntpq_tables(peers) -> None:
    rows = []
    for i, (tally, offset, wrapped) in enumerate(peers):
        remote = f"2001:db8:0:1::{i:x}" if wrapped else f"192.0.2.{i}"
        rest = f".GPS.            1 u   35   64  377    0.512  {offset:>8f}   0.012"
        rows.append(f"{tally}{remote}\n                 {rest}" if wrapped else f"{tally}{remote:<15} {rest}")
    found = parse_ntpq_peers(NTPQ_HEADER + "".join(row + "\n" for row in rows))
    system = [offset for tally, offset, _ in peers if tally in "*o"]
    if not peers:
        assert found == {}
    elif not system:
        assert found == {"synchronized": False}
    else:
        assert found == {"synchronized": True, "offset_seconds": float(abs(system[0]) / 1000)}


@given(JUNK)
def test_ntpstat_junk(text: str) -> None:
    assert parse_ntpstat(text) in ({}, {"synchronized": True}, {"synchronized": False})


@given(st.sampled_from(["synchronised to NTP server (192.0.2.10) at stratum 2",
                        "synchronised to local net at stratum 11", "unsynchronised",
                        "Unable to talk to NTP daemon. Is it running?"]))
def test_generated_ntpstat(first: str) -> None:
    expected = {} if first.startswith("Unable") else {"synchronized": first.startswith("synchronised")}
    assert parse_ntpstat(f"{first}\n   time correct to within 42 ms\n   polling server every 1024 s\n") == expected


@given(JUNK)
def test_timespan_junk(text: str) -> None:
    seconds = parse_timespan(text)
    assert seconds is None or (isinstance(seconds, float) and 0 <= seconds < float("inf"))


SPAN_UNITS = {"": 1, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "hours": 3600, "d": 86400, "ms": 0.001}


@given(st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(sorted(SPAN_UNITS)), st.booleans()),
                min_size=1, max_size=4))
def test_generated_timespans(parts) -> None:
    text = "".join(f"{n}{unit}{' ' if spaced else ''}" for n, unit, spaced in parts)
    if any(unit == "" and not spaced for _, unit, spaced in parts[:-1]):
        text = " ".join(f"{n}{unit}" for n, unit, _ in parts)  # "20" "30" must stay two numbers
    assert parse_timespan(text) == pytest.approx(sum(n * SPAN_UNITS[unit] for n, unit, _ in parts))


FLOATS = st.floats(allow_nan=True, allow_infinity=True)


@given(st.one_of(st.none(), FLOATS), st.booleans(), st.one_of(st.none(), FLOATS), FLOATS,
       st.one_of(st.none(), FLOATS), FLOATS)
def test_timesyncd_state_of_any_times(synchronized, run_dir, clock, now, boot, fresh) -> None:
    found = timesyncd_state(synchronized, run_dir, clock, now, boot, fresh)
    assert found == {} or (isinstance(found["synchronized"], bool) and _valid_time_sync(found))


@given(st.floats(0, 10**6), st.floats(1, 10**5))
def test_timesyncd_synchronised_exactly_while_fresh(age: float, fresh: float) -> None:
    now = 1_793_000_000.0
    assert timesyncd_state(now - age, True, None, now, None, fresh)["synchronized"] is (now - (now - age) <= fresh)
