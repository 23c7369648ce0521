"""User-facing texts in Japanese and English (Japanese is the default language).

Check and control texts live in the policy files; this module holds the frame: status
names, result messages the engine writes itself, and report labels.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

LANGS = ("ja", "en")

TEXTS: dict[str, dict[str, str]] = {
    "status_pass": {"ja": "適合", "en": "Compliant"},
    "status_pass_value": {"ja": "適合（値: {value}）", "en": "Compliant (value: {value})"},
    "status_fail": {"ja": "不適合: 指摘 {count} 件", "en": "Not compliant: {count} finding(s)"},
    "status_error": {"ja": "評価できません: {detail}", "en": "Could not evaluate: {detail}"},
    "status_notapplicable": {"ja": "対象外: {reason}", "en": "Not applicable: {reason}"},
    "status_attested": {"ja": "{by} が {on} に確認（{document}、{until} まで有効）",
                        "en": "Attested by {by} on {on} ({document}; valid until {until})"},
    "status_attestation_expired": {"ja": "{by} による確認（{document}）は {until} で期限切れです",
                                   "en": "The attestation by {by} ({document}) lapsed on {until}"},
    "status_manual": {"ja": "担当者による確認（証跡の確認）が必要です",
                      "en": "Needs attestation by a person (documentary evidence)"},
    # status names
    "pass": {"ja": "適合", "en": "pass"},
    "fail": {"ja": "不適合", "en": "fail"},
    "error": {"ja": "評価不能", "en": "error"},
    "notapplicable": {"ja": "対象外", "en": "n/a"},
    "waived": {"ja": "例外承認", "en": "waived"},
    "manual": {"ja": "要確認", "en": "manual"},
    # grades (the city's four-step scale)
    "grade_A": {"ja": "A 達成", "en": "A achieved"},
    "grade_B": {"ja": "B 一部達成", "en": "B partly achieved"},
    "grade_C": {"ja": "C 着手", "en": "C started"},
    "grade_D": {"ja": "D 未着手", "en": "D not started"},
    "grade_none": {"ja": "－（評価対象なし）", "en": "- (nothing evaluated)"},
    "severity_critical": {"ja": "重大", "en": "critical"},
    "severity_high": {"ja": "高", "en": "high"},
    "severity_medium": {"ja": "中", "en": "medium"},
    "severity_low": {"ja": "低", "en": "low"},
    # report labels
    "report_title": {"ja": "情報セキュリティポリシー準拠監査", "en": "Information-security policy compliance audit"},
    "policy": {"ja": "ポリシー", "en": "Policy"},
    "profile": {"ja": "プロファイル", "en": "Profile"},
    "as_of": {"ja": "評価基準日", "en": "Evaluated as of"},
    "score": {"ja": "スコア", "en": "Score"},
    "grade": {"ja": "評価", "en": "Grade"},
    "gate": {"ja": "重大項目ゲート", "en": "Critical gate"},
    "gate_passed": {"ja": "通過", "en": "passed"},
    "gate_failed": {"ja": "不通過（重大項目の不適合・評価不能: {count} 件）",
                    "en": "FAILED ({count} critical result(s) failed or could not be evaluated)"},
    "gate_unread": {"ja": "不通過（証跡不完全: 読み込めなかったファイル・フォルダ {count} 件）",
                    "en": "FAILED (evidence incomplete: {count} file(s) or folder(s) could not be read)"},
    "gate_nothing_evaluated": {"ja": "不通過（評価できた項目がありません: 証跡がないか、すべて対象外・要確認です）",
                               "en": "FAILED (nothing was evaluated: no evidence, or every check was n/a or manual)"},
    "unread_heading": {"ja": "読み込めなかった証跡（この対象は監査されていません）",
                       "en": "Evidence that could not be read (not audited)"},
    "path": {"ja": "パス", "en": "Path"},
    "problem": {"ja": "理由", "en": "Problem"},
    "summary": {"ja": "集計", "en": "Summary"},
    "coverage": {"ja": "評価できた割合", "en": "Coverage"},
    "coverage_line": {"ja": "{share}%（対象 {applicable} 件中 {evaluated} 件を評価。"
                            "証跡なし {not_supplied} 件・証跡不備 {broken} 件）",
                      "en": "{share}% ({evaluated} of {applicable} applicable results evaluated; "
                            "evidence not supplied {not_supplied}, broken {broken})"},
    "expires": {"ja": "期限", "en": "Expires"},
    "reason": {"ja": "理由", "en": "Reason"},
    "waivers_heading": {"ja": "例外措置", "en": "Exceptions (waivers)"},
    "waiver_state_active": {"ja": "有効", "en": "active"},
    "waiver_state_expired": {"ja": "期限切れ", "en": "expired"},
    "waiver_state_pending": {"ja": "開始前", "en": "not yet in force"},
    "waiver_unused": {"ja": "未使用", "en": "unused"},
    "waiver_expiring": {"ja": "{days} 日後に期限", "en": "expires in {days} day(s)"},
    "waived_under": {"ja": "例外承認 {id}（{approval_number}、{expires} まで）: 本来の結果は{status}",
                     "en": "Waived by {id} ({approval_number}, until {expires}): really {status}"},
    "attestations_heading": {"ja": "担当者による確認", "en": "Attestations"},
    "cause_not_supplied": {"ja": "証跡なし（{area}: {suppliers} で取得）", "en": "evidence not supplied ({area}: "
                           "supplied by {suppliers})"},
    "cause_broken": {"ja": "証跡不備（{file} {field}）", "en": "evidence broken ({file} {field})"},
    "targets": {"ja": "対象", "en": "Targets"},
    "target": {"ja": "対象", "en": "Target"},
    "kind": {"ja": "種別", "en": "Kind"},
    "segment": {"ja": "系統", "en": "Segment"},
    "department": {"ja": "所属", "en": "Department"},
    "check": {"ja": "チェック", "en": "Check"},
    "controls": {"ja": "管理策", "en": "Controls"},
    "severity": {"ja": "重要度", "en": "Severity"},
    "status": {"ja": "結果", "en": "Status"},
    "title": {"ja": "項目", "en": "Title"},
    "item": {"ja": "対象項目", "en": "Item"},
    "actual": {"ja": "実際の値", "en": "Actual"},
    "expected": {"ja": "基準", "en": "Expected"},
    "message": {"ja": "内容", "en": "Message"},
    "findings_heading": {"ja": "不適合・評価不能の項目", "en": "Failed and unevaluated checks"},
    "no_findings": {"ja": "不適合・評価不能の項目はありません。", "en": "No failed or unevaluated checks."},
    "remediation": {"ja": "是正", "en": "Fix"},
    "segment_mynumber": {"ja": "マイナンバー利用事務系", "en": "My Number"},
    "segment_lgwan": {"ja": "LGWAN接続系", "en": "LGWAN-connected"},
    "segment_internet": {"ja": "インターネット接続系", "en": "Internet-connected"},
    "segment_none": {"ja": "（未設定）", "en": "(not set)"},
    "more_findings": {"ja": "…ほか {count} 件", "en": "… and {count} more"},
}


def text(key: str, **values: Any) -> dict[str, str]:
    """A message in both languages, placeholders filled."""
    return {lang: TEXTS[key][lang].format(**values) for lang in LANGS}


def t(key: str, lang: str, **values: Any) -> str:
    """One label in one language."""
    return TEXTS[key][lang].format(**values)


def labeller(own: dict[str, dict[str, str]]) -> Callable[..., str]:
    """A label function for a report format: its own labels first, then the common ones above."""

    def label(key: str, lang: str, **values: Any) -> str:
        texts = own.get(key)
        return texts[lang].format(**values) if texts else t(key, lang, **values)

    return label
