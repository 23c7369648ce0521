"""``--format html``: one self-contained page per audience, to hand on or print on A4.

The page makes no network request (inline CSS and SVG charts, no script, a Content-Security-Policy
that forbids loading anything) so that it opens the same inside the My Number segment as outside,
and Jinja2 escapes every value: an account called ``<img onerror=...>`` or a firewall rule
comment stays text. The three views of :class:`~auditor.reports.ReportOptions` are three templates
over one set of prepared facts:

- ``admin``: everything, targets worst first;
- ``trainer``: the controls that fail most and where, with why and how to fix, and no personal
  names (accounts and staff become 職員A, 職員B... for the run, or the export package's keyed
  pseudonyms when ``AUDITOR_PSEUDONYM_KEY`` is set);
- ``inspector``: working papers (監査調書) per control in guideline order with the evidence trail
  and its SHA-256, ending with the audit report (監査報告書): findings and advisories.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from auditor.i18n import labeller, t
from auditor.reports import ReportOptions, register
from auditor.reports.csv_report import broken_place
from auditor.reports.dates import show_date
from auditor.reports.table import gate_reasons

MAX_FINDINGS = 50  # per result shown; the JSON report keeps them all
MAX_VALUE = 300  # characters of one value in a sentence
TRAINER_EXAMPLES = 5
SEVERITY_ORDER = ("critical", "high", "medium", "low")
# Keys of a finding's record that name a person (as auditor.pseudonyms.PERSONAL does for bundles).
PERSON_KEYS = ("name", "display_name", "employee_id", "home", "user", "account")
# Built-in accounts that are no person: shown as they are in the trainer view.
SYSTEM_ACCOUNTS = frozenset({"root", "administrator", "guest", "defaultaccount", "krbtgt", "wdagutilityaccount",
                             "daemon", "nobody", "system"})
_FACT_PATH = re.compile(r"^([a-z_][a-z0-9_]*)(\.[a-z0-9_]+)+$")
# Fields of accounts and staff records: a condition reading them was failed by a person's record.
_PERSON_FIELDS = re.compile(r"\b(password_\w+|last_password_change|last_logon_at|employee_id|display_name|groups|"
                            r"login_allowed)\b")
_SOURCE_SUFFIX = re.compile(r"\s*\(([^()]+):(\d+)\)$")

LABELS: dict[str, dict[str, str]] = {
    "view_admin": {"ja": "管理者向け報告書", "en": "Administrator's report"},
    "view_trainer": {"ja": "研修担当者向け報告書", "en": "Trainer's report"},
    "view_inspector": {"ja": "監査調書・監査報告書", "en": "Audit working papers and report"},
    "evaluated": {"ja": "評価済み {evaluated}/{applicable} 件", "en": "evaluated {evaluated}/{applicable}"},
    "evaluated_none": {"ja": "評価対象なし", "en": "nothing applicable"},
    "coverage_detail": {"ja": "（{share}%。証跡なし {not_supplied} 件・証跡不備 {broken} 件）",
                        "en": " ({share}%; evidence not supplied {not_supplied}, broken {broken})"},
    "run_id": {"ja": "実行ID", "en": "Run"},
    "finished_at": {"ja": "実行日時", "en": "Run at"},
    "tool": {"ja": "ツール", "en": "Tool"},
    "headline": {"ja": "総合結果", "en": "Overall result"},
    "gate_blockers": {"ja": "ゲートを不通過にした重大項目", "en": "Critical results that failed the gate"},
    "gate_waived": {"ja": "例外承認された重大項目", "en": "Critical results under a waiver"},
    "by_family": {"ja": "分野別スコア", "en": "Score by control family"},
    "by_segment": {"ja": "系統別スコア", "en": "Score by segment"},
    "by_department": {"ja": "所属別スコア", "en": "Score by department"},
    "family": {"ja": "分野", "en": "Family"},
    "targets_worst_first": {"ja": "対象別スコア（低い順）", "en": "Targets, worst first"},
    "findings_by_target": {"ja": "対象別の不適合・評価不能", "en": "Failed and unevaluated results by target"},
    "found": {"ja": "確認結果", "en": "Found"},
    "source": {"ja": "証跡", "en": "Evidence"},
    "sentence_found": {"ja": "{item} は {actual} でした。", "en": "{item} was {actual}."},
    "sentence_found_item": {"ja": "{item} が該当しました。", "en": "{item} was found."},
    "sentence_expected": {"ja": "求められる状態: {expected}", "en": "Required: {expected}"},
    "source_row": {"ja": "{file} の {row} 行目", "en": "{file}, row {row}"},
    "source_line": {"ja": "{file} の {line} 行目", "en": "{file}, line {line}"},
    "none_value": {"ja": "（値なし）", "en": "(no value)"},
    "true_value": {"ja": "有効（true）", "en": "true"},
    "false_value": {"ja": "無効（false）", "en": "false"},
    "more_findings": {"ja": "…ほか {count} 件（全件は JSON 報告にあります）",
                      "en": "… and {count} more (all of them are in the JSON report)"},
    "waiver_note": {"ja": "例外承認 {id}（{approval_number}、承認者 {approver}、{expires} まで）: "
                          "本来の結果は{status}。理由: {reason}",
                    "en": "Waived by {id} ({approval_number}, approved by {approver}, until {expires}): "
                          "really {status}. Reason: {reason}"},
    "waiver_expired_note": {"ja": "例外措置 {id} は {expires} で期限切れのため適用されていません",
                            "en": "Waiver {id} lapsed on {expires} and was not applied"},
    "attestation_note": {"ja": "{by} が {on} に確認（{document}、{until} まで有効）",
                         "en": "Attested by {by} on {on} ({document}; valid until {until})"},
    "approver": {"ja": "承認者", "en": "Approver"},
    "approval_number": {"ja": "承認番号", "en": "Approval No."},
    "granted": {"ja": "承認日", "en": "Granted"},
    "scope": {"ja": "範囲", "en": "Scope"},
    "used_count": {"ja": "適用件数", "en": "Applied"},
    "no_waivers": {"ja": "例外措置の指定はありません。", "en": "No waivers were given."},
    "no_attestations": {"ja": "担当者による確認の記録は指定されていません。", "en": "No attestations were given."},
    "attested_by": {"ja": "確認者", "en": "Attested by"},
    "attested_on": {"ja": "確認日", "en": "Attested on"},
    "valid_until": {"ja": "有効期限", "en": "Valid until"},
    "document": {"ja": "確認資料", "en": "Document"},
    "att_state_valid": {"ja": "有効", "en": "valid"},
    "att_state_expired": {"ja": "期限切れ", "en": "lapsed"},
    "att_state_pending": {"ja": "確認日前", "en": "not yet"},
    "manual_open": {"ja": "確認が未記録の要確認項目", "en": "Manual checks with no attestation"},
    "evidence_files": {"ja": "証跡ファイル", "en": "Evidence files"},
    "collected_at": {"ja": "収集日時", "en": "Collected at"},
    "file": {"ja": "ファイル", "en": "File"},
    "imported_from": {"ja": "取込元", "en": "Imported from"},
    "count": {"ja": "件数", "en": "Count"},
    "most_failed": {"ja": "不適合の多い管理策", "en": "Most failed controls"},
    "failed_results": {"ja": "不適合 {fail} 件・評価不能 {error} 件", "en": "{fail} failed, {error} not evaluated"},
    "why": {"ja": "なぜ重要か", "en": "Why it matters"},
    "how": {"ja": "直し方", "en": "How to fix it"},
    "where": {"ja": "発生した所属", "en": "Where it happened"},
    "examples": {"ja": "指摘の例", "en": "Examples"},
    "top_controls": {"ja": "主な不適合の管理策", "en": "Main failed controls"},
    "trainer_note": {"ja": "この報告書には個人名を載せていません。"
                            "アカウント・職員は実行ごとの仮名（職員A など）で示します。",
                     "en": "This report names no person: accounts and staff are shown by labels for this run "
                           "(Staff A, ...)."},
    "trainer_note_keyed": {"ja": "この報告書には個人名を載せていません。アカウント・職員は鍵付きの仮名で示します。",
                           "en": "This report names no person: accounts and staff are shown by keyed pseudonyms."},
    "person": {"ja": "職員", "en": "Staff "},
    "no_failures": {"ja": "不適合の管理策はありません。", "en": "No control failed."},
    "wp_heading": {"ja": "監査調書（管理策別）", "en": "Working papers by control"},
    "wp_title": {"ja": "監査調書 {id}", "en": "Working paper {id}"},
    "wp_reference": {"ja": "ガイドラインの節", "en": "Guideline section"},
    "wp_audit_items": {"ja": "監査項目", "en": "Audit checklist items"},
    "wp_mode": {"ja": "確認方法", "en": "Method"},
    "mode_automatic": {"ja": "自動点検", "en": "automatic"},
    "mode_manual": {"ja": "文書による確認", "en": "documentary"},
    "mode_mixed": {"ja": "自動点検と文書確認", "en": "automatic and documentary"},
    "wp_objective": {"ja": "監査の観点", "en": "Objective"},
    "wp_procedure": {"ja": "実施した手続", "en": "Procedure performed"},
    "wp_procedure_text": {"ja": "次の点検を {count} 件の対象に実施した。", "en": "The following checks were run on "
                          "{count} target(s)."},
    "wp_results": {"ja": "点検結果と証跡", "en": "Results and evidence trail"},
    "wp_conclusion": {"ja": "結論", "en": "Conclusion"},
    "concl_pass": {"ja": "適合: 点検したすべての対象で基準を満たしている。",
                   "en": "Compliant: every target checked meets it."},
    "concl_fail": {"ja": "指摘あり: 基準を満たさない対象がある（監査報告書の指摘事項）。",
                   "en": "Finding: some targets do not meet it (see the findings of the audit report)."},
    "concl_error": {"ja": "評価不能あり: 証跡がないか不備のため判断できない対象がある。",
                    "en": "Not concluded: evidence missing or broken for some targets."},
    "concl_manual": {"ja": "要確認: 担当者による確認の記録がない。", "en": "Open: no attestation has been recorded."},
    "concl_waived": {"ja": "例外承認: 承認された例外措置の範囲で基準を満たしていない。",
                     "en": "Waived: does not meet it, within an approved waiver."},
    "not_applicable_controls": {"ja": "評価対象のなかった管理策", "en": "Controls with nothing applicable"},
    "report_heading": {"ja": "監査報告書", "en": "Audit report"},
    "report_scope": {"ja": "監査の概要", "en": "Scope and basis"},
    "report_scope_text": {"ja": "{policy}（{version}）のプロファイル {profile} に基づき、{targets} 件の対象の証跡を"
                                "{as_of} 時点で点検した。",
                          "en": "Evidence of {targets} target(s) was checked against profile {profile} of "
                                "{policy} ({version}) as of {as_of}."},
    "report_opinion": {"ja": "総合評価", "en": "Overall assessment"},
    "report_findings": {"ja": "指摘事項", "en": "Findings"},
    "report_advisories": {"ja": "助言事項", "en": "Advisories"},
    "no_report_findings": {"ja": "指摘事項はありません。", "en": "No findings."},
    "no_advisories": {"ja": "助言事項はありません。", "en": "No advisories."},
    "adv_waiver_expiring": {"ja": "例外措置 {id}（{approval_number}）は {expires} に期限を迎えます（残り {days} 日）。"
                                  "継続の要否を判断してください。",
                            "en": "Waiver {id} ({approval_number}) expires on {expires} ({days} day(s) left): "
                                  "decide whether it is still needed."},
    "adv_waiver_expired": {"ja": "例外措置 {id}（{approval_number}）は {expires} で期限切れです。"
                                 "該当する {count} 件は不適合として扱っています。",
                           "en": "Waiver {id} ({approval_number}) lapsed on {expires}; the {count} result(s) it "
                                 "covered count as failures."},
    "adv_waiver_unused": {"ja": "例外措置 {id}（{approval_number}）はどの結果にも適用されていません。"
                                "不要であれば廃止してください。",
                          "en": "Waiver {id} ({approval_number}) applied to no result: withdraw it if no longer "
                                "needed."},
    "adv_coverage": {"ja": "{target}: 評価済み {evaluated}/{applicable} 件（証跡なし {not_supplied} 件・"
                           "証跡不備 {broken} 件）。証跡を補って再点検してください。",
                     "en": "{target}: evaluated {evaluated}/{applicable} (evidence not supplied {not_supplied}, "
                           "broken {broken}): supply the evidence and audit again."},
    "adv_manual": {"ja": "{control} {title}（{target}）: 担当者による確認が記録されていません。",
                   "en": "{control} {title} ({target}): no attestation is recorded."},
    "adv_unread": {"ja": "読み込めなかった証跡: {path}（{problem}）", "en": "Evidence not read: {path} ({problem})"},
    "no": {"ja": "番号", "en": "No."},
    "na": {"ja": "対象外", "en": "n/a"},
    "digest": {"ja": "SHA-256", "en": "SHA-256"},
    "policy_digest": {"ja": "ポリシーの SHA-256", "en": "Policy SHA-256"},
    "contents": {"ja": "目次", "en": "Contents"},
    "trend": {"ja": "スコアの推移（直近の監査）", "en": "Score trend (recent audits)"},
    "trend_run": {"ja": "第{run}回 {day}: {score}（{grade}）", "en": "Run {run}, {day}: {score} ({grade})"},
}


_label = labeller(LABELS)


def _short(text: str) -> str:
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def _value_text(value: Any, lang: str) -> str:
    """A finding's value in words: records as ``key: value``, lists joined, true/false named."""
    if value is None:
        return _label("none_value", lang)
    if value is True:
        return _label("true_value", lang)
    if value is False:
        return _label("false_value", lang)
    if isinstance(value, dict):
        return _short(", ".join(f"{k}: {_value_text(v, lang)}" for k, v in value.items()))
    if isinstance(value, list):
        return _short(", ".join(_value_text(v, lang) for v in value) or "[]")
    return _short(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))


def _source_text(source: Any, lang: str) -> str | None:
    if not isinstance(source, dict) or not source.get("file"):
        return None
    for key in ("row", "line"):
        if source.get(key) is not None:
            return _label(f"source_{key}", lang, file=source["file"], **{key: source[key]})
    return str(source["file"])


def _in_lang(value: Any, lang: str) -> str | None:
    if isinstance(value, dict):
        chosen = value.get(lang) or next((v for v in value.values() if isinstance(v, str) and v), None)
        return chosen if isinstance(chosen, str) else None
    return value if isinstance(value, str) and value else None


def _is_fact_path(item: str) -> bool:
    """``password_policy.min_length`` is a fact; ``a.koga`` is an account that looks like one."""
    from auditor.schemas.facts import FACT_SCHEMAS

    match = _FACT_PATH.match(item)
    return bool(match) and match.group(1) in FACT_SCHEMAS


def finding_sentences(finding: dict[str, Any], lang: str) -> dict[str, str | None]:
    """What was found and what was required, as sentences, and where it was found (file and row or line)."""
    item = str(finding.get("item", ""))
    source = _source_text(finding.get("source"), lang)
    if source is None:  # the engine writes "name (file:row)" into the item of a record from an export
        match = _SOURCE_SUFFIX.search(item)
        if match:
            source = _label("source_row", lang, file=match.group(1), row=match.group(2))
    item_text = _short(item)
    actual = finding.get("actual")
    if isinstance(actual, dict) or not _is_fact_path(item):
        found = _label("sentence_found_item", lang, item=item_text) if isinstance(actual, dict | bool) else \
            _label("sentence_found", lang, item=item_text, actual=_value_text(actual, lang))
        detail = _value_text(actual, lang) if isinstance(actual, dict) else None
    else:
        found = _label("sentence_found", lang, item=item_text, actual=_value_text(actual, lang))
        detail = None
    expected = _in_lang(finding.get("expected_text"), lang) or _value_text(finding.get("expected"), lang)
    return {"found": found, "detail": detail, "expected": _label("sentence_expected", lang, expected=expected),
            "source": source}


def coverage_text(coverage: dict[str, Any] | None, lang: str, detail: bool = False) -> str:
    """``評価済み 120/130 件``: stated beside every score, so that 100 on a tenth of the checks shows as that."""
    if not coverage or not coverage.get("applicable"):
        return _label("evaluated_none", lang)
    text = _label("evaluated", lang, **coverage)
    if detail:
        text += _label("coverage_detail", lang, **coverage)
    return text


def control_order(control_id: str) -> tuple[Any, ...]:
    """Guideline order: GL-A01, GL-A02, ... GL-A10, then GL-B01 (numbers compared as numbers)."""
    parts = re.split(r"(\d+)", control_id)
    return tuple(int(p) if p.isdigit() else p for p in parts)


class _Labeller:
    """Stable stand-ins for the people the results name: 職員A, 職員B... in order of first appearance."""

    def __init__(self, lang: str, key: bytes | None) -> None:
        from auditor.pseudonyms import Pseudonymizer

        self.lang = lang
        self.names = Pseudonymizer(key or b"")
        self.keyed = key is not None

    def _next_label(self) -> str:
        n, letters = len(self.names.values), ""
        while True:
            letters = chr(ord("A") + n % 26) + letters
            n = n // 26 - 1
            if n < 0:
                return _label("person", self.lang) + letters

    def add(self, value: Any, prefix: str = "user") -> None:
        if not isinstance(value, str):
            return
        value = value.strip()
        if not value or value.casefold() in SYSTEM_ACCOUNTS or value in self.names.values:
            return
        if value.isascii() and len(value) < 3:  # as auditor.pseudonyms: a short id would hit unrelated words
            return
        label = self.names.pseudonym(value, prefix) if self.keyed else self._next_label()
        self.names.values[value] = label
        self.names._pattern = None

    def learn(self, results: list[dict[str, Any]]) -> None:
        """The personal values of the findings: record fields that name people, and the items of their records.

        A record is a person's when it has a field that names one, when the condition it failed reads an
        account's or a staff member's fields, or when a single word names it (an account: "kenshu").
        """
        for result in results:
            for finding in result.get("findings") or []:
                actual = finding.get("actual")
                item = _SOURCE_SUFFIX.sub("", str(finding.get("item", "")))
                if _is_fact_path(item):
                    continue
                named = isinstance(actual, dict) and any(k in actual for k in PERSON_KEYS)
                if named:
                    for key in PERSON_KEYS:
                        self.add(actual.get(key), "staff" if key == "employee_id" else "user")
                if named or _PERSON_FIELDS.search(str(finding.get("expected", ""))) or \
                        re.fullmatch(r"[\w.\-@$\\]+", item):
                    for part in item.split(" / "):
                        self.add(part)
                        head, _, rest = part.partition(" ")
                        if head.isdigit():  # "00131 結城 翔": the employee number and the name
                            self.add(head, "staff")
                            self.add(rest, "person")

    def document(self, doc: dict[str, Any]) -> dict[str, Any]:
        return self.names.document(doc)


def _pseudonym_key() -> bytes | None:
    from auditor.pseudonyms import KEY_ENV, MIN_KEY_BYTES

    key = os.environ.get(KEY_ENV, "").encode()
    return key if len(key) >= MIN_KEY_BYTES else None


def _evidence_index(run: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted((e for e in run.get("evidence") or [] if isinstance(e, dict)),
                  key=lambda e: (str(e.get("target")), str(e.get("file"))))


def evidence_trail(result: dict[str, Any], evidence: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A result's evidence names, each with the file's SHA-256 as the run recorded it."""
    trail = []
    for name in result.get("evidence") or []:
        entry = next((e for e in evidence if e.get("file") and (name == e["file"] or
                                                                 str(name).startswith(f"{e['file']}: "))), None)
        trail.append({"name": name, "sha256": entry.get("sha256") if entry else None})
    return trail


def _result_view(result: dict[str, Any], lang: str, style: str) -> dict[str, Any]:
    findings = result.get("findings") or []
    notes = []
    waiver = result.get("waiver")
    if waiver:
        notes.append(_label("waiver_note", lang, id=waiver.get("id"), approval_number=waiver.get("approval_number"),
                            approver=waiver.get("approver"), expires=show_date(waiver.get("expires"), style, lang),
                            status=t(result.get("waived_status") or "fail", lang), reason=waiver.get("reason")))
    for note in result.get("notes") or []:
        lapsed = note.get("waiver_expired") if isinstance(note, dict) else None
        if lapsed:
            notes.append(_label("waiver_expired_note", lang, id=lapsed.get("id"),
                                expires=show_date(lapsed.get("expires"), style, lang)))
    attestation = result.get("attestation")
    if attestation:
        notes.append(_label("attestation_note", lang, by=attestation.get("attested_by"),
                            on=show_date(attestation.get("attested_on"), style, lang),
                            document=attestation.get("document"),
                            until=show_date(attestation.get("valid_until"), style, lang)))
    cause = result.get("cause")
    cause_text = None
    if cause:
        if cause.get("kind") == "not-supplied":
            cause_text = t("cause_not_supplied", lang, area=cause.get("area"),
                           suppliers=" / ".join(cause.get("supplied_by") or []) or "-")
        else:
            cause_text = t("cause_broken", lang, file=broken_place(cause), field=cause.get("field") or "")
    return {**result, "sentences": [finding_sentences(f, lang) for f in findings[:MAX_FINDINGS]],
            "more": max(0, len(findings) - MAX_FINDINGS), "notes": notes, "cause_text": cause_text,
            "cause_kind": (cause or {}).get("kind")}


def _attention(result: dict[str, Any]) -> bool:
    return result["status"] in ("fail", "error", "waived")


def _admin(doc: dict[str, Any], lang: str, style: str) -> dict[str, Any]:
    by_target: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for result in doc["results"]:
        if _attention(result):
            by_target[result["target"]].append(_result_view(result, lang, style))
    targets = sorted(doc["targets"], key=lambda tg: (tg["score"] if tg["score"] is not None else 101.0, tg["id"]))
    manual = [r for r in doc["results"] if r["status"] == "manual"]
    return {"targets_sorted": targets, "by_target": by_target, "manual_open": manual,
            "evidence_files": _evidence_index(doc["run"])}


def _trainer(doc: dict[str, Any], lang: str, style: str) -> dict[str, Any]:
    department_of = {tg["id"]: tg.get("department") for tg in doc["targets"]}
    fails: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    where: dict[str, Counter[str]] = defaultdict(Counter)
    examples: dict[str, list[dict[str, Any]]] = defaultdict(list)
    per_department: dict[str, Counter[str]] = defaultdict(Counter)
    for result in doc["results"]:
        status = result["status"]
        if status not in ("fail", "error"):
            continue
        department = department_of.get(result["target"]) or t("segment_none", lang)
        for control in result["controls"]:
            (fails if status == "fail" else errors)[control] += 1
            if status == "fail":
                where[control][department] += 1
                per_department[department][control] += 1
                if len(examples[control]) < TRAINER_EXAMPLES:
                    examples[control].append(_result_view(result, lang, style))
    controls = {c["id"]: c for c in doc["controls"]}
    ranked = sorted((c for c in controls if fails[c]), key=lambda c: (-fails[c], -errors[c], control_order(c)))
    departments = []
    for entry in doc["departments"]:
        name = entry["department"] or t("segment_none", lang)
        top = per_department.get(name, Counter()).most_common(5)
        departments.append({**entry, "name": name, "top": [(controls[c], n) for c, n in top if c in controls]})
    return {"ranked": [{"control": controls[c], "fail": fails[c], "error": errors[c],
                        "where": where[c].most_common(), "examples": examples[c]} for c in ranked if c in controls],
            "departments_view": departments}


def _conclusion(summary: dict[str, int]) -> str:
    for status, key in (("fail", "concl_fail"), ("error", "concl_error"), ("manual", "concl_manual"),
                        ("waived", "concl_waived")):
        if summary.get(status):
            return key
    return "concl_pass"


def _inspector(doc: dict[str, Any], lang: str, style: str) -> dict[str, Any]:
    evidence = _evidence_index(doc["run"])
    by_control: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for result in doc["results"]:
        if result["status"] == "notapplicable":
            continue
        view = _result_view(result, lang, style)
        view["trail"] = evidence_trail(result, evidence)
        for control in result["controls"]:
            by_control[control].append(view)
    papers, empty = [], []
    for control in sorted(doc["controls"], key=lambda c: control_order(c["id"])):
        results = by_control.get(control["id"], [])
        if not results:
            empty.append(control)
            continue
        checks = {}
        for r in results:
            checks.setdefault(r["check"], r["title"])
        papers.append({"control": control, "results": results, "checks": sorted(checks.items()),
                       "targets": len({r["target"] for r in results}),
                       "conclusion": _conclusion(control.get("summary") or {})})
    severity_rank = {s: i for i, s in enumerate(SEVERITY_ORDER)}
    findings = sorted((r for r in doc["results"] if r["status"] == "fail"),
                      key=lambda r: (severity_rank.get(r["severity"], 9), control_order(r["controls"][0])
                                     if r["controls"] else (), r["target"], r["check"]))
    titles = {c["id"]: c["title"] for c in doc["controls"]}
    advisories = []
    for w in doc.get("waivers") or []:
        values = {"id": w.get("id"), "approval_number": w.get("approval_number"),
                  "expires": show_date(w.get("expires"), style, lang)}
        if w.get("state") == "expired":
            advisories.append(_label("adv_waiver_expired", lang, count=w.get("expired_matches", 0), **values))
        elif w.get("expiring_soon"):
            advisories.append(_label("adv_waiver_expiring", lang, days=w.get("days_left"), **values))
        if w.get("unused") and w.get("state") != "expired":
            advisories.append(_label("adv_waiver_unused", lang, **values))
    for target in doc["targets"]:
        coverage = target.get("coverage") or {}
        if coverage.get("not_supplied") or coverage.get("broken"):
            advisories.append(_label("adv_coverage", lang, target=target["id"], **coverage))
    for r in doc["results"]:
        if r["status"] == "manual":
            control = r["controls"][0] if r["controls"] else r["check"]
            advisories.append(_label("adv_manual", lang, control=control, title=titles.get(control, r["title"]),
                                     target=r["target"]))
    for unread in doc["run"].get("unread") or []:
        advisories.append(_label("adv_unread", lang, path=unread.get("path"), problem=unread.get("problem")))
    return {"papers": papers, "empty_controls": empty, "report_findings": [_result_view(r, lang, style)
                                                                           for r in findings],
            "advisories": advisories, "evidence_files": evidence,
            "severity_groups": [(s, [f for f in findings if f["severity"] == s]) for s in SEVERITY_ORDER]}


def _environment() -> Any:
    global _ENV
    if _ENV is None:
        import jinja2  # loaded by the one format that uses it

        _ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
                                  autoescape=True, trim_blocks=True, lstrip_blocks=True,
                                  undefined=jinja2.StrictUndefined)
    return _ENV


_ENV: Any = None


@register("html")
def render(doc: dict[str, Any], options: ReportOptions) -> str:
    """The HTML report for ``options.view``, in ``options.lang``, dates as ``options.date_style``."""
    lang, style, view = options.lang, options.date_style, options.view
    keyed = None
    if view == "trainer":
        key = _pseudonym_key()
        labeller = _Labeller(lang, key)
        labeller.learn(doc["results"])
        doc = labeller.document(doc)
        keyed = key is not None
    context: dict[str, Any] = {
        "doc": doc, "run": doc["run"], "lang": lang, "view": view, "keyed": keyed,
        "gate_reasons": gate_reasons(doc, lang),
        "family_rows": [(f"{f['id']} {f['title']}", f["score"], f["grade"], f["coverage"]) for f in doc["families"]],
        "segment_rows": [(t(f"segment_{s['segment']}" if s["segment"] else "segment_none", lang), s["score"],
                          s["grade"], s["coverage"]) for s in doc["segments"]],
        "department_rows": [(d["department"] or t("segment_none", lang), d["score"], d["grade"], d["coverage"])
                            for d in doc["departments"]],
        "trend_chart": trend_chart(doc.get("trend"), lang, style),
    }
    context.update({"admin": _admin, "trainer": _trainer, "inspector": _inspector}[view](doc, lang, style))
    import jinja2

    template = _environment().get_template(f"{view}.html.j2")
    try:
        return _render(template, context, lang, style)
    except jinja2.UndefinedError as exc:  # a results document without a key every report reads
        raise KeyError(str(exc)) from None


def render_page(name: str, lang: str, style: str, **context: Any) -> str:
    """Another page of the report's family (its style sheet, macros and helpers): a template of this folder."""
    return _render(_environment().get_template(name), {"lang": lang, **context}, lang, style)


TREND_SIZE = (760, 230)  # the chart's width and height; the plot leaves room for the axis and the dates
TREND_PLOT = (48, 16, 20, 58)  # left, top, right, bottom margins


def trend_chart(trend: Any, lang: str, style: str) -> dict[str, Any] | None:
    """The score trend of the runs up to this one (the results' ``trend``, recorded by the history) laid
    out for the inline SVG chart: a point per run, lines between runs that have a score, the grade
    thresholds as guides. None with fewer than two runs."""
    if not isinstance(trend, list) or len(trend) < 2:
        return None
    width, height = TREND_SIZE
    left, top, right, bottom = TREND_PLOT
    plot_w, plot_h = width - left - right, height - top - bottom

    def y_of(score: float) -> float:
        return round(top + plot_h * (1 - max(0.0, min(100.0, score)) / 100), 1)

    points, lines, line = [], [], []
    for i, run in enumerate(trend):
        x = round(left + plot_w * i / (len(trend) - 1), 1)
        score = run.get("score") if isinstance(run, dict) else None
        when = run.get("as_of") or run.get("finished_at") if isinstance(run, dict) else None
        day = show_date(str(when)[:10], style, lang) if when else "-"
        point = {"x": x, "y": y_of(score) if isinstance(score, int | float) else None,
                 "score": "-" if score is None else f"{score:.1f}", "grade": run.get("grade") or "-",
                 "day": day, "run": run.get("run"), "gate_passed": bool(run.get("gate_passed"))}
        points.append(point)
        if point["y"] is None:
            if len(line) > 1:
                lines.append(" ".join(line))
            line = []
        else:
            line.append(f"{x},{point['y']}")
    if len(line) > 1:
        lines.append(" ".join(line))
    guides = [{"y": y_of(floor), "label": f"{floor:.0f} {letter}"} for floor, letter in ((90, "A"), (70, "B"),
                                                                                         (40, "C"))]
    return {"width": width, "height": height, "left": left, "right": width - right, "top": top,
            "bottom": top + plot_h, "points": points, "lines": lines, "guides": guides,
            "summary": " → ".join(p["score"] for p in points)}


def _render(template: Any, context: dict[str, Any], lang: str, style: str) -> str:
    return str(template.render(
        **context,
        L=lambda key, **values: _label(key, lang, **values),
        date=lambda value: show_date(value, style, lang),
        cov=lambda coverage, detail=False: coverage_text(coverage, lang, detail),
        grade_text=lambda grade: t(f"grade_{grade}" if grade else "grade_none", lang),
        segment_text=lambda segment: t(f"segment_{segment}" if segment else "segment_none", lang),
        score_text=lambda score: "-" if score is None else f"{score:.1f}",
    ))
