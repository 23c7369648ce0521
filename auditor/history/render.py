"""The run listing (table, JSON, CSV) and the diff (table, JSON, Markdown, HTML), in Japanese or English.

The diff's HTML is a page of the HTML report's family: its style sheet and macros, Jinja2's
autoescaping, no script and no network request (an inline SVG trend of the runs up to B). Text
from the history (target ids, departments, check titles) is escaped in Markdown by the Markdown
report's own escaping, and guarded against formulas in CSV by the CSV report's guard.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from auditor import jsonio
from auditor.i18n import labeller, t
from auditor.reports.dates import show_date

MAX_ROWS = 500  # rows of one section in the table, Markdown and HTML; the JSON lists them all

LABELS: dict[str, dict[str, str]] = {
    "history_title": {"ja": "監査の履歴", "en": "Audit history"},
    "run": {"ja": "番号", "en": "Run"},
    "run_id": {"ja": "実行ID", "en": "Run id"},
    "date": {"ja": "実行日時", "en": "Run at"},
    "targets_count": {"ja": "対象数", "en": "Targets"},
    "gate_ok": {"ja": "通過", "en": "passed"},
    "gate_ng": {"ja": "不通過", "en": "failed"},
    "target_score": {"ja": "{target} のスコア", "en": "Score of {target}"},
    "no_runs": {"ja": "記録された実行はありません。", "en": "No run is recorded."},
    "diff_title": {"ja": "監査結果の差分", "en": "Changes between two audits"},
    "from_run": {"ja": "比較元（前回）", "en": "From (earlier)"},
    "to_run": {"ja": "比較先（今回）", "en": "To (later)"},
    "history_store": {"ja": "履歴", "en": "History"},
    "score_change": {"ja": "スコア {before} → {after}（{change}）", "en": "Score {before} → {after} ({change})"},
    "section_new": {"ja": "新たな不適合", "en": "New failures"},
    "section_regressed": {"ja": "再発（適合 → 不適合）", "en": "Regressed (pass → fail)"},
    "section_fixed": {"ja": "是正済み（不適合 → 適合）", "en": "Fixed (fail → pass)"},
    "section_still_failing": {"ja": "継続中の不適合", "en": "Still failing"},
    "section_no_longer_failing": {"ja": "不適合でなくなったが適合でもないもの", "en": "No longer failing, not passing"},
    "section_new_errors": {"ja": "新たに評価できなくなったもの", "en": "Newly unevaluated"},
    "section_targets_added": {"ja": "追加された対象", "en": "Targets added"},
    "section_targets_removed": {"ja": "除かれた対象", "en": "Targets removed"},
    "section_expiring": {"ja": "{days} 日以内に期限を迎える例外措置・確認記録",
                         "en": "Waivers and attestations ending within {days} days"},
    "section_expired": {"ja": "前回以降に期限が切れた例外措置・確認記録",
                        "en": "Waivers and attestations lapsed since the earlier run"},
    "section_scores": {"ja": "系統・所属・分野別スコアの変化", "en": "Scores by segment, department and family"},
    "trend": {"ja": "スコアの推移", "en": "Score trend"},
    "counts_line": {"ja": "新たな不適合 {new} 件・再発 {regressed} 件・是正 {fixed} 件・継続 {still_failing} 件・"
                          "追加 {targets_added} 対象・除外 {targets_removed} 対象・期限間近 {expiring} 件",
                    "en": "{new} new, {regressed} regressed, {fixed} fixed, {still_failing} still failing; "
                          "{targets_added} target(s) added, {targets_removed} removed; {expiring} ending soon"},
    "was": {"ja": "前回", "en": "Before"},
    "now": {"ja": "今回", "en": "Now"},
    "not_run": {"ja": "未実施", "en": "not run"},
    "runs_in_a_row": {"ja": "連続回数", "en": "Runs in a row"},
    "findings_changed": {"ja": "指摘内容の変化", "en": "Findings changed"},
    "changed": {"ja": "あり", "en": "yes"},
    "none_found": {"ja": "該当なし", "en": "None"},
    "more_rows": {"ja": "…ほか {count} 件（全件は --format json にあります）",
                  "en": "… and {count} more (all of them in --format json)"},
    "scope_segment": {"ja": "系統", "en": "Segment"},
    "scope_department": {"ja": "所属", "en": "Department"},
    "scope_family": {"ja": "分野", "en": "Family"},
    "change": {"ja": "増減", "en": "Change"},
    "kind_waiver": {"ja": "例外措置", "en": "Waiver"},
    "kind_attestation": {"ja": "確認記録", "en": "Attestation"},
    "ident": {"ja": "ID・管理策", "en": "Id or control"},
    "label": {"ja": "承認番号・資料", "en": "Approval No. or document"},
    "days_left": {"ja": "残り日数", "en": "Days left"},
    "fail_count": {"ja": "不適合", "en": "Failed"},
    "not_recorded": {"ja": "比較先の実行は履歴の旧形式（版1）で記録されたため、"
                           "例外措置と確認記録の期限は比べられません。",
                     "en": "The later run was recorded by history schema 1, which kept no waivers or attestations: "
                           "their expiry cannot be compared."},
}

_label = labeller(LABELS)
RESULT_SECTIONS = ("new", "regressed", "fixed", "still_failing", "no_longer_failing", "new_errors")


def _score(score: float | None) -> str:
    return "-" if score is None else f"{score:.1f}"


def _change(change: float | None) -> str:
    return "-" if change is None else f"{change:+.1f}"


def _status(status: str | None, lang: str) -> str:
    return _label("not_run", lang) if status is None else t(status, lang)


def _profile(run: dict[str, Any]) -> str:
    return str(run.get("profile") or "-") + (f" + {run['tailoring']}" if run.get("tailoring") else "")


def _gate(run: dict[str, Any], lang: str) -> str:
    return _label("gate_ok" if run.get("gate_passed") else "gate_ng", lang)


# -- auditor history ---------------------------------------------------------------------------------


def _history_rows(runs: list[dict[str, Any]], lang: str, style: str, target: str | None) -> tuple[list[str],
                                                                                                   list[list[Any]]]:
    headers = [_label(k, lang) for k in ("run", "date")] + [t("as_of", lang), t("profile", lang),
                                                             _label("targets_count", lang), t("score", lang),
                                                             t("grade", lang), t("gate", lang)]
    if target is not None:
        headers += [_label("target_score", lang, target=target), f"{target}: {t('fail', lang)}"]
    headers.append(_label("run_id", lang))
    rows = []
    for run in runs:
        row = [run["run"], show_date(run["finished_at"], style, lang) if run["finished_at"] else "-",
               show_date(run["as_of"], style, lang) if run["as_of"] else "-", _profile(run), run["targets"],
               _score(run["score"]), run["grade"] or "-", _gate(run, lang)]
        if target is not None:
            mine = run.get("target") or {}
            row += [_score(mine.get("score")), (mine.get("summary") or {}).get("fail", 0)]
        row.append(run["id"])
        rows.append(row)
    return headers, rows


def history(runs: list[dict[str, Any]], fmt: str, lang: str, style: str = "iso",
            target: str | None = None) -> str | bytes:
    """The runs listed by ``auditor history``, newest first."""
    if fmt == "json":
        return jsonio.encode({"format": "auditor-history/1", "runs": runs})
    headers, rows = _history_rows(runs, lang, style, target)
    if fmt == "csv":
        from auditor.reports.csv_report import guard

        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(headers)
        for row in rows:
            writer.writerow([guard(v) if isinstance(v, str) else v for v in row])
        return "\ufeff" + out.getvalue()  # Excel's UTF-8: with the BOM, Japanese Excel reads it right
    from tabulate import tabulate

    if not rows:
        return _label("no_runs", lang) + "\n"
    return f"{_label('history_title', lang)}\n{tabulate(rows, headers=headers, disable_numparse=True)}\n"


# -- auditor diff ------------------------------------------------------------------------------------


def _result_rows(kind: str, entries: list[dict[str, Any]], lang: str) -> tuple[list[str], list[list[Any]]]:
    headers = [t("target", lang), t("check", lang), t("title", lang), t("severity", lang)]
    headers += ([_label("runs_in_a_row", lang), _label("findings_changed", lang)] if kind == "still_failing"
                else [_label("was", lang), _label("now", lang)])
    rows = []
    for e in entries:
        row = [e["target"], e["check"], e.get("title") or "-",
               t(f"severity_{e['severity']}", lang) if e.get("severity") else "-"]
        row += ([e["runs"], _label("changed", lang) if e["findings_changed"] else "-"] if kind == "still_failing"
                else [_status(e["was"], lang), _status(e["now"], lang)])
        rows.append(row)
    return headers, rows


def _target_rows(entries: list[dict[str, Any]], lang: str) -> tuple[list[str], list[list[Any]]]:
    headers = [t("target", lang), t("kind", lang), t("segment", lang), t("department", lang), t("score", lang),
               t("grade", lang), _label("fail_count", lang), t("error", lang)]
    rows = [[e["target"], e.get("kind") or "-", t(f"segment_{e['segment']}" if e.get("segment") else "segment_none",
                                                   lang), e.get("department") or "-", _score(e.get("score")),
             e.get("grade") or "-", e["fail"], e["error"]] for e in entries]
    return headers, rows


def _expiry_rows(entries: list[dict[str, Any]], lang: str, style: str) -> tuple[list[str], list[list[Any]]]:
    headers = [t("kind", lang), _label("ident", lang), _label("label", lang), t("targets", lang), t("expires", lang),
               _label("days_left", lang)]
    rows = [[_label(f"kind_{e['kind']}", lang), e["id"], e.get("label") or "-", ", ".join(e.get("targets") or [])
             or "*", show_date(e["expires"], style, lang), e["days_left"]] for e in entries]
    return headers, rows


def _score_rows(diff: dict[str, Any], lang: str) -> tuple[list[str], list[list[Any]]]:
    headers = ["", t("title", lang), _label("was", lang), _label("now", lang), _label("change", lang)]
    rows = []
    for scope in ("segment", "department", "family"):
        for e in diff["scores"].get(scope) or []:
            name = e["key"]
            if scope == "segment":
                name = t(f"segment_{name}" if name else "segment_none", lang)
            elif scope == "family" and e.get("title"):
                name = f"{name} {e['title']}" if not str(e["title"]).startswith(str(name)) else e["title"]
            rows.append([_label(f"scope_{scope}", lang), name or t("segment_none", lang),
                         f"{_score(e['from'])} {e.get('grade_from') or ''}".strip(),
                         f"{_score(e['to'])} {e.get('grade_to') or ''}".strip(), _change(e["change"])])
    return headers, rows


def sections(diff: dict[str, Any], lang: str, style: str) -> list[dict[str, Any]]:
    """The diff's sections in reading order: id, heading, column headers, rows (at most MAX_ROWS), rows left out."""
    out = []

    def add(key: str, heading: str, table: tuple[list[str], list[list[Any]]]) -> None:
        headers, rows = table
        out.append({"id": key, "heading": heading, "headers": headers, "rows": rows[:MAX_ROWS],
                    "more": max(0, len(rows) - MAX_ROWS), "count": len(rows)})

    for kind in ("new", "regressed", "fixed", "still_failing"):
        add(kind, _label(f"section_{kind}", lang), _result_rows(kind, diff[kind], lang))
    for kind in ("targets_added", "targets_removed"):
        add(kind, _label(f"section_{kind}", lang), _target_rows(diff[kind], lang))
    add("expiring", _label("section_expiring", lang, days=diff["days"]), _expiry_rows(diff["expiring"], lang, style))
    add("expired", _label("section_expired", lang), _expiry_rows(diff["expired"], lang, style))
    for kind in ("no_longer_failing", "new_errors"):
        add(kind, _label(f"section_{kind}", lang), _result_rows(kind, diff[kind], lang))
    add("scores", _label("section_scores", lang), _score_rows(diff, lang))
    return out


def _run_line(run: dict[str, Any], lang: str, style: str) -> str:
    when = show_date(run["finished_at"], style, lang) if run["finished_at"] else "-"
    return (f"#{run['run']} {when} {_profile(run)} · {t('targets', lang)} {run['targets']} · "
            f"{t('score', lang)} {_score(run['score'])} {run['grade'] or '-'} · {t('gate', lang)} {_gate(run, lang)}")


def _headline(diff: dict[str, Any], lang: str) -> str:
    score = diff["score"]
    return _label("score_change", lang, before=_score(score["from"]), after=_score(score["to"]),
                  change=_change(score["change"]))


def diff_text(diff: dict[str, Any], lang: str, style: str = "iso") -> str:
    from tabulate import tabulate

    lines = [_label("diff_title", lang), f"{_label('from_run', lang)}: {_run_line(diff['from'], lang, style)}",
             f"{_label('to_run', lang)}: {_run_line(diff['to'], lang, style)}", _headline(diff, lang),
             _label("counts_line", lang, **diff["counts"])]
    if not diff["recorded"]["waivers_and_attestations"]:
        lines.append(_label("not_recorded", lang))
    for section in sections(diff, lang, style):
        lines += ["", f"{section['heading']} ({section['count']})"]
        if not section["rows"]:
            lines.append(_label("none_found", lang))
            continue
        lines.append(tabulate(section["rows"], headers=section["headers"], disable_numparse=True))
        if section["more"]:
            lines.append(_label("more_rows", lang, count=section["more"]))
    return "\n".join(lines) + "\n"


def diff_markdown(diff: dict[str, Any], lang: str, style: str = "iso") -> str:
    from auditor.reports.markdown import escape

    def row(cells: list[Any]) -> str:
        return "| " + " | ".join(escape(c) if isinstance(c, str) else str(c) for c in cells) + " |"

    lines = [f"# {_label('diff_title', lang)}", "",
             f"- {_label('from_run', lang)}: {escape(_run_line(diff['from'], lang, style))}",
             f"- {_label('to_run', lang)}: {escape(_run_line(diff['to'], lang, style))}",
             f"- {escape(_headline(diff, lang))}", f"- {escape(_label('counts_line', lang, **diff['counts']))}"]
    if not diff["recorded"]["waivers_and_attestations"]:
        lines.append(f"- {escape(_label('not_recorded', lang))}")
    for section in sections(diff, lang, style):
        lines += ["", f"## {escape(section['heading'])} ({section['count']})", ""]
        if not section["rows"]:
            lines.append(escape(_label("none_found", lang)))
            continue
        lines += [row(section["headers"]), "|" + "---|" * len(section["headers"])]
        lines += [row(r) for r in section["rows"]]
        if section["more"]:
            lines += ["", escape(_label("more_rows", lang, count=section["more"]))]
    return "\n".join(lines) + "\n"


def diff_html(diff: dict[str, Any], lang: str, style: str = "iso") -> str:
    from auditor.reports.html import render_page, trend_chart

    return render_page("diff.html.j2", lang, style, diff=diff, sections=sections(diff, lang, style),
                       from_line=_run_line(diff["from"], lang, style), to_line=_run_line(diff["to"], lang, style),
                       score_change=_change(diff["score"]["change"]),
                       counts_line=_label("counts_line", lang, **diff["counts"]),
                       trend_chart=trend_chart(diff.get("trend"), lang, style),
                       D=lambda key, **v: _label(key, lang, **v))


DIFF_FORMATS = ("table", "json", "md", "html")


def diff_document(diff: dict[str, Any], fmt: str, lang: str, style: str = "iso") -> str | bytes:
    if fmt == "json":
        return jsonio.encode(diff)
    if fmt == "md":
        return diff_markdown(diff, lang, style)
    if fmt == "html":
        return diff_html(diff, lang, style)
    return diff_text(diff, lang, style)
