"""Every check has a passing and a failing fixture, and each fixture gives that verdict.

A check's fixtures live in tests/fixtures/checks/<check id>/: `pass/` and `fail/` hold the
bundles (as files collectors and importers write them; several for checks that read the
organisation's evidence too), and an optional `options.yaml` gives the profile and the
evaluation date (`{profile: national-beta, as_of: 2026-11-02}`). The checks older than this
convention are tested in test_endpoint_checks.py, test_directory_checks.py and the firewall
tests; LEGACY lists them and may only shrink.
"""

from pathlib import Path

import pytest
import yaml

from auditor.cli import main
from auditor.policy import load_policy

FIXTURES = Path(__file__).parent / "fixtures" / "checks"
LEGACY = frozenset({
    "admin-separate-account",
    "antimalware-installed",
    "antimalware-realtime",
    "antimalware-signatures-fresh",
    "antimalware-signatures-fresh-mynumber",
    "audit-policy-subcategories",
    "disk-encryption-all-fixed",
    "disk-encryption-system",
    "dormant-directory-accounts",
    "external-inbound-closed",
    "host-firewall-default-deny",
    "host-firewall-enabled",
    "host-firewall-forward-deny",
    "inactive-lock-default",
    "internet-egress-via-security-cloud",
    "internet-to-lgwan-sanitised-only",
    "journal-retention",
    "leaver-accounts-by-name",
    "leaver-accounts-disabled",
    "lgwan-no-direct-internet",
    "lgwan-to-internet-limited",
    "linux-audit-daemon",
    "listening-ports-allowed",
    "local-admin-count",
    "lockout-duration",
    "lockout-enabled",
    "lockout-threshold",
    "log-forwarding",
    "logs-persistent",
    "mn-inbound-closed",
    "mn-no-wireless",
    "mn-outbound-specified-only",
    "mn-removable-storage-blocked",
    "no-empty-passwords",
    "no-generic-accounts",
    "no-insecure-services",
    "no-ip-forwarding",
    "no-pending-security-updates",
    "ntp-enabled",
    "os-supported",
    "package-index-fresh",
    "password-age-accounts",
    "password-complexity",
    "password-hash-algorithm",
    "password-history",
    "password-max-age",
    "password-min-length",
    "password-never-expires",
    "password-not-required",
    "password-not-reversible",
    "privileged-group-members",
    "removable-devices-registered",
    "removable-media-restricted",
    "roster-statuses-recognised",
    "screen-lock-password",
    "screen-lock-timeout",
    "screen-transfer-no-redirection",
    "security-update-age",
    "security-updates-recent",
    "shared-directory-accounts",
    "shell-idle-timeout",
    "single-segment",
    "single-superuser",
    "software-approved",
    "sshd-max-auth-tries",
    "sshd-no-empty-passwords",
    "sshd-password-authentication",
    "sshd-root-login",
    "staff-annual-training",
    "stale-passwords",
    "system-accounts-no-login",
    "system-logging-active",
    "time-offset",
    "time-synchronized",
    "updates-applied-recently",
    "windows-firewall-profiles",
})
POLICY = load_policy()
CHECKS = POLICY.checks
MANUAL = sorted(c for c, check in CHECKS.items() if check.manual)
ORGANISATION = Path(__file__).parents[1] / "examples" / "fleet" / "kakuu-city-hr-roster.json"


def test_every_check_has_both_fixtures():
    missing = [c for c in CHECKS if c not in LEGACY and c not in MANUAL
               and not all((FIXTURES / c / v).is_dir() for v in ("pass", "fail"))]
    assert missing == [], f"checks without tests/fixtures/checks/<id>/pass and fail: {missing}"
    assert CHECKS.keys() >= LEGACY, f"LEGACY names checks that no longer exist: {sorted(LEGACY - CHECKS.keys())}"
    folders = list(FIXTURES.iterdir()) if FIXTURES.is_dir() else []
    assert all(d.name in CHECKS for d in folders if d.is_dir()), "a fixture folder of no check"


CASES = sorted((d.name, verdict) for d in FIXTURES.iterdir() if d.is_dir() for verdict in ("pass", "fail")
               if (d / verdict).is_dir()) if FIXTURES.is_dir() else []


@pytest.mark.parametrize(("check", "verdict"), CASES, ids=[f"{c}-{v}" for c, v in CASES])
def test_the_fixture_gives_its_verdict(check, verdict, capsys):
    import json

    folder = FIXTURES / check
    options = yaml.safe_load((folder / "options.yaml").read_text(encoding="utf-8")) if (
        folder / "options.yaml").is_file() else {}
    argv = ["audit", str(folder / verdict), "--format", "json", "--lang", "en"]
    if options.get("profile"):
        argv += ["--profile", options["profile"]]
    if options.get("as_of"):
        argv += ["--as-of", str(options["as_of"])]
    main(argv)
    doc = json.loads(capsys.readouterr().out)
    mine = [r for r in doc["results"] if r["check"] == check]
    assert mine, f"{check} gave no result on its {verdict} fixture (is it selected by the profile?)"
    statuses = [r["status"] for r in mine]
    if verdict == "pass":
        # a fixture may hold a second target the check reads but does not judge (endpoints for a register)
        assert set(statuses) - {"notapplicable"} == {"pass"}, [(r["target"], r["status"], r["message"])
                                                               for r in mine]
    else:
        assert "fail" in statuses, [(r["target"], r["status"], r["message"]) for r in mine]


def _profile_selecting(check: str) -> str:
    from auditor.selection import resolve

    for name in POLICY.profiles:
        if any(c.id == check for c in resolve(POLICY, name).checks):
            return name
    raise AssertionError(f"no profile selects {check}")


@pytest.mark.parametrize("check", MANUAL)
@pytest.mark.parametrize(("valid_until", "expected"),
                         [("2027-03-31", "pass"), ("2026-10-31", "fail"), (None, "manual")])
def test_a_manual_check_follows_its_attestation(check, valid_until, expected, tmp_path, capsys):
    import json

    argv = ["audit", str(ORGANISATION), "--format", "json", "--lang", "en", "--as-of", "2026-11-02",
            "--profile", _profile_selecting(check)]
    if valid_until is not None:
        path = tmp_path / "attestations.yaml"
        path.write_text(yaml.safe_dump({"format": "auditor-attestations/1", "attestations": [{
            "check": check, "targets": ["kakuu-*"], "attested_by": "情報政策課長", "attested_on": "2026-04-01",
            "valid_until": valid_until, "document": {"name": "令和8年度 確認記録.pdf"}}]}, allow_unicode=True),
            encoding="utf-8")
        argv += ["--attestations", str(path)]
    main(argv)
    doc = json.loads(capsys.readouterr().out)
    mine = [r for r in doc["results"] if r["check"] == check]
    assert [r["status"] for r in mine] == [expected], [(r["target"], r["status"], r["message"]) for r in mine]
    if expected == "pass":
        assert mine[0]["attestation"]["document"] == "令和8年度 確認記録.pdf"
