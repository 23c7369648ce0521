"""The HTML report: self-contained, escaped, the doc's numbers first, three views, and real Chromium output."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest
from support import FIXTURES

from auditor.cli import main
from auditor.pseudonyms import Pseudonymizer
from auditor.reports import ReportOptions, formats
from auditor.reports.html import control_order

EXAMPLES = FIXTURES.parent.parent / "examples"
HOSTILE = "<img src=x onerror=alert(1)>"
WAIVERS = """format: auditor-waivers/1
waivers:
  - id: W-2026-010
    checks: [password-never-expires]
    targets: [ad-kakuu-local]
    reason: 窓口共用端末の更改まで
    approver: 情報政策課長
    approval_number: 石情第101号
    granted: 2026-04-01
    expires: 2027-03-31
  - id: W-2026-011
    checks: [listening-ports-allowed]
    targets: [in-kikaku-02]
    reason: 業者による保守作業中
    approver: 情報政策課長
    approval_number: 石情第102号
    granted: 2026-10-01
    expires: 2026-11-20
  - id: W-2025-003
    checks: [no-insecure-services]
    targets: [in-kikaku-02]
    reason: 旧システム移行期間
    approver: 情報政策課長
    approval_number: 石情第55号
    granted: 2025-10-01
    expires: 2026-10-01
  - id: W-2026-012
    checks: [password-min-length]
    targets: [mn-*]
    reason: 使われない例外
    approver: 情報政策課長
    approval_number: 石情第103号
    granted: 2026-04-01
    expires: 2027-03-31
"""
ATTESTATIONS = """format: auditor-attestations/1
attestations:
  - control: GL-C11
    attested_by: 情報政策課 筑波花子
    attested_on: 2026-09-30
    valid_until: 2027-03-31
    document: {name: 令和8年度配線点検記録.pdf, sha256: %s}
""" % ("cd" * 32)


class Page(HTMLParser):
    """The parsed page: every start tag with its attributes, the text, and the style sheets."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.data: list[str] = []
        self.styles: list[str] = []
        self._in_style = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        (self.styles if self._in_style else self.data).append(data)

    @property
    def text(self) -> str:
        return " ".join(self.data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k.rstrip("_")) == v for k, v in attrs.items())]


def _text_of(page: str, element_id: str) -> str:
    """The text of the element with that id, up to its first child's end (the headline's elements are flat)."""
    start = page.index(f'id="{element_id}"')
    end = page.index("</", start)
    return re.sub(r"<[^>]+>", "", page[page.index(">", start) + 1:end]).strip()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """The example fleet with a hostile account name and firewall policy name, audited with waivers and
    attestations; the results document as auditor audit --format json writes it."""
    folder = tmp_path_factory.mktemp("html")
    shutil.copytree(EXAMPLES / "fleet", folder / "fleet")
    host = folder / "fleet" / "lg-jousei-04.json"
    host.write_text(host.read_text(encoding="utf-8").replace('"kenshu"', json.dumps(HOSTILE)), encoding="utf-8")
    firewall = folder / "fleet" / "kakuu-fw01.json"
    firewall.write_text(firewall.read_text(encoding="utf-8").replace('"MN to chukan"', json.dumps(HOSTILE)),
                        encoding="utf-8")
    (folder / "waivers.yaml").write_text(WAIVERS, encoding="utf-8")
    (folder / "attestations.yaml").write_text(ATTESTATIONS, encoding="utf-8")
    out = folder / "results.json"
    code = main(["audit", str(folder / "fleet"), "--waivers", str(folder / "waivers.yaml"), "--attestations",
                 str(folder / "attestations.yaml"), "--as-of", "2026-11-02", "--format", "json", "--out", str(out)])
    assert code == 1  # the example city fails its gate
    return folder, json.loads(out.read_text(encoding="utf-8"))


def render(doc, **options) -> str:
    return formats()["html"](doc, ReportOptions(**options))


@pytest.fixture(scope="module")
def admin(fleet):
    return render(fleet[1])


def test_score_grade_gate_and_coverage_come_first_with_the_documents_numbers(fleet, admin):
    doc = fleet[1]
    assert _text_of(admin, "score") == f"{doc['score']:.1f}"
    assert doc["grade"] in _text_of(admin, "grade")
    gate = Page(admin).find("dd", id="gate")[0]
    assert gate["data-passed"] == ("true" if doc["gate"]["passed"] else "false")
    coverage = doc["coverage"]
    assert f"評価済み {coverage['evaluated']}/{coverage['applicable']} 件" in _text_of(admin, "coverage")
    # the headline precedes every table of the report
    assert admin.index('id="score"') < admin.index("<table")
    # every target's score has its coverage beside it
    for target in doc["targets"]:
        cov = target["coverage"]
        if cov["applicable"]:
            assert f"評価済み {cov['evaluated']}/{cov['applicable']} 件" in admin


def test_one_row_per_failing_result_with_sentences_source_and_fix(fleet, admin):
    doc = fleet[1]
    page = Page(admin)
    for status in ("fail", "error", "waived"):
        rows = {(a["data-check"], a["data-target"]) for a in page.find("tr", class_=f"result status-row-{status}")}
        expected = {(r["check"], r["target"]) for r in doc["results"] if r["status"] == status}
        assert expected and rows == expected, status
        assert len(page.find("tr", class_=f"result status-row-{status}")) == len(expected)
    text = page.text
    assert "求められる状態:" in text and "ad-users.csv の 11 行目" in text  # r.hitachi's row of the AD export
    remediation = next(r["remediation"] for r in doc["results"] if r["check"] == "admin-separate-account")
    assert remediation in text
    assert "証跡なし（time_sync" in text and "証跡不備（" in text  # not supplied vs broken, each said


def test_expected_text_and_source_are_used_when_the_results_have_them(fleet):
    doc = json.loads(json.dumps(fleet[1]))
    result = next(r for r in doc["results"] if r["check"] == "password-min-length" and r["status"] == "fail")
    result["findings"][0]["expected_text"] = {"ja": "8 文字以上であること", "en": "at least 8 characters"}
    result["findings"][0]["source"] = {"file": "secedit.inf", "line": 12}
    text = Page(render(doc)).text
    assert "求められる状態: 8 文字以上であること" in text and "secedit.inf の 12 行目" in text
    text = Page(render(doc, lang="en")).text
    assert "Required: at least 8 characters" in text and "secedit.inf, line 12" in text


@pytest.mark.parametrize("view", ["admin", "trainer", "inspector"])
def test_no_view_loads_anything(fleet, view):
    page_text = render(fleet[1], view=view)
    page = Page(page_text)
    assert not page.find("script") and "<script" not in page_text.lower()
    for tag, attrs in page.tags:
        for name in ("src", "href", "action", "data", "poster"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//", "ftp:")), (tag, name, value)
        assert tag not in ("link", "iframe", "object", "embed", "img"), tag
    assert not re.search(r"url\s*\(", page_text, re.IGNORECASE)
    assert not re.search(r"@import", "".join(page.styles))
    csp = page.find("meta", **{"http-equiv": "Content-Security-Policy"})
    assert csp and "default-src 'none'" in csp[0]["content"]


@pytest.mark.parametrize("view", ["admin", "trainer", "inspector"])
def test_a_hostile_account_and_rule_name_stay_text(fleet, view):
    page_text = render(fleet[1], view=view)
    assert HOSTILE not in page_text and "<img" not in page_text
    if view != "trainer":  # the trainer view names no account, hostile or not
        assert HOSTILE in Page(page_text).text  # shown, escaped: the parser reads it back as text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page_text or view == "trainer"


def test_frame_texts_in_japanese_and_english(fleet):
    ja, en = render(fleet[1]), render(fleet[1], lang="en")
    assert '<html lang="ja">' in ja and '<html lang="en">' in en
    for text, label in ((ja, "重大項目ゲート"), (ja, "評価できた割合"), (en, "Critical gate"), (en, "Coverage")):
        assert label in Page(text).text
    assert "重大項目ゲート" not in en and "Critical gate" not in ja
    coverage = fleet[1]["coverage"]
    assert f"evaluated {coverage['evaluated']}/{coverage['applicable']}" in en


def test_dates_as_the_japanese_era(fleet):
    text = Page(render(fleet[1], date_style="wareki")).text
    assert "令和8年11月2日" in text and "令和9年3月31日" in text  # as-of date; the waiver's expiry


def _people(folder: Path) -> set[str]:
    names = Pseudonymizer(b"k" * 32)
    for path in (folder / "fleet").glob("*.json"):
        names.learn(json.loads(path.read_text(encoding="utf-8")))
    return set(names.values) - {"root", "Administrator"}  # built-in accounts are no person


def _contains(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w.@-]){re.escape(name)}(?![\w@-])", text) is not None


def test_the_trainer_view_names_no_person(fleet, admin):
    folder, doc = fleet
    shown = Page(admin).text
    people = [n for n in _people(folder) if _contains(shown, n)]
    assert len(people) >= 8, people  # the admin view does name them: the accounts and staff of the findings
    trainer = Page(render(doc, view="trainer")).text
    assert [n for n in people if _contains(trainer, n)] == []
    assert "職員A" in trainer
    assert "Staff A" in Page(render(doc, view="trainer", lang="en")).text


def test_the_trainer_view_uses_the_packages_keyed_pseudonyms_when_a_key_is_set(fleet, monkeypatch):
    key = "trainer-key-0123456789abcdef"
    monkeypatch.setenv("AUDITOR_PSEUDONYM_KEY", key)
    trainer = Page(render(fleet[1], view="trainer")).text
    assert Pseudonymizer(key.encode()).pseudonym("r.hitachi", "user") in trainer
    assert "職員A" not in trainer and not _contains(trainer, "r.hitachi")


def test_the_trainer_view_ranks_controls_by_failures_with_why_and_how(fleet):
    doc = fleet[1]
    page_text = render(doc, view="trainer")
    ranked = [a["data-control"] for a in Page(page_text).find("tr", class_="ranked-control")]
    fails = {c: sum(1 for r in doc["results"] if r["status"] == "fail" and c in r["controls"]) for c in ranked}
    assert ranked and [fails[c] for c in ranked] == sorted(fails.values(), reverse=True)
    first = next(c for c in doc["controls"] if c["id"] == ranked[0])
    text = Page(page_text).text
    assert first["rationale"] in text and first["remediation"] in text
    assert "なぜ重要か" in text and "直し方" in text


def test_the_inspector_view_is_working_papers_in_guideline_order_then_the_audit_report(fleet):
    doc = fleet[1]
    page_text = render(doc, view="inspector")
    page = Page(page_text)
    papers = [a["data-control"] for a in page.find("article", class_="paper")]
    assert papers == sorted(papers, key=control_order) and papers[0].startswith("GL-A")
    letters = [p[3] for p in papers]
    assert letters == sorted(letters) and letters.index("B") > letters.index("A")
    assert "GL-A10" in papers and papers.index("GL-A09") < papers.index("GL-A10")  # numbers as numbers
    assert "監査項目" not in page.text
    # each result's evidence with the SHA-256 the run recorded
    digest = next(e["sha256"] for e in doc["run"]["evidence"] if e["target"] == "kakuu-fw01")
    start = page_text.index('id="wp-GL-A02"')
    paper = page_text[start:page_text.index("</article>", start)]
    assert digest in paper
    report = page_text[page_text.index('id="audit-report"'):]
    assert report.index("監査報告書") < report.index("指摘事項") < report.index("助言事項")
    fails = [r for r in doc["results"] if r["status"] == "fail"]
    assert len(Page(report).find("tr", class_="report-finding")) == len(fails)
    severities = [a["data-severity"] for a in Page(report).find("tr", class_="report-finding")]
    order = ["critical", "high", "medium", "low"]
    assert severities == sorted(severities, key=order.index)
    advisories = Page(report[report.index("助言事項"):]).text
    for expected in ("W-2026-011", "W-2025-003", "W-2026-012", "証跡なし", "担当者による確認が記録されていません"):
        assert expected in advisories, expected


def test_waivers_and_attestations_are_shown(fleet, admin):
    page = Page(admin)
    states = {a["data-waiver"]: a["class"] for a in page.find("tr") if a.get("data-waiver")}
    assert "waiver-active" in states["W-2026-010"] and "waiver-expiring" in states["W-2026-011"]
    assert "waiver-expired" in states["W-2025-003"] and "waiver-unused" in states["W-2026-012"]
    assert "石情第101号" in page.text and "本来の結果は不適合" in page.text
    assert "情報政策課 筑波花子" in page.text and "令和8年度配線点検記録.pdf" in page.text


def test_audit_and_report_commands_write_the_html(fleet, tmp_path):
    folder, _ = fleet
    out = tmp_path / "direct.html"
    assert main(["audit", str(folder / "fleet"), "--as-of", "2026-11-02", "--format", "html", "--out", str(out),
                 "--view", "inspector"]) == 1
    assert 'class="paper"' in out.read_text(encoding="utf-8")
    stored = tmp_path / "stored.html"
    assert main(["report", str(folder / "results.json"), "--format", "html", "--out", str(stored),
                 "--lang", "en"]) == 1
    assert "Critical gate" in stored.read_text(encoding="utf-8")


def test_a_results_file_missing_what_the_report_reads_is_an_input_error(fleet, tmp_path, capsys):
    doc = json.loads(json.dumps(fleet[1]))
    del doc["targets"][0]["coverage"]
    path = tmp_path / "cut.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    assert main(["report", str(path), "--format", "html"]) == 2
    assert "cut.json" in capsys.readouterr().err


# -- headless Chromium ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium():
    """Debian's chromium; installed with apt-get in CI (as root) or when AUDITOR_INSTALL_CHROMIUM=1."""
    found = shutil.which("chromium")
    in_ci = os.environ.get("CI") == "true"
    if found is None and os.geteuid() == 0 and (in_ci or os.environ.get("AUDITOR_INSTALL_CHROMIUM") == "1"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], check=False, env=env, capture_output=True, timeout=900)
        subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], check=False, env=env, capture_output=True,
                       timeout=1800)
        found = shutil.which("chromium")
    if found is None:
        if in_ci:
            pytest.fail("chromium is not installed and apt-get install -y chromium did not install it")
        pytest.skip("chromium is not installed (apt-get install chromium, or AUDITOR_INSTALL_CHROMIUM=1 as root)")
    return found


# Chromium's own services (time, accounts, safe browsing, updates): it calls them in headless mode whatever
# the page, so a request to them says nothing about the report.
CHROMIUM_OWN = ("google.com", "gstatic.com", "googleapis.com", "gvt1.com", "gvt2.com", "googleusercontent.com")


def requested_host(data: bytes) -> str:
    """The host a connection asked for: an HTTP request's Host header, or a TLS ClientHello's server name."""
    if data[:1] == b"\x16":
        try:
            at = 5 + 4 + 2 + 32
            at += 1 + data[at]  # session id
            at += 2 + int.from_bytes(data[at:at + 2], "big")  # cipher suites
            at += 1 + data[at]  # compression methods
            end = at + 2 + int.from_bytes(data[at:at + 2], "big")
            at += 2
            while at + 4 <= end:
                kind, size = int.from_bytes(data[at:at + 2], "big"), int.from_bytes(data[at + 2:at + 4], "big")
                if kind == 0:  # server_name: list length, name type, name length, name
                    length = int.from_bytes(data[at + 7:at + 9], "big")
                    return data[at + 9:at + 9 + length].decode("ascii", "replace")
                at += 4 + size
        except IndexError:
            pass
        return "(TLS without a server name)"
    match = re.search(rb"\r\nHost: ([^\r:]+)", data, re.IGNORECASE)
    return match.group(1).decode("ascii", "replace") if match else repr(data[:40])


class Trap:
    """A local TCP server that every host name is mapped to: any request Chromium makes arrives here."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.hosts: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            conn.settimeout(2)
            data = b""
            try:
                while len(data) < 5 or len(data) < 5 + int.from_bytes(data[3:5], "big") and data[:1] == b"\x16":
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                    if data[:1] != b"\x16" and b"\r\n\r\n" in data:
                        break
            except OSError:
                pass
            if data:  # a connection opened ahead and closed without a byte asks for nothing (a preconnect)
                self.hosts.append(requested_host(data))
            conn.close()

    def page_requests(self) -> list[str]:
        """The hosts asked for, less Chromium's own services; emptied for the next page."""
        hosts, self.hosts = self.hosts, []
        return [h for h in hosts if not any(h == own or h.endswith("." + own) for own in CHROMIUM_OWN)]

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.server.close()


def run_chromium(binary: str, page: Path, profile: Path, trap: Trap, *args: str) -> subprocess.CompletedProcess:
    argv = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--metrics-recording-only", "--mute-audio",
            f"--host-resolver-rules=MAP * 127.0.0.1:{trap.port}", f"--user-data-dir={profile}", *args,
            page.as_uri()]
    return subprocess.run(argv, capture_output=True, timeout=180, check=False)


def test_chromium_prints_the_report_on_a4_pages_without_any_network_request(chromium, fleet, tmp_path):
    folder, doc = fleet
    page = tmp_path / "report.html"
    page.write_text(render(doc), encoding="utf-8")
    trap = Trap()
    try:
        # the trap works: a page that loads an image from elsewhere reaches it
        control = tmp_path / "control.html"
        control.write_text('<!DOCTYPE html><img src="http://images.example.org/x.png"><p>x</p>', encoding="utf-8")
        run_chromium(chromium, control, tmp_path / "profile-control", trap, "--dump-dom")
        assert "images.example.org" in trap.page_requests(), "the trap saw no request: the check would prove nothing"

        pdf = tmp_path / "report.pdf"
        run_chromium(chromium, page, tmp_path / "profile-pdf", trap, "--no-pdf-header-footer", f"--print-to-pdf={pdf}")
        dom = run_chromium(chromium, page, tmp_path / "profile-dom", trap, "--dump-dom").stdout.decode("utf-8")
        shot = tmp_path / "report.png"
        run_chromium(chromium, page, tmp_path / "profile-shot", trap, "--window-size=1200,1800",
                     f"--screenshot={shot}")
        assert trap.page_requests() == []
    finally:
        trap.close()
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes()))
    assert pdf.read_bytes().startswith(b"%PDF") and pages > 1, pages
    assert f'id="score" class="score-value">{doc["score"]:.1f}<' in dom
    failing = next(r for r in doc["results"] if r["status"] == "fail" and r["severity"] == "critical")
    assert f'data-check="{failing["check"]}"' in dom and failing["controls"][0] in dom
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 10_000


def test_a_control_s_audit_items_head_its_working_paper(fleet):
    """Where the policy records the audit checklist's item numbers (監査項目), the paper shows them."""
    import copy

    doc = copy.deepcopy(fleet[1])
    control = next(c for c in doc["controls"] if c["id"] == "GL-A02")
    control["audit_items"] = ["3-1-<2>"]
    page_text = render(doc, view="inspector")
    start = page_text.index('id="wp-GL-A02"')
    paper = page_text[start:page_text.index("</article>", start)]
    assert "監査項目" in paper and "3-1-&lt;2&gt;" in paper
    other = page_text[page_text.index('id="wp-GL-A03"'):]
    assert "監査項目" not in other[:other.index("</article>")]
