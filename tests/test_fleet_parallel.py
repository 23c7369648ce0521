"""Fleet scale (#16): the results are the same bytes whatever the number of worker processes, and
a fleet's results are streamed through spool files rather than held."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from fleetgen import AS_OF, EXAMPLES, generate

from auditor import cli, fleet
from auditor.reports import ReportOptions, formats, streams
from auditor.results import SpooledList, materialized

# The run's id and its start and end times are the only bytes that differ between two runs.
RUN_STAMPS = re.compile(rb'^    "(id|started_at|finished_at)": "[^"]*",$', re.MULTILINE)


def audit_bytes(tmp_path: Path, name: str, *args: str) -> bytes:
    out = tmp_path / f"{name}.json"
    code = cli.main(["audit", *args, "--format", "json", "--as-of", AS_OF, "--out", str(out)])
    assert code in (0, 1)
    data = out.read_bytes()
    assert len(RUN_STAMPS.findall(data)) == 3
    return RUN_STAMPS.sub(b"", data)


@pytest.fixture
def slices_used(monkeypatch):
    """How many slices each judge() call cut the fleet into (1: judged in this process)."""
    seen: list[int] = []
    real = fleet.judge

    def spy(judging, jobs, meanwhile=None):
        called = []

        def noted():  # called while the workers judge: the run's judging is set up for them
            called.append(fleet._JUDGING is judging)
            meanwhile()

        outcomes = real(judging, jobs, noted)
        seen.append(len(outcomes))
        assert called == ([True] if len(outcomes) > 1 else [])  # once, while workers judge; else not at all
        return outcomes

    monkeypatch.setattr(fleet, "judge", spy)
    return seen


def test_the_example_fleet_gives_the_same_bytes_with_one_or_four_workers(tmp_path, monkeypatch, slices_used):
    monkeypatch.setattr(fleet, "MIN_PARALLEL_TARGETS", 1)  # the example is small: make it use workers anyway
    one = audit_bytes(tmp_path, "one", str(EXAMPLES), "--jobs", "1")
    four = audit_bytes(tmp_path, "four", str(EXAMPLES), "--jobs", "4")
    assert slices_used[0] == 1 and slices_used[1] > 4  # really judged by workers, in several slices
    assert one == four
    doc = json.loads(one)
    assert doc["summary"]["fail"] > 0 and doc["summary"]["error"] > 0  # a fleet with something to say


def test_a_generated_fleet_with_errors_waivers_and_broken_files_is_the_same_with_one_or_four(tmp_path,
                                                                                          slices_used):
    waivers = generate(tmp_path / "fleet", 150, unreadable=True, waivers=True)
    args = (str(tmp_path / "fleet"), "--waivers", str(waivers))
    one = audit_bytes(tmp_path, "one", *args, "--jobs", "1")
    four = audit_bytes(tmp_path, "four", *args, "--jobs", "4")
    assert slices_used[0] == 1 and slices_used[1] > 4  # in this process, then by workers in several slices
    assert one == four
    doc = json.loads(one)
    assert {u["path"].rsplit("/", 1)[1] for u in doc["run"]["unread"]} == {"zz-not-json.json", "zz-not-a-bundle.json"}
    assert doc["gate"]["passed"] is False and "unread" in doc["gate"]["incomplete"]
    assert all(w["waived"] > 0 and w["matched"] >= w["waived"] for w in doc["waivers"])  # across the workers
    assert sum(1 for r in doc["results"] if r["status"] == "waived") == sum(w["waived"] for w in doc["waivers"])
    assert {w["waiver"] for w in doc["gate"]["waived_critical"]} == {"W-BENCH-2"}
    broken = [t for t in doc["targets"] if t["id"].startswith("lg-shimin-05-")]
    assert broken and all(t["summary"]["error"] > 0 and t["summary"]["pass"] == 0 for t in broken)
    ids = [t["id"] for t in doc["targets"]]
    assert ids == sorted(ids) and [r["target"] for r in doc["results"]] == sorted(r["target"] for r in doc["results"])
    # the totals are the results counted again
    counted = {s: sum(1 for r in doc["results"] if r["status"] == s) for s in doc["summary"]}
    assert counted == doc["summary"]
    assert len(doc["run"]["evidence"]) == sum(1 for p in (tmp_path / "fleet").iterdir()) - 2


def test_a_fleet_is_cut_in_order_into_slices_that_shrink_towards_the_end():
    """Large slices first, small ones last (so that the workers finish together), every id once, in order;
    a target's files are never split, and a small fleet is still shared out among the workers."""
    groups = {f"t{n:05d}": [object()] * (3 if n % 7 == 0 else 1) for n in range(10_000)}
    cut = fleet.slices(groups, 2)
    assert [i for part in cut for i in part] == list(groups)
    files = [sum(len(groups[i]) for i in part) for part in cut]
    assert files[0] > 5 * files[-2] and files[-2] >= fleet.MIN_SLICE_FILES and len(cut) < 30
    assert all(a >= b for a, b in zip(files[:-3], files[1:-2], strict=True))  # shrinking, down to the floor
    small = fleet.slices({f"t{n}": [object()] for n in range(10)}, 4)
    assert len(small) > 4 and [i for part in small for i in part] == [f"t{n}" for n in range(10)]
    assert fleet.slices(groups, 1) == [list(groups)]


def test_a_fleet_indexed_by_several_processes_is_indexed_as_by_one(tmp_path, monkeypatch):
    """The same files, headers and unread files, in the same order, however many processes index them."""
    from auditor import bundles

    generate(tmp_path / "fleet", 40, unreadable=True)
    (tmp_path / "fleet" / "zz-not-json.json").write_bytes(b"\xef\xbb\xbf{\r\n")  # BOM, CRLF, cut short
    monkeypatch.setattr(bundles, "PARALLEL_INDEX_FILES", 2)

    def indexed(jobs):
        unread = []
        groups = bundles.index([tmp_path / "fleet"], unread=unread, jobs=jobs)
        return [(i, [(f.path, f.sha256, f.target_id, f.header, f.collected_at) for f in files])
                for i, files in groups.items()], unread

    one, unread_one = indexed(1)
    for jobs in (2, 3):
        assert indexed(jobs) == (one, unread_one)
    assert len(unread_one) == 2 and len(one) > 40
    three = bundles.index([tmp_path / "fleet"], unread=[], jobs=3)
    headers = [f.header for files in three.values() for f in files]
    # the workers' headers are shared again, as one process shares them: one dict per distinct header
    assert len({id(h) for h in headers}) == len({json.dumps(h, sort_keys=True) for h in headers}) < len(headers) / 4


def test_a_bundle_indexed_from_its_first_bytes_but_broken_further_on_is_unread(tmp_path):
    generate(tmp_path / "fleet", 70)
    victim = sorted((tmp_path / "fleet").glob("n*-0.json"))[5]
    text = victim.read_bytes()
    victim.write_bytes(text[: len(text) // 2])  # the header is whole, the body cut short
    doc = json.loads(audit_bytes(tmp_path, "run", str(tmp_path / "fleet"), "--jobs", "2"))
    assert [u["path"] for u in doc["run"]["unread"]] == [str(victim)]
    assert "not valid JSON" in doc["run"]["unread"][0]["problem"]
    assert str(victim) not in {e["file"] for e in doc["run"]["evidence"]}
    assert doc["gate"]["passed"] is False


def test_a_key_given_twice_after_the_header_is_still_refused(tmp_path):
    generate(tmp_path / "fleet", 70)
    victim = sorted((tmp_path / "fleet").glob("n*-0.json"))[3]
    text = victim.read_bytes()
    assert text.rstrip().endswith(b"}")
    victim.write_bytes(text.rstrip()[:-1] + b', "facts": {}\n}\n')
    doc = json.loads(audit_bytes(tmp_path, "run", str(tmp_path / "fleet")))
    [unread] = doc["run"]["unread"]
    assert unread["path"] == str(victim) and "facts" in unread["problem"]


@pytest.fixture(scope="module")
def spooled_doc(tmp_path_factory):
    """The example fleet's document as the audit makes it (lists spooled), and read into memory."""
    from auditor import bundles, inventory
    from auditor.policy import load_policy
    from auditor.results import ResultsDocument
    from auditor.selection import resolve

    folder = tmp_path_factory.mktemp("spool")
    selection = resolve(load_policy(None), None, None)
    unread: list = []
    groups = bundles.index([EXAMPLES], unread=unread)
    org = inventory.attach(bundles.organization(groups), groups)
    judging = fleet.Judging(selection=selection, lang="ja", as_of=None, org=org, stages=[], groups=groups,
                            folder=str(folder))
    doc = ResultsDocument(selection=selection, lang="ja", unread=unread).assemble(fleet.judge(judging, 1))
    assert isinstance(doc["results"], SpooledList) and len(doc["results"]) > 100
    return doc, materialized(doc)


@pytest.mark.parametrize("name", sorted(formats()))
def test_a_streaming_format_renders_the_spooled_document_as_the_whole_one(spooled_doc, name, tmp_path):
    doc, whole = spooled_doc
    if not streams(name):
        pytest.skip(f"{name} is given the document read into memory")
    options = ReportOptions(lang="en")
    rendered = formats()[name](doc, options)
    if hasattr(rendered, "write_to"):
        import io

        held = io.BytesIO()
        rendered.write_to(held)
        with open(tmp_path / "out", "wb") as file:  # a file: the spools are copied by the kernel
            file.write(b"before\n")
            rendered.write_to(file)
            file.write(b"after\n")
        rendered = held.getvalue()
        assert (tmp_path / "out").read_bytes() == b"before\n" + rendered + b"after\n"
    expected = formats()[name](whole, options)
    assert rendered == expected
    assert len(rendered) > 1000


def test_the_formats_that_hold_the_document_are_few():
    assert {name for name in formats() if streams(name)} >= {"json", "table", "csv"}


def test_the_shortcuts_give_the_entries_that_judging_every_check_gives(tmp_path, monkeypatch):
    """Runs of not-applicable checks written as one piece, applies_if decided per kind of target,
    entries from templates, many findings written a chunk at a time: the same bytes as evaluating every
    check and encoding every entry whole, with waivers on checks that the shortcuts would otherwise skip
    (one decided by applies_if)."""
    from auditor.engine import Engine
    from auditor.results import SliceBuilder

    generate(tmp_path / "fleet", 70, unreadable=True)
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "format: auditor-waivers/1\nwaivers:\n"
        "  - id: W-1\n    checks: [server-default-umask, listening-ports-allowed]\n    targets: [\"*\"]\n"
        "    reason: 検証\n    approver: 情報政策課長\n    approval_number: 石情第2026-001号\n"
        "    granted: 2026-10-01\n    expires: 2027-03-31\n", encoding="utf-8")
    args = (str(tmp_path / "fleet"), "--waivers", str(waivers), "--jobs", "1")
    from auditor import results

    monkeypatch.setattr(results, "FINDINGS_CHUNK", 3)  # the register's ~80 findings written 3 at a time
    fast = audit_bytes(tmp_path, "fast", *args)
    monkeypatch.setattr(results, "FINDINGS_CHUNK", 10**9)
    monkeypatch.setattr(fleet, "_layout", lambda checks, base, plan, *rest: [(n, n) for n in range(len(checks))])
    monkeypatch.setattr(Engine, "decided", Engine.plan)
    monkeypatch.setattr(SliceBuilder, "_templated", lambda self, result: None)
    reference = audit_bytes(tmp_path, "reference", *args)
    assert fast == reference
    doc = json.loads(fast)
    umask = [r for r in doc["results"] if r["check"] == "server-default-umask"]
    assert {r["status"] for r in umask} >= {"notapplicable"} and len(umask) > 70
    assert any("does not hold" in r["message"] for r in umask)
    assert max(len(r["findings"]) for r in doc["results"]) > 3 * 10
    assert [w["matched"] for w in doc["waivers"]] == [sum(1 for r in doc["results"]
                                                          if r["check"] in ("server-default-umask",
                                                                            "listening-ports-allowed"))]


def test_a_spooled_list_written_for_the_last_time_deletes_its_spools_as_it_copies_them(tmp_path):
    from auditor.results import Spool

    parts = []
    for n in range(3):
        spool = Spool(str(tmp_path), 4)
        for i in range(5):
            spool.add({"n": n, "i": i, "text": "端末" * i})
        parts.append(spool.close())
    listed = SpooledList(parts)
    with open(tmp_path / "first", "wb") as out:
        listed.write_to(out)
    assert all(Path(p.path).exists() for p in parts)  # not the last use: kept for other readers
    listed.written_last()
    with open(tmp_path / "last", "wb") as out:
        listed.write_to(out)
    assert (tmp_path / "last").read_bytes() == (tmp_path / "first").read_bytes()
    assert not any(Path(p.path).exists() for p in parts)
    assert [item["i"] for item in SpooledList(parts[:0])] == []


def test_a_spool_copied_by_the_kernel_in_pieces_has_the_bytes_of_one_copied_through_memory(tmp_path, monkeypatch):
    """Pieces that cut items and characters apart, written after what the stream already holds."""
    import io

    from auditor import results
    from auditor.results import Spool

    spool = Spool(str(tmp_path), 4)
    for i in range(40):
        spool.add({"i": i, "text": "三層の対策" * i})
    listed = SpooledList([spool.close()])
    held = io.BytesIO(b"head:")  # not a file: read and written by this process
    held.seek(0, io.SEEK_END)
    listed.write_to(held)
    monkeypatch.setattr(results, "COPY_PIECE_BYTES", 7)
    with open(tmp_path / "out", "wb") as out:
        out.write(b"head:")  # buffered: flushed before the kernel writes after it
        listed.write_to(out)
    assert (tmp_path / "out").read_bytes() == held.getvalue()
    assert [item["i"] for item in listed] == list(range(40))


# --- a few large targets: their checks shared out (fleet.parts) ------------------------------------

DEPARTMENTS = ("情報政策課", "市民課", "税務課", "福祉課")


def _directory_exports(folder: Path, accounts: int, domain: str = "kakuu") -> tuple[Path, Path, Path]:
    """An AD export as PowerShell 5.1 writes it on Japanese Windows (CP932, #TYPE line, every field
    quoted, CRLF), the roster as Excel's CSV (CP932) and training records as Excel's CSV UTF-8 (BOM):
    accounts dormant, with unchanged initial passwords, of leavers, in admin groups, untrained."""
    ad = ["#TYPE Selected.Microsoft.ActiveDirectory.Management.ADUser",
          '"SamAccountName","DisplayName","EmployeeID","Department","Enabled","whenCreated","LastLogonDate",'
          '"PasswordLastSet","PasswordNeverExpires","PasswordNotRequired","AccountExpirationDate","MemberOf"']
    roster = ["職員番号,氏名,所属,在職区分,発令日"]
    training = ["\ufeff職員番号,氏名,研修名,受講日,修了"]
    for i in range(accounts):
        groups = f"CN=Domain Users,CN=Users,DC={domain},DC=local"
        if i % 40 == 0:
            groups += f";CN=Domain Admins,CN=Users,DC={domain},DC=local"
        created = f"20{19 + i % 7}/4/{i % 28 + 1} 8:30:00"
        pw_set = created if i % 13 == 0 else f"2026/{i % 9 + 1}/{i % 27 + 1} 9:{i % 60:02d}:00"
        logon = "" if i % 11 == 0 else f"202{5 + i % 2}/{i % 12 + 1}/{i % 28 + 1} {i % 24}:{i % 60:02d}:07"
        fields = (f"u{i:05d}", f"架空 職員{i}", f"{i:05d}", DEPARTMENTS[i % 4], "False" if i % 17 == 0 else "True",
                  created, logon, pw_set, "True" if i % 19 == 0 else "False", "False",
                  "" if i % 5 else "2027/03/31 0:00:00", groups)
        ad.append(",".join(f'"{f}"' for f in fields))
        status = ("在職", "在職", "在職", "退職", "休職")[i % 5]
        roster.append(f"{i:05d},架空　職員{i},{DEPARTMENTS[i % 4]},{status},2026/{i % 12 + 1}/{i % 28 + 1}")
        if i % 3:
            training.append(f"{i:05d},架空 職員{i},情報セキュリティ研修（令和8年度）,2026/{i % 7 + 4}/{i % 28 + 1},"
                            f"{'修了' if i % 7 else ''}")
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / f"ad-{domain}.csv", folder / "roster.csv", folder / "training.csv"
    paths[0].write_bytes(("\r\n".join(ad) + "\r\n").encode("cp932"))
    paths[1].write_bytes(("\r\n".join(roster) + "\r\n").encode("cp932"))
    paths[2].write_bytes(("\r\n".join(training) + "\r\n").encode("utf-8"))
    return paths


@pytest.fixture
def checks_shared_out(monkeypatch):
    """Every small fleet's checks shared out, in runs as short as one check; the runs each audit was cut
    into, and the history rows each audit would record."""
    from auditor import results

    monkeypatch.setattr(fleet, "SPLIT_MIN_RECORDS", 0)
    monkeypatch.setattr(fleet, "SPLIT_MIN_PART", 1)
    monkeypatch.setattr(fleet, "SPLIT_MAX_RECORDS", fleet.SPLIT_MAX_RECORDS)  # restored after a test changes it
    seen: dict[str, list] = {"runs": [], "history": [], "pieces": []}
    real_parts, real_judge = fleet.parts, fleet.judge

    def parts(judging, jobs):
        found = real_parts(judging, jobs)
        seen["runs"].append(found)
        return found

    def judge(judging, jobs, meanwhile=None):
        outcomes = real_judge(judging, jobs, meanwhile)
        seen["pieces"].append(sum(len(o.pieces) for o in outcomes))
        seen["history"].append([tuple(p) for p in results.packed_history(outcomes, judging.selection, judging.lang)
                                .rows])
        return outcomes

    monkeypatch.setattr(fleet, "parts", parts)
    monkeypatch.setattr(fleet, "judge", judge)
    return seen


TREND_STAMPS = re.compile(rb'^      "(id|finished_at)": "[^"]*",$', re.MULTILINE)


def _audited_by(tmp_path: Path, jobs: int, *args: str) -> tuple[bytes, dict]:
    """The results (but for the run's id and times, here and in its trend) of an audit recorded in a
    history of its own."""
    store = tmp_path / f"history-{len(list(tmp_path.glob('history-*.db')))}.db"
    data = audit_bytes(tmp_path, f"jobs{jobs}", *args, "--jobs", str(jobs), "--history", str(store))
    head, trend = data.split(b'\n  "trend": [\n')
    assert len(TREND_STAMPS.findall(trend)) == 2
    return head + TREND_STAMPS.sub(b"", trend), json.loads(data)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked")
def test_a_directory_and_roster_imported_in_the_audit_give_the_same_bytes_with_checks_shared_out(
        tmp_path, checks_shared_out):
    ad, roster, training = _directory_exports(tmp_path / "exports", 400)
    args = ("--import", "ad-users", str(ad), "--import", "hr-roster", str(roster), "--import", "training",
            str(training))
    one, doc = _audited_by(tmp_path, 1, *args)
    assert checks_shared_out["runs"] == [] and checks_shared_out["pieces"] == [0]  # one job: judged here, whole
    for jobs in (2, 3):
        assert _audited_by(tmp_path, jobs, *args)[0] == one
    # both targets were judged in parts, in more runs than workers, and their entries joined again
    runs = checks_shared_out["runs"][:2]
    assert all(len(r) > 2 * jobs for r, jobs in zip(runs, (2, 3), strict=True))
    assert all(any(start > 0 for _, start, _ in r) and any(len(ids) == 2 for ids, _, _ in r) for r in runs)
    assert checks_shared_out["pieces"][1] > 4 and checks_shared_out["pieces"][1] < checks_shared_out["pieces"][2]
    assert checks_shared_out["history"][1:] == [checks_shared_out["history"][0]] * 2
    # more records than a run holds at once: judged here, a target at a time, all the same
    fleet.SPLIT_MAX_RECORDS = 1000
    assert _audited_by(tmp_path, 2, *args)[0] == one
    assert checks_shared_out["runs"][-1] is None and checks_shared_out["pieces"][-1] == 0
    # a run with something to say about every part of the directory
    assert len(doc["targets"]) == 2 and doc["summary"]["fail"] >= 5
    failed = {r["check"]: len(r["findings"]) for r in doc["results"] if r["status"] == "fail"}
    assert {"dormant-directory-accounts", "initial-password-changed", "leaver-accounts-disabled",
            "admin-separate-account"} <= set(failed) and max(failed.values()) > 40


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked")
def test_directory_bundles_one_broken_with_waivers_give_the_same_bytes_with_checks_shared_out(
        tmp_path, checks_shared_out):
    """Bundles read lazily (their areas checked in the parent before the workers fork), one directory
    whose accounts break their schema (its readers error, in whichever worker), a waiver counted
    across workers, and a file that cannot be read."""
    folder = tmp_path / "bundles"
    folder.mkdir()
    for domain in ("kakuu", "shisho"):
        ad, roster, training = _directory_exports(tmp_path / "exports", 300, domain)
        assert cli.main(["import", "ad-users", str(ad), "--target", f"ad-{domain}", "--out",
                         str(folder / f"ad-{domain}.json")]) == 0
    for kind, export in (("hr-roster", roster), ("training", training)):
        assert cli.main(["import", kind, str(export), "--target", "org", "--out", str(folder / f"{kind}.json")]) == 0
    broken = json.loads((folder / "ad-shisho.json").read_text(encoding="utf-8"))
    broken["facts"]["directory_accounts"][150]["enabled"] = "はい"  # not a boolean
    (folder / "ad-shisho.json").write_text(json.dumps(broken, ensure_ascii=False, indent=2), encoding="utf-8")
    (folder / "zz-cut-short.json").write_bytes(b'\xef\xbb\xbf{\r\n  "format": "auditor-')
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "format: auditor-waivers/1\nwaivers:\n"
        "  - id: W-DIR\n    checks: [dormant-directory-accounts, staff-annual-training]\n    targets: [\"*\"]\n"
        "    reason: 移行期間\n    approver: 情報政策課長\n    approval_number: 石情第2026-014号\n"
        "    granted: 2026-10-01\n    expires: 2027-03-31\n", encoding="utf-8")
    args = (str(folder), "--waivers", str(waivers))
    one, doc = _audited_by(tmp_path, 1, *args)
    for jobs in (2, 4):
        assert _audited_by(tmp_path, jobs, *args)[0] == one
    assert checks_shared_out["history"][1:] == [checks_shared_out["history"][0]] * 2
    assert all(len(r) > jobs for r, jobs in zip(checks_shared_out["runs"], (2, 4), strict=True))
    by_target = {t["id"]: t for t in doc["targets"]}
    assert set(by_target) == {"ad-kakuu", "ad-shisho", "org"}
    assert by_target["ad-shisho"]["summary"]["error"] > 5 and by_target["ad-shisho"]["summary"].get("fail", 0) == 0
    assert by_target["ad-kakuu"]["summary"]["fail"] > 3
    broken = [r for r in doc["results"] if r["target"] == "ad-shisho" and r["status"] == "error"
              and r["cause"]["kind"] == "broken"]  # the accounts' readers; the rest lack a password policy
    assert len(broken) > 8 and all(r["cause"]["file"].endswith("ad-shisho.json") for r in broken)
    assert doc["waivers"][0]["waived"] >= 2 and doc["waivers"][0]["matched"] >= doc["waivers"][0]["waived"]
    assert [u["path"].rsplit("/", 1)[1] for u in doc["run"]["unread"]] == ["zz-cut-short.json"]
    assert doc["gate"]["passed"] is False

    # cut by hand: a target judged whole between the two parts of another (its entry after the other's),
    # and a part of one target alone between two others of it
    def cut_by_hand(judging, jobs):
        return [(["ad-kakuu"], 0, 30), (["ad-kakuu"], 30, 90), (["ad-kakuu", "ad-shisho", "org"], 90, 40),
                (["org"], 40, None)]

    for jobs in (2, 3):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(fleet, "parts", cut_by_hand)
            assert _audited_by(tmp_path, jobs, *args)[0] == one
