"""Fleet scale (#16): the results are the same bytes whatever the number of worker processes, and
a fleet's results are streamed through spool files rather than held."""

from __future__ import annotations

import json
import re
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
    monkeypatch.setattr(fleet, "_layout", lambda checks, base, plan, *rest: list(range(len(checks))))
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
