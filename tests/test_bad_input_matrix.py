"""Bad input, as a careless or hostile user gives it, to every command and input kind.

Each case runs the command line in-process and asserts the contract of the README: the
exit code (2: could not audit, naming the file and what was expected; 1: audited, gate not
met), a message that names the file, and no traceback: any exception other than the
command's own exit escapes ``main`` and fails the case with its traceback.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from support import FIXTURES, MINI_POLICY, make_bundle

from auditor.cli import main

Setup = Callable[[Path], None]


def bundle_bytes(**changes) -> bytes:
    return json.dumps(make_bundle(**changes), ensure_ascii=False).encode()


GOOD = bundle_bytes()
ZONES = (FIXTURES / "firewall" / "zones-reach.yaml").read_bytes()
FORTIGATE = (FIXTURES / "firewall" / "fortigate-reach.conf").read_bytes()
SECEDIT = "[Unicode]\nUnicode=yes\n[System Access]\nMinimumPasswordLength = 8\nLockoutBadCount = 5\n"
AD_HEADER = '"SamAccountName","DisplayName","EmployeeID","Department","Enabled","LastLogonDate"\r\n'
TAILORING_HEAD = "format: auditor-tailoring/1\nid: city\nprofile: base\n"


def utf16(text: str) -> bytes:
    return "\ufeff".encode("utf-16-le") + text.replace("\n", "\r\n").encode("utf-16-le")


def nested_groups(depth: int) -> bytes:
    """A FortiGate address group chain ``depth`` deep."""
    lines = ["config firewall address", '    edit "h0"', '        set subnet 10.0.0.1 255.255.255.255', "    next",
             "end", "config firewall addrgrp"]
    for n in range(1, depth + 1):
        lines += [f'    edit "g{n}"', f'        set member "{"h0" if n == 1 else f"g{n - 1}"}"', "    next"]
    lines += ["end", "config firewall policy", '    edit 1', '        set srcintf "any"', '        set dstintf "any"',
              f'        set srcaddr "g{depth}"', '        set dstaddr "all"', '        set action accept',
              '        set service "ALL"', "    next", "end", ""]
    return "\n".join(lines).encode()


def jumping_chains(depth: int) -> bytes:
    lines = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]"]
    lines += [f":c{n} - [0:0]" for n in range(depth)]
    lines.append("-A FORWARD -j c0")
    lines += [f"-A c{n} -j c{n + 1}" for n in range(depth - 1)]
    lines += [f"-A c{depth - 1} -j ACCEPT", "COMMIT", ""]
    return "\n".join(lines).encode()


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def fifo(name: str) -> Setup:
    return lambda d: os.mkfifo(d / name)


def link(name: str, to: str) -> Setup:
    return lambda d: (d / name).symlink_to(d / to)


@dataclass
class Case:
    id: str
    argv: list[str]  # {d}: the case's folder; {policy}: the test policy
    code: int
    says: list[str]
    files: dict[str, bytes | str] = field(default_factory=dict)
    setup: list[Setup] = field(default_factory=list)


def audit(*argv: str) -> list[str]:
    return ["audit", *argv, "--policy", "{policy}"]


def tailoring(text: str) -> dict[str, str]:
    return {"t.yaml": TAILORING_HEAD + text}


CASES = [
    # --- audit: evidence bundles -------------------------------------------------------------
    Case("bundle-not-json", audit("{d}/b.json"), 2, ["b.json:1", "not valid JSON"], {"b.json": b"{oops"}),
    Case("bundle-empty-file", audit("{d}/b.json"), 2, ["b.json", "not valid JSON"], {"b.json": b""}),
    Case("bundle-utf16", audit("{d}/b.json"), 2, ["b.json", "not UTF-8"], {"b.json": utf16(GOOD.decode())}),
    Case("bundle-cp932", audit("{d}/b.json"), 2, ["b.json", "not UTF-8"],
         {"b.json": GOOD.decode().encode("cp932")}),
    Case("bundle-array", audit("{d}/b.json"), 2, ["expected a JSON object"], {"b.json": b"[1, 2]"}),
    Case("bundle-wrong-format", audit("{d}/b.json"), 2, ["format", "auditor-evidence/9"],
         {"b.json": bundle_bytes(format="auditor-evidence/9")}),
    Case("bundle-no-target", audit("{d}/b.json"), 2, ["b.json", "target"],
         {"b.json": json.dumps({k: v for k, v in make_bundle().items() if k != "target"}).encode()}),
    Case("bundle-duplicate-key", audit("{d}/b.json"), 2, ["b.json:1", "duplicate key 'min_length'"],
         {"b.json": GOOD.replace(b'"min_length": 8', b'"min_length": 6, "min_length": 14')}),
    Case("bundle-nested-100000", audit("{d}/b.json"), 2, ["b.json", "nested more than 100"],
         {"b.json": b'{"a":' * 100_000 + b"1" + b"}" * 100_000}),
    Case("bundle-5000-digits", audit("{d}/b.json"), 2, ["b.json", "5,000 digits"],
         {"b.json": GOOD.replace(b'"min_length": 8', b'"min_length": ' + b"9" * 5000)}),
    Case("bundle-february-30", audit("{d}/b.json"), 2, ["collected_at", "not a real date"],
         {"b.json": bundle_bytes(collected_at="2026-02-30T08:00:00+09:00")}),
    Case("bundle-no-offset", audit("{d}/b.json"), 2, ["collected_at"],
         {"b.json": bundle_bytes(collected_at="2026-11-02T08:00:00")}),
    Case("bundle-year-1", audit("{d}/b.json"), 2, ["collected_at", "outside the dates"],
         {"b.json": bundle_bytes(collected_at="0001-01-01T00:00:00+09:00")}),
    Case("bundle-lone-surrogate-id", audit("{d}/b.json"), 0, [],
         {"b.json": json.dumps(make_bundle(target__id="pc-\udc80")).encode()}),
    Case("bundle-utf8-bom", audit("{d}/b.json"), 0, [], {"b.json": b"\xef\xbb\xbf" + GOOD}),
    Case("bundle-broken-body", audit("{d}/b.json", "--format", "json"), 1, [],
         {"b.json": bundle_bytes(facts="not an object")}),
    Case("fleet-truncated-one", audit("{d}/fleet"), 1, ["b.json", "not valid JSON"],
         {"fleet/a.json": GOOD, "fleet/b.json": GOOD[:40]}),
    Case("fleet-wrong-format-one", audit("{d}/fleet", "--lang", "en"), 1, ["evidence incomplete"],
         {"fleet/a.json": GOOD, "fleet/b.json": bundle_bytes(format="x")}),
    Case("fleet-empty-directory", audit("{d}/fleet"), 1, [], setup=[lambda d: (d / "fleet").mkdir()]),
    Case("fleet-broken-link", audit("{d}/fleet", "--lang", "en"), 1, ["gone.json", "broken symbolic link"],
         {"fleet/a.json": GOOD}, [link("fleet/gone.json", "nowhere.json")]),
    Case("fleet-fifo", audit("{d}/fleet", "--lang", "en"), 1, ["p.json", "not a regular file"],
         {"fleet/a.json": GOOD}, [fifo("fleet/p.json")]),
    Case("named-fifo", audit("{d}/p.json"), 2, ["p.json", "not a regular file"], setup=[fifo("p.json")]),
    Case("named-device", audit("/dev/zero"), 2, ["/dev/zero", "not a regular file"]),
    Case("named-missing", audit("{d}/nope.json"), 2, ["nope.json", "no such file"]),
    Case("named-broken-link", audit("{d}/l.json"), 2, ["l.json", "broken symbolic link"],
         setup=[link("l.json", "nowhere.json")]),
    # --- audit: outputs and options ------------------------------------------------------------
    Case("out-is-the-input", audit("{d}/b.json", "--out", "{d}/b.json"), 2, ["is an input of this run"],
         {"b.json": GOOD}),
    Case("out-is-a-link-to-the-input", audit("{d}/b.json", "--out", "{d}/l.json"), 2, ["is an input"],
         {"b.json": GOOD}, [link("l.json", "b.json")]),
    Case("out-inside-the-evidence-dir", audit("{d}/fleet", "--out", "{d}/fleet/r.json"), 2, ["which this run reads"],
         {"fleet/a.json": GOOD}),
    Case("out-is-a-directory", audit("{d}/b.json", "--out", "{d}"), 2, ["is a directory"], {"b.json": GOOD}),
    Case("out-folder-missing", audit("{d}/b.json", "--out", "{d}/no/r.txt"), 2, ["cannot write"], {"b.json": GOOD}),
    Case("as-of-february-30", audit("{d}/b.json", "--as-of", "2026-02-30"), 2, ["--as-of"], {"b.json": GOOD}),
    Case("as-of-year-1", audit("{d}/b.json", "--as-of", "0001-01-01"), 2, ["--as-of", "outside"], {"b.json": GOOD}),
    Case("as-of-words", audit("{d}/b.json", "--as-of", "先月"), 2, ["--as-of"], {"b.json": GOOD}),
    Case("fail-under-101", audit("{d}/b.json", "--fail-under", "101"), 2, ["--fail-under"], {"b.json": GOOD}),
    Case("fail-under-nan", audit("{d}/b.json", "--fail-under", "nan"), 2, ["--fail-under"], {"b.json": GOOD}),
    Case("format-unknown", audit("{d}/b.json", "--format", "pdf"), 2, ["--format"], {"b.json": GOOD}),
    Case("lang-unknown", audit("{d}/b.json", "--lang", "fr"), 2, ["--lang"], {"b.json": GOOD}),
    Case("profile-unknown", audit("{d}/b.json", "--profile", "nope"), 2, ["unknown profile 'nope'"], {"b.json": GOOD}),
    Case("policy-missing", ["audit", "{d}/b.json", "--policy", "{d}/nope"], 2, ["policy directory not found"],
         {"b.json": GOOD}),
    Case("policy-is-a-file", ["audit", "{d}/b.json", "--policy", "{d}/b.json"], 2, ["policy directory"],
         {"b.json": GOOD}),
    # --- audit: tailoring ------------------------------------------------------------------------
    Case("tailoring-duplicate-key", audit("{d}/b.json", "--tailoring", "{d}/t.yaml"), 2,
         ["t.yaml:6", "duplicate key 'parameters' (first on line 4)"],
         {"b.json": GOOD,
          **tailoring("parameters: {}\nselect: []\nparameters:\n  patch_days: {value: 9, reason: r}\n")}),
    Case("tailoring-alias-bomb", audit("{d}/b.json", "--tailoring", "{d}/t.yaml"), 2, ["t.yaml", "alias"],
         {"b.json": GOOD, **tailoring("parameters:\n  patch_days:\n    value:\n      a: &a [x, x, x, x, x, x, x, x]\n"
                                      + "".join(f"      b{n}: &b{n} [{', '.join([f'*{p}'] * 8)}]\n"
                                                for n, p in enumerate(["a", *[f"b{i}" for i in range(11)]]))
                                      + "    reason: r\n")}),
    Case("tailoring-unknown-parameter", audit("{d}/b.json", "--tailoring", "{d}/t.yaml"), 2,
         ["t.yaml:5", "unknown parameter 'patch_dayz'", "did you mean patch_days"],
         {"b.json": GOOD, **tailoring("parameters:\n  patch_dayz: {value: 9, reason: r}\n")}),
    Case("tailoring-wrong-type", audit("{d}/b.json", "--tailoring", "{d}/t.yaml"), 2,
         ["t.yaml:5", "parameters.patch_days.value", "expected a whole number"],
         {"b.json": GOOD, **tailoring("parameters:\n  patch_days: {value: thirty, reason: r}\n")}),
    Case("tailoring-device", audit("{d}/b.json", "--tailoring", "/dev/zero"), 2, ["/dev/zero", "not a regular file"],
         {"b.json": GOOD}),
    Case("tailoring-cp932", audit("{d}/b.json", "--tailoring", "{d}/t.yaml"), 2, ["t.yaml", "not UTF-8"],
         {"b.json": GOOD, "t.yaml": (TAILORING_HEAD + "select: [{id: GL-B11, reason: 市の規程}]\n").encode("cp932")}),
    Case("tailoring-python-tag", audit("{d}/b.json", "--tailoring", "{d}/t.yaml"), 2, ["t.yaml:4"],
         {"b.json": GOOD, **tailoring("x: !!python/object/apply:os.system ['true']\n")}),
    Case("tailoring-nested", audit("{d}/b.json", "--tailoring", "{d}/t.yaml"), 2, ["t.yaml", "nested more than"],
         {"b.json": GOOD, **tailoring("x: " + "[" * 5000 + "]" * 5000 + "\n")}),
    Case("tailoring-empty", audit("{d}/b.json", "--tailoring", "{d}/t.yaml"), 2, ["t.yaml"],
         {"b.json": GOOD, "t.yaml": ""}),
    Case("tailoring-a-list", audit("{d}/b.json", "--tailoring", "{d}/t.yaml"), 2, ["t.yaml"],
         {"b.json": GOOD, "t.yaml": "- a\n- b\n"}),
    Case("tailoring-long-integer", audit("{d}/b.json", "--tailoring", "{d}/t.yaml"), 2, ["t.yaml:5", "digits"],
         {"b.json": GOOD, **tailoring("parameters:\n  patch_days: {value: " + "9" * 5000 + ", reason: r}\n")}),
    Case("out-is-the-tailoring", audit("{d}/b.json", "--tailoring", "{d}/t.yaml", "--out", "{d}/t.yaml"), 2,
         ["is an input"], {"b.json": GOOD, **tailoring("select: []\n")}),
    # --- audit --import -------------------------------------------------------------------------
    Case("audit-import-kind-unknown", ["audit", "--import", "excel", "{d}/x.csv"], 2, ["excel"], {"x.csv": "a\n"}),
    Case("import-file-missing", ["audit", "--import", "ad-users", "{d}/nope.csv"], 2, ["nope.csv"]),
    Case("import-binary-junk", ["audit", "--import", "ad-users", "{d}/x.csv"], 2, ["x.csv"],
         {"x.csv": bytes(range(256)) * 4}),
    Case("import-zones-duplicate", ["audit", "--import", "fortigate", "{d}/fw.conf", "--zones", "{d}/z.yaml"], 2,
         ["z.yaml", "duplicate key"], {"fw.conf": FORTIGATE, "z.yaml": ZONES + b"format: auditor-zones/1\n"}),
    # --- import -----------------------------------------------------------------------------------
    Case("secedit-duplicate-key", ["import", "secedit", "{d}/s.inf"], 2,
         ["s.inf:6", "duplicate key 'MinimumPasswordLength' (first on line 4)"],
         {"s.inf": utf16(SECEDIT.replace("LockoutBadCount = 5\n",
                                         "LockoutBadCount = 5\nMinimumPasswordLength = 14\n"))}),
    Case("secedit-5000-digits", ["import", "secedit", "{d}/s.inf"], 2, ["s.inf:4", "digits"],
         {"s.inf": utf16(SECEDIT.replace("= 8", "= " + "9" * 5000))}),
    Case("secedit-binary", ["import", "secedit", "{d}/s.inf"], 2, ["s.inf"], {"s.inf": b"\x00\xff" * 500}),
    Case("secedit-device", ["import", "secedit", "/dev/zero"], 2, ["/dev/zero"]),
    Case("ad-users-empty", ["import", "ad-users", "{d}/ad.csv"], 2, ["ad.csv"], {"ad.csv": b""}),
    Case("ad-users-duplicate-column", ["import", "ad-users", "{d}/ad.csv"], 2, ["ad.csv", "SamAccountName"],
         {"ad.csv": (b'"SamAccountName","SamAccountName","Enabled"\r\n"a","b","True"\r\n')}),
    Case("ad-users-impossible-date", ["import", "ad-users", "{d}/ad.csv"], 2, ["ad.csv:2"],
         {"ad.csv": (AD_HEADER + '"a","A","1","X","True","2026-02-30T08:00:00"\r\n').encode()}),
    Case("hr-roster-mapping-alias", ["import", "hr-roster", "{d}/r.csv", "--mapping", "{d}/m.yaml"], 2,
         ["m.yaml", "alias"],
         {"r.csv": "職員番号,氏名\n1,a\n", "m.yaml": "columns: &c {employee_id: 職員番号}\nx: *c\n"}),
    Case("training-xlsx-not-a-zip", ["import", "training", "{d}/t.xlsx"], 2, ["t.xlsx"], {"t.xlsx": b"PK\x03\x04junk"}),
    Case("hotfix-impossible-date", ["import", "hotfix", "{d}/h.csv"], 2, ["h.csv"],
         {"h.csv": '"Source","Description","HotFixID","InstalledBy","InstalledOn"\r\n'
                   '"PC","Security Update","KB5031356","NT AUTHORITY\\SYSTEM","13/45/2026"\r\n'}),
    Case("fortigate-groups-10000-deep", ["import", "fortigate", "{d}/fw.conf", "--zones", "{d}/z.yaml"], 2,
         ["fw.conf"], {"fw.conf": nested_groups(10_000), "z.yaml": ZONES}),
    Case("fortigate-duplicate-set", ["import", "fortigate", "{d}/fw.conf", "--zones", "{d}/z.yaml"], 2,
         ["fw.conf", "duplicate"],
         {"fw.conf": nested_groups(1).replace(b"set action accept", b"set action accept\n        set action deny"),
          "z.yaml": ZONES}),
    Case("iptables-chains-10000-deep", ["import", "iptables", "{d}/r.rules", "--zones", "{d}/z.yaml"], 2,
         ["r.rules"], {"r.rules": jumping_chains(10_000), "z.yaml": ZONES}),
    Case("nftables-5000-digit-port", ["import", "nftables", "{d}/r.nft", "--zones", "{d}/z.yaml"], 2, ["r.nft"],
         {"r.nft": "table inet filter {\n\tchain forward {\n\t\ttype filter hook forward priority filter; "
                   "policy drop;\n\t\ttcp dport " + "9" * 5000 + " accept\n\t}\n}\n", "z.yaml": ZONES}),
    Case("windows-raw-zip-slip", ["import", "windows-raw", "{d}/c.zip"], 2, ["c.zip"],
         {"c.zip": zipped({"../../etc/evil.json": b"{}", "manifest.json": b"{}"})}),
    Case("windows-raw-not-a-zip", ["import", "windows-raw", "{d}/c.zip"], 2, ["c.zip"], {"c.zip": b"not a zip"}),
    Case("import-out-is-the-export", ["import", "secedit", "{d}/s.inf", "--out", "{d}/s.inf"], 2, ["is an input"],
         {"s.inf": utf16(SECEDIT)}),
    Case("import-collected-at-february-30", ["import", "secedit", "{d}/s.inf", "--collected-at",
                                             "2026-02-30T08:00:00+09:00"], 2, ["--collected-at"],
         {"s.inf": utf16(SECEDIT)}),
    Case("import-utc-offset-bad", ["import", "secedit", "{d}/s.inf", "--utc-offset", "+25:00"], 2, ["--utc-offset"],
         {"s.inf": utf16(SECEDIT)}),
    Case("import-label-bad", ["import", "secedit", "{d}/s.inf", "--label", "novalue"], 2, ["--label"],
         {"s.inf": utf16(SECEDIT)}),
    Case("import-zones-device", ["import", "fortigate", "{d}/fw.conf", "--zones", "/dev/zero"], 2, ["/dev/zero"],
         {"fw.conf": FORTIGATE}),
    Case("import-kind-unknown", ["import", "excel", "{d}/x.csv"], 2, ["excel"], {"x.csv": "a\n"}),
    # --- collect -----------------------------------------------------------------------------------
    Case("collect-zones-duplicate", ["collect", "--zones", "{d}/z.yaml"], 2, ["z.yaml", "duplicate key"],
         {"z.yaml": ZONES + b"format: auditor-zones/1\n"}),
    Case("collect-script-into-directory", ["collect", "--windows-script", "{d}"], 2, ["is a directory"]),
    Case("collect-out-is-the-zones", ["collect", "--zones", "{d}/z.yaml", "--out", "{d}/z.yaml"], 2, ["is an input"],
         {"z.yaml": ZONES}),
    Case("collect-segment-unknown", ["collect", "--segment", "dmz"], 2, ["--segment"]),
    # --- policy --------------------------------------------------------------------------------------
    Case("policy-show-unknown", ["policy", "--policy", "{policy}", "show", "GL-Z99"], 2, ["GL-Z99"]),
    Case("policy-validate-missing", ["policy", "validate", "{d}/nope.yaml"], 2, ["nope.yaml"]),
    Case("policy-validate-duplicate-bundle", ["policy", "validate", "{d}/b.json"], 2, ["duplicate key"],
         {"b.json": GOOD.replace(b'"min_length": 8', b'"min_length": 6, "min_length": 14')}),
    Case("policy-validate-profile-alias", ["policy", "validate", "{d}/p.yaml"], 2, ["p.yaml:4", "description", "alias"],
         {"p.yaml": "id: p\ntitle: &t {ja: 市, en: City}\nextends: national-alpha\ndescription:\n  *t\n"}),
    Case("policy-validate-profile-unknown-parameter", ["policy", "validate", "{d}/p.yaml"], 2,
         ["p.yaml:4", "unknown parameter 'dormant_day'", "did you mean dormant_days"],
         {"p.yaml": "id: p\ntitle: {ja: 市, en: City}\nextends: national-alpha\nparameters: {dormant_day: 30}\n"}),
    Case("policy-dir-with-bomb", ["policy", "--policy", "{d}/pol", "list"], 2, ["policy.yaml", "alias"],
         {"pol/policy.yaml": "format: auditor-policy/1\nid: x\nversion: &v '1'\ntitle: {ja: a, en: a}\n"
                             "default_profile: *v\n"}),
]


def test_the_matrix_is_large_and_its_ids_unique():
    assert len(CASES) >= 60
    assert len({case.id for case in CASES}) == len(CASES)
    commands = {case.argv[0] for case in CASES}
    assert commands == {"audit", "import", "collect", "policy"}


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, data in case.files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    for setup in case.setup:
        setup(tmp_path)
    argv = [arg.replace("{d}", str(tmp_path)).replace("{policy}", str(MINI_POLICY)) for arg in case.argv]
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and not p.is_symlink()
              and not p.is_fifo()}
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own refusal of an option
        code = exit_.code
    out, err = capsys.readouterr()
    assert code == case.code, f"exit {code}: {err or out[:500]}"
    shown = err if case.code == 2 else out + err
    for text in case.says:
        assert text in shown, shown
    if case.code == 2:  # argparse's usage, perhaps, then one line that says what is wrong
        assert err.splitlines()[-1].startswith("auditor: ") and "Traceback" not in err
    after = {p: p.read_bytes() for p in before}
    assert after == before, "an input was changed"
