"""Account hygiene across sources: the directory checks against an HR roster and training records."""

import copy
from pathlib import Path

from auditor import bundles
from auditor.engine import Engine
from auditor.policy import load_policy
from auditor.selection import resolve

POLICY = load_policy()
AS_OF = "2026-11-02T09:00:00+09:00"


def account(name, line, **extra):
    base = {"name": name, "display_name": None, "employee_id": None, "department": "総務課", "enabled": True,
            "created_at": "2020-04-01T09:00:00+09:00", "last_logon_at": "2026-10-30T08:00:00+09:00",
            "password_last_set_at": "2026-09-01T08:00:00+09:00", "password_never_expires": False,
            "password_not_required": False, "reversible_encryption": False, "expires_at": None,
            "groups": ["Domain Users"], "source": {"file": "ad.csv", "line": line}}
    return {**base, **extra}


ACCOUNTS = [
    account("t.ishioka", 2, display_name="石岡 太郎", employee_id="00123"),                 # leaver, enabled
    account("h.tsukuba", 3, display_name="筑波 花子", employee_id="00124"),                 # active
    account("k.mito", 4, display_name="水戸 健", employee_id="00125", enabled=False),      # leaver, disabled
    account("y.kasama", 5, display_name="笠間 由美"),                                       # leaver by name only
    account("old.user", 6, employee_id="00126", last_logon_at="2026-06-01T08:00:00+09:00"),  # dormant
    account("never", 7, employee_id="00127", last_logon_at=None),                          # never logged on, old
    account("newbie", 8, employee_id="00128", last_logon_at=None, created_at="2026-10-20T09:00:00+09:00"),
    account("kyoyo1", 9, display_name="窓口共用"),                                           # shared
    account("adm-tanaka", 10, employee_id="00129", groups=["Domain Admins"]),
    account("tanaka", 11, employee_id="00129", groups=["domain admins", "Domain Users"]),    # admin on daily ID
    account("svc-scan", 12, password_never_expires=True, password_not_required=True),
]
ROSTER = [
    {"employee_id": "00123", "name": "石岡　太郎", "department": "総務課", "status": "left", "status_label": "退職",
     "effective_date": "2026-09-30", "source": {"file": "hr.csv", "line": 2}},
    {"employee_id": "00124", "name": "筑波 花子", "department": "市民課", "status": "active", "status_label": "在職",
     "effective_date": "2026-04-01", "source": {"file": "hr.csv", "line": 3}},
    {"employee_id": "00125", "name": "水戸 健", "department": "税務課", "status": "left", "status_label": "退職",
     "effective_date": "2026-03-31", "source": {"file": "hr.csv", "line": 4}},
    {"employee_id": "00130", "name": "笠間 由美", "department": "市民課", "status": "left", "status_label": "転出",
     "effective_date": "2026-10-01", "source": {"file": "hr.csv", "line": 5}},
    {"employee_id": "00131", "name": "結城 翔", "department": "総務課", "status": "active", "status_label": "在職",
     "effective_date": "2026-04-01", "source": {"file": "hr.csv", "line": 6}},
    {"employee_id": "00132", "name": "古河 綾", "department": "総務課", "status": "leave", "status_label": "休職",
     "effective_date": "2026-07-01", "source": {"file": "hr.csv", "line": 7}},
]
TRAINING = [
    {"employee_id": "00124", "course": "情報セキュリティ研修（令和8年度）", "completed_on": "2026-06-10",
     "completed": True, "source": {"file": "tr.csv", "line": 2}},
    {"employee_id": "00131", "course": "情報セキュリティ研修（令和7年度）", "completed_on": "2025-06-10",
     "completed": True, "source": {"file": "tr.csv", "line": 3}},
]


def bundle(target_id, kind, facts):
    return {"format": "auditor-evidence/1",
            "target": {"id": target_id, "kind": kind, "segment": "lgwan", "department": None, "labels": {}},
            "collected_at": AS_OF, "collector": {"name": "test", "version": "0", "host": None},
            "facts": facts, "sources": [], "errors": []}


def audit(write_bundle, with_org=True, accounts=ACCOUNTS, roster=ROSTER):
    paths = [write_bundle("d/ad.json", bundle("kakuu-ad", "directory", {"directory_accounts": accounts}))]
    if with_org:
        paths.append(write_bundle("d/hr.json", bundle("kakuu-city", "organization",
                                                      {"hr_roster": roster, "training_records": TRAINING})))
    groups = bundles.index(paths)
    engine = Engine(resolve(POLICY), org=bundles.organization(groups))
    return {(r.target.id, r.check.id): r for r in engine.run(bundles.stream(groups))}


def items(result):
    return [f.item.split(" ")[0] for f in result.findings]


def test_each_directory_check_finds_exactly_its_accounts(write_bundle):
    res = audit(write_bundle)
    ad = {check: r for (target, check), r in res.items() if target == "kakuu-ad"}
    assert items(ad["leaver-accounts-disabled"]) == ["t.ishioka"]
    assert items(ad["leaver-accounts-by-name"]) == ["y.kasama"]
    assert items(ad["dormant-directory-accounts"]) == ["old.user", "never"]
    assert items(ad["shared-directory-accounts"]) == ["kyoyo1"]
    assert items(ad["admin-separate-account"]) == ["tanaka"]
    assert items(ad["password-never-expires"]) == ["svc-scan"]
    assert items(ad["password-not-required"]) == ["svc-scan"]
    assert ad["privileged-group-members"].status == "pass"  # 2 of at most 5


def test_findings_point_at_the_source_row(write_bundle):
    res = audit(write_bundle)
    assert res[("kakuu-ad", "leaver-accounts-disabled")].findings[0].item == "t.ishioka (ad.csv:2)"


def test_untrained_active_staff_by_fiscal_year(write_bundle):
    res = audit(write_bundle)
    training = res[("kakuu-city", "staff-annual-training")]
    # 00124 trained this fiscal year; 00131 only last year; leavers and staff on leave are not counted
    assert training.status == "fail" and items(training) == ["00131"]
    assert training.findings[0].item == "00131 結城 翔 (hr.csv:6)"


def test_privileged_count_over_the_limit(write_bundle):
    admins = [account(f"adm-{i}", 20 + i, groups=["Domain Admins"]) for i in range(6)]
    res = audit(write_bundle, accounts=[*ACCOUNTS, *admins])
    result = res[("kakuu-ad", "privileged-group-members")]
    assert result.status == "fail" and result.findings[0].actual == 8


def test_without_organisation_evidence_the_roster_checks_are_errors(write_bundle):
    res = audit(write_bundle, with_org=False)
    leavers = res[("kakuu-ad", "leaver-accounts-disabled")]
    assert leavers.status == "error" and "organisation evidence" in leavers.message["en"]
    assert res[("kakuu-ad", "dormant-directory-accounts")].status == "fail"  # needs no roster


def test_disabled_leaver_is_not_reported_and_new_accounts_are_not_dormant(write_bundle):
    res = audit(write_bundle)
    assert "k.mito" not in items(res[("kakuu-ad", "leaver-accounts-disabled")])
    assert "newbie" not in items(res[("kakuu-ad", "dormant-directory-accounts")])


def test_leaver_within_grace_days_is_not_yet_reported(write_bundle):
    roster = copy.deepcopy(ROSTER)
    roster[0]["effective_date"] = "2026-10-31"  # two days before the evaluation date; the grace is 3 days
    res = audit(write_bundle, roster=roster)
    assert items(res[("kakuu-ad", "leaver-accounts-disabled")]) == []


def test_a_roster_excel_saved_again_still_finds_leavers_and_names_unplaced_statuses(tmp_path, capsys):
    """Excel dropped the employee numbers' leading zeros (it read the CSV as numbers and saved it
    again), and HR's system wrote its status code 9 (its 退職), which the default mapping cannot place."""
    import json

    from auditor.cli import main

    ad = Path(__file__).parent / "fixtures" / "exports" / "ad-users-ps51.csv"  # t.ishioka 00123, k.mito 00125
    roster = tmp_path / "roster.csv"
    roster.write_bytes("職員番号,氏名,所属,在職区分,発令日\r\n123,石岡　太郎,総務課,9,2026/3/31\r\n"
                       "125,水戸　健,税務課,退職,2026/3/31\r\n".encode("cp932"))
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("format: auditor-hr-mapping/1\nstatus_values: {left: [退職, 9]}\n", encoding="utf-8")

    def audit(*mapping_args):
        assert main(["import", "ad-users", str(ad), "--target", "ad", "--out", str(tmp_path / "ad.json")]) == 0
        assert main(["import", "hr-roster", str(roster), "--target", "city", *mapping_args,
                     "--out", str(tmp_path / "hr.json")]) == 0
        main(["audit", str(tmp_path / "ad.json"), str(tmp_path / "hr.json"), "--as-of", "2026-11-02",
              "--format", "json", "--lang", "en"])
        doc = json.loads(capsys.readouterr().out)
        wanted = ("roster-statuses-recognised", "leaver-accounts-disabled")
        return {r["check"]: (r["status"], [f["item"] for f in r["findings"]]) for r in doc["results"]
                if r["check"] in wanted and r["status"] != "notapplicable"}

    assert audit() == {"roster-statuses-recognised": ("fail", [f"123 9 ({roster}:2)"]),
                       "leaver-accounts-disabled": ("pass", [])}
    assert audit("--mapping", str(mapping)) == {"roster-statuses-recognised": ("pass", []),
                                                "leaver-accounts-disabled": ("fail", [f"t.ishioka ({ad}:3)"])}


def test_what_is_worked_out_from_the_roster_is_kept_for_the_run(write_bundle, monkeypatch):
    from auditor import conditions

    # long enough lists to be judged a list at a time, where frames and indexes are built
    roster = ROSTER + [{**ROSTER[1], "employee_id": f"9{i:04d}", "source": {"file": "hr.csv", "line": 8 + i}}
                       for i in range(200)]
    accounts = ACCOUNTS + [account(f"u{i}", 13 + i, employee_id=f"9{i:04d}") for i in range(200)]
    paths = [write_bundle("d/ad.json", bundle("kakuu-ad", "directory", {"directory_accounts": accounts})),
             write_bundle("d/hr.json", bundle("kakuu-city", "organization",
                                              {"hr_roster": roster, "training_records": TRAINING}))]
    built = []
    frame_init = conditions.Frame.__init__

    def counted(self, items):
        built.append(items)
        frame_init(self, items)

    monkeypatch.setattr(conditions.Frame, "__init__", counted)

    def run(shared):
        groups = bundles.index(paths)
        org = bundles.organization(groups)
        engine = Engine(resolve(POLICY), org=org)
        if not shared:  # each target works it out again in its own memo, as before the run-long one
            engine._lasting_lists = frozenset()
        results = engine.run(bundles.stream(groups, loaded=org))
        return [(r.target.id, r.check.id, r.status, [f.as_dict() for f in r.findings]) for r in results]

    separately = run(shared=False)
    assert sum(len(items) == len(roster) for items in built) == 2  # the directory's checks', the roster's own
    built.clear()
    assert run(shared=True) == separately
    assert sum(len(items) == len(roster) for items in built) == 1  # one frame of the roster, for both targets
