"""Pairing each record of a list with its records in another list, and judging the pair.

``match`` asks whether a corresponding record exists; some requirements ask what the pair
shows together — a new member of staff trained within 30 days of *their own* joining date, an
account whose groups follow *its owner's* latest transfer — which no filter of one record can
say. Both operators here are quantifiers over the subject list: each item that needs it is
paired with its records (keys compared as ``match`` compares them), and each item found
wanting is a finding that cites the item's row and the rows it was compared with.

::

    covered_by:                           # every selected item has the records it needs
      where: COND                         # optional: the items that need them
      in: training_records                # the other list (org.* or this target's area)
      by: {employee_id: employee_id}      # record field: item field
      require: COND                       # optional: what a record must satisfy
      within: {from: hired_on, date: completed_on, days: {param: new_staff_training_days}}
      each: {field: course, of: {param: required_courses}}

``within``: the record's date lies from the item's date to ``days`` after it. ``each``: every
entry of the list is met by a record of its own; an entry is met by a record whose field
contains it once both are width-normalised (NFKC), case-folded and stripped of spaces, or which
the entry, read as a regular expression, finds (case-insensitive).

::

    department_groups:                    # accounts' groups follow their owner's department
      where: COND                         # optional: the accounts judged
      in: org.hr_roster
      by: {employee_id: employee_id}
      when: COND                          # the owner's latest record (by effective_date) must satisfy it
      groups: {param: department_groups}  # department → its groups

An account is wanting when it still holds a group of the previous department (of every other
department when the roster does not name the previous one) that the new department does not
have, lacks a group of the new department, or carries a ``department`` attribute other than
the roster's. Departments and groups are compared as keys are (NFKC, spaces, case).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from auditor.conditions import (
    MISSING,
    Context,
    EvaluationError,
    Finding,
    MissingFact,
    Operator,
    Outcome,
    Path,
    Problem,
    compiled,
    describe,
    field_label,
    get_path,
    is_param,
    label_path,
    params_of,
    register,
    require_present,
    resolve,
    validate,
    validate_value,
    value_params,
)
from auditor.conditions.crossref import normalise
from auditor.conditions.dates import to_date
from auditor.conditions.quantifiers import _namer

SHOWN_RECORDS = 3  # the item's records cited in a finding


def fold(text: Any) -> str:
    """How names are compared: width-normalised, case-folded, without any white space."""
    return "".join(unicodedata.normalize("NFKC", str(text)).split()).casefold()


_PATTERNS: dict[str, re.Pattern[str] | None] = {}


def entry_matches(entry: str, text: Any) -> bool:
    """Whether a course (or any name) ``text`` meets ``entry``: contains it leniently, or is found by it as a regex."""
    if not isinstance(text, str):
        return False
    if fold(entry) in fold(text):
        return True
    if entry not in _PATTERNS:
        try:
            _PATTERNS[entry] = re.compile(unicodedata.normalize("NFKC", entry), re.IGNORECASE)
        except re.error:
            _PATTERNS[entry] = None
    pattern = _PATTERNS[entry]
    return pattern is not None and pattern.search(unicodedata.normalize("NFKC", text)) is not None


def cite(record: Any) -> str:
    """A record's row as ``file:line`` (with the sheet when it came from a workbook)."""
    source = record.get("source") if isinstance(record, dict) else None
    if not isinstance(source, dict):
        return "?"
    sheet = f"[{source['sheet']}]" if source.get("sheet") else ""
    return f"{source.get('file', '?')}{sheet}:{source.get('line', '?')}"


def _items(subject: Any, label: str) -> list[Any]:
    require_present(subject, label)
    if subject is None:
        return []
    if not isinstance(subject, list):
        raise EvaluationError(f"{label or 'the fact'} is not a list")
    return subject


class _Join(Operator):
    keys: tuple[str, ...]
    required: tuple[str, ...] = ("in", "by")
    conditions: tuple[str, ...]

    def validate(self, arg: Any, path: Path) -> Iterator[Problem]:
        if not isinstance(arg, dict):
            yield path, f"expected a mapping with {', '.join(self.keys)}"
            return
        for key in self.required:
            if key not in arg:
                yield path + (key,), "required key is missing"
        for key, value in arg.items():
            if key not in self.keys:
                yield path + (key,), f"unknown key (expected: {', '.join(self.keys)})"
            elif key in self.conditions:
                yield from validate(value, path + (key,))
        if "in" in arg and not (isinstance(arg["in"], str) and arg["in"]):
            yield path + ("in",), "expected the dotted path of a list, such as org.hr_roster"
        by = arg.get("by")
        if "by" in arg and not (isinstance(by, dict) and by and all(
                isinstance(k, str) and isinstance(v, str) for k, v in by.items())):
            yield path + ("by",), "expected a mapping of record field to item field, such as {employee_id: employee_id}"

    def params(self, arg: Any) -> Iterator[str]:
        for key in self.conditions:
            if key in arg:
                yield from params_of(arg[key])

    @staticmethod
    def index(arg: dict[str, Any], ctx: Context) -> dict[tuple[Any, ...], list[Any]]:
        """The other list's records by their normalised key, built once per list."""
        records = get_path(ctx.root, arg["in"])
        if records is MISSING:
            raise MissingFact(arg["in"])
        if records is None:
            records = []
        if not isinstance(records, list):
            raise EvaluationError(f"{arg['in']} is not a list")
        fields = tuple(arg["by"])

        def build() -> dict[tuple[Any, ...], list[Any]]:
            found: dict[tuple[Any, ...], list[Any]] = {}
            for record in records:
                key = _key(record, fields)
                if key is not None:
                    found.setdefault(key, []).append(record)
            return found

        return ctx.memoized(records, ("join", id(records), fields), build)

    def selected(self, arg: dict[str, Any], subject: Any, ctx: Context, label: str) -> Iterator[tuple[int, Any]]:
        where = compiled(arg["where"]) if "where" in arg else None
        for i, item in enumerate(_items(subject, label)):
            if where is None or where(item, ctx, label_path(label, i)):
                yield i, item

    def records_of(self, item: Any, arg: dict[str, Any], index: dict[tuple[Any, ...], list[Any]]) -> list[Any]:
        key = _key(item, tuple(arg["by"].values()))
        return [] if key is None else index.get(key, [])

    def holds(self, subject: Any, arg: Any, ctx: Context, label: str) -> bool:
        return self.evaluate(subject, arg, ctx, label).passed


def _key(record: Any, fields: tuple[str, ...]) -> tuple[Any, ...] | None:
    if not isinstance(record, dict):
        return None
    key = []
    for name in fields:
        value = normalise(get_path(record, name))
        if value is MISSING or value is None or value == "":
            return None
        key.append(value)
    return tuple(key)


@register
class CoveredBy(_Join):
    name = "covered_by"
    keys = ("where", "in", "by", "require", "within", "each")
    conditions = ("where", "require")

    def validate(self, arg: Any, path: Path) -> Iterator[Problem]:
        yield from super().validate(arg, path)
        if not isinstance(arg, dict):
            return
        within = arg.get("within")
        if within is not None:
            if not (isinstance(within, dict) and set(within) == {"from", "date", "days"}
                    and isinstance(within["from"], str) and isinstance(within["date"], str)):
                yield path + ("within",), "expected {from: ITEM_FIELD, date: RECORD_FIELD, days: N or {param: NAME}}"
            else:
                yield from validate_value(within["days"], path + ("within", "days"))
        each = arg.get("each")
        if each is not None:
            if not (isinstance(each, dict) and set(each) == {"field", "of"} and isinstance(each["field"], str)):
                yield path + ("each",), "expected {field: RECORD_FIELD, of: LIST or {param: NAME}}"
            else:
                yield from validate_value(each["of"], path + ("each", "of"))

    def params(self, arg: Any) -> Iterator[str]:
        yield from super().params(arg)
        if isinstance(arg.get("within"), dict):
            yield from value_params(arg["within"].get("days"))
        if isinstance(arg.get("each"), dict):
            yield from value_params(arg["each"].get("of"))

    def _entries(self, arg: dict[str, Any], ctx: Context) -> list[str] | None:
        if "each" not in arg:
            return None
        entries = resolve(arg["each"]["of"], ctx)
        if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
            raise EvaluationError(f"each.of needs a list of names, got {entries!r}")
        return entries

    def _window(self, item: Any, arg: dict[str, Any], ctx: Context, label: str) -> tuple[Any, Any] | None:
        """The first and last day a record may carry (None: no window), from the item's date."""
        within = arg.get("within")
        if within is None:
            return None
        start = get_path(item, within["from"])
        if start is MISSING:
            raise MissingFact(field_label(label, within["from"]))
        days = resolve(within["days"], ctx)
        if isinstance(days, bool) or not isinstance(days, int):
            raise EvaluationError(f"within.days needs a whole number of days, got {days!r}")
        if start is None:
            return (None, None)
        first = to_date(start)
        return first, first + timedelta(days=days)

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        index = self.index(arg, ctx)
        entries = self._entries(arg, ctx)
        require = compiled(arg["require"]) if "require" in arg else None
        namer = _namer(ctx.item_key)
        findings: list[Finding] = []
        for i, item in self.selected(arg, subject, ctx, label):
            theirs = self.records_of(item, arg, index)
            window = self._window(item, arg, ctx, label_path(label, i))
            good = [r for r in theirs if (require is None or require(r, ctx, arg["in"])) and _inside(r, arg, window)]
            if entries is None:
                missing = [] if good else None
            else:
                values = [get_path(r, arg["each"]["field"]) for r in good]
                missing = [e for e in entries if not any(entry_matches(e, v) for v in values)]
            if missing is None or missing:
                findings.append(Finding(namer(item, i, label), self._actual(theirs, arg, missing, window),
                                        self.describe(arg, ctx)))
        return Outcome(not findings, findings)

    @staticmethod
    def _actual(theirs: list[Any], arg: dict[str, Any], missing: list[str] | None,
                window: tuple[Any, Any] | None) -> dict[str, Any]:
        shown_field = arg["within"]["date"] if "within" in arg else None
        cited = []
        for record in theirs[:SHOWN_RECORDS]:
            value = get_path(record, shown_field) if shown_field else None
            what = get_path(record, arg["each"]["field"]) if "each" in arg else None
            parts = [str(v) for v in (what, value) if v is not None and v is not MISSING]
            cited.append(" ".join([*parts, f"({cite(record)})"]))
        actual: dict[str, Any] = {"records": cited or "none", "count": len(theirs)}
        if window is not None and window[0] is not None:
            actual["window"] = f"{window[0].isoformat()}..{window[1].isoformat()}"
        if missing:
            actual["missing"] = missing
        return actual

    def explain(self, arg: Any, w: Any, scope: Any, negated: bool) -> Any:
        """Every selected item has (negated: some item lacks) the records it needs: 採用日が…である人事名簿
        の記録は、いずれも職員番号が同じであり、…研修記録があること; with ``each``, one per entry of the list."""
        from auditor.conditions import wording
        from auditor.conditions.crossref import same_keys

        items, other = w.items(scope), w.items(w.top(arg["in"]))
        parts = same_keys(w, items, other, arg["by"])
        if "require" in arg:
            parts.append(w.clause(arg["require"], other))
        if "within" in arg:
            start = w.field(items, arg["within"]["from"]).noun or wording.W.VALUE
            ja_n, en_n = _days_words(w, arg["within"]["days"])
            parts.append(wording.leaf(w.field(other, arg["within"]["date"]).subject,
                                      f"{start.ja}以降 {ja_n}以内である", f"falls within {en_n} after {start.the()}"))
        if "each" in arg:
            parts.append(wording.leaf(w.field(other, arg["each"]["field"]).subject, "その名称を含む",
                                      "contains that name"))
        found = wording.records(other.noun, wording.both(parts))
        a_record = wording.Noun(found.en, found.en).a()
        if "each" in arg:
            ja_list, en_list = (_entries_words(w, arg["each"]["of"], lang) for lang in wording.LANGS)
            need = (f"{ja_list}のそれぞれについて、{wording.exists_ja(found, True)}",
                    f"has, for each of {en_list}, {a_record}")
            lack = (f"{ja_list}のいずれかについて、{wording.exists_ja(found, False)}",
                    f"lacks, for one of {en_list}, {a_record}")
        else:
            need = (wording.exists_ja(found, True), f"has {a_record}")
            lack = (wording.exists_ja(found, False), f"has no {found.en}")
        return _every(w, arg, items, need, lack, negated)

    def describe(self, arg: Any, ctx: Context) -> str:
        parts = [f"a record of {arg['in']} with the same " + " and ".join(arg["by"].values())]
        if "require" in arg:
            parts.append(f"where {describe(arg['require'], ctx)}")
        if "within" in arg:
            w = arg["within"]
            parts.append(f"whose {w['date']} is within {resolve(w['days'], ctx)} days after {w['from']}")
        if "each" in arg:
            parts.append(f"for each of {resolve(arg['each']['of'], ctx)} (by {arg['each']['field']})")
        return ", ".join(parts)


def _inside(record: Any, arg: dict[str, Any], window: tuple[Any, Any] | None) -> bool:
    if window is None:
        return True
    first, last = window
    day = get_path(record, arg["within"]["date"])
    if first is None or day is None or day is MISSING:
        return False
    return first <= to_date(day) <= last


@register
class DepartmentGroups(_Join):
    name = "department_groups"
    keys = ("where", "in", "by", "when", "groups")
    required = ("in", "by", "groups")
    conditions = ("where", "when")

    def validate(self, arg: Any, path: Path) -> Iterator[Problem]:
        yield from super().validate(arg, path)
        groups = arg.get("groups", {}) if isinstance(arg, dict) else {}
        if not (is_param(groups) or isinstance(groups, dict)):
            yield path + ("groups",), "expected a mapping of department to group names, or {param: NAME}"

    def params(self, arg: Any) -> Iterator[str]:
        yield from super().params(arg)
        yield from value_params(arg.get("groups"))

    @staticmethod
    def _table(arg: dict[str, Any], ctx: Context) -> dict[str, dict[str, str]]:
        """Department (folded) → its groups (folded → as written)."""
        given = resolve(arg["groups"], ctx)
        if not isinstance(given, dict):
            raise EvaluationError(f"groups needs a mapping of department to group names, got {given!r}")
        table: dict[str, dict[str, str]] = {}
        for department, groups in given.items():
            if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
                raise EvaluationError(f"groups of department {department!r} must be a list of group names, got "
                                      f"{groups!r}")
            names = groups
            table.setdefault(fold(department), {}).update((fold(g), str(g)) for g in names)
        return table

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        index = self.index(arg, ctx)
        table = self._table(arg, ctx)
        when = compiled(arg["when"]) if "when" in arg else None
        namer = _namer(ctx.item_key)
        findings: list[Finding] = []
        for i, account in self.selected(arg, subject, ctx, label):
            theirs = self.records_of(account, arg, index)
            if not theirs:
                continue
            latest = max(enumerate(theirs), key=lambda p: (str(p[1].get("effective_date") or ""), p[0]))[1]
            if when is not None and not when(latest, ctx, arg["in"]):  # a missing field is named in its list
                continue
            problems = self._problems(account, latest, table, label_path(label, i))
            if problems:
                findings.append(Finding(f"{namer(account, i, label)} ← {cite(latest)}", problems,
                                        self.describe(arg, ctx)))
        return Outcome(not findings, findings)

    @staticmethod
    def _problems(account: dict[str, Any], record: dict[str, Any], table: dict[str, dict[str, str]],
                  label: str) -> dict[str, Any]:
        new, old = record.get("department"), record.get("previous_department")
        attribute = account.get("department", MISSING)
        problems: dict[str, Any] = {}
        if not table and attribute in (MISSING, None):
            raise EvaluationError(f"{label}: the account has no department attribute and the profile's department "
                                  "groups are empty: nothing says which groups its department has")
        if attribute not in (MISSING, None) and new is not None and fold(attribute) != fold(new):
            problems["department"] = attribute
        if table:
            groups = account.get("groups", MISSING)
            if groups is MISSING:
                raise MissingFact(field_label(label, "groups"))
            held = {fold(g) for g in groups or []}
            expected = table.get(fold(new)) if new is not None else None
            if expected is None:
                problems["unmapped_department"] = new
                expected = {}
            if old is not None and fold(old) in table:
                before = table[fold(old)]
            else:
                before = {k: v for dept, groups_of in table.items() if dept != fold(new or "")
                          for k, v in groups_of.items()}
            stale = sorted(before[g] for g in held & before.keys() - expected.keys())
            missing = sorted(expected[g] for g in expected.keys() - held)
            if stale:
                problems["stale_groups"] = stale
            if missing:
                problems["missing_groups"] = missing
        if problems:
            problems = {"new_department": new, "previous_department": old,
                        "effective_date": record.get("effective_date"), **problems}
        return problems

    def explain(self, arg: Any, w: Any, scope: Any, negated: bool) -> Any:
        """Every selected account's groups and department follow (negated: some account's do not)
        its owner's latest record of the other list, when that record satisfies ``when``."""
        from auditor.conditions import wording
        from auditor.conditions.crossref import same_keys

        items, other = w.items(scope), w.items(w.top(arg["in"]))
        owner = wording.records(other.noun, wording.both(same_keys(w, items, other, arg["by"])))
        when = w.clause(arg["when"], other) if "when" in arg else None
        if when is not None:
            ja_if = f"{owner.ja}のうち発令日が最も新しいもので{wording.ja_text(when)}とき"
            en_if = f", whenever in that entry {wording.en_top(when)}"
        else:
            ja_if, en_if = f"{owner.ja}のうち発令日が最も新しいものについて", ""
        _, name, _ = w.value(arg["groups"])
        table = {lang: w.title(name, lang) for lang in wording.LANGS}
        ja_table = table["ja"] or "所属とグループの対応"
        en_table = f"the {table['en']}" if table["en"] else "the table of each department's groups"
        latest = f"its latest {owner.en} (by effective date)"
        need = (f"{ja_if}は、{ja_table}のうちその記録の所属のグループをすべて持ち、"
                "異動前の所属のグループ（新しい所属にもあるものを除く）を持たず、部署の属性があればその所属と一致する",
                f"holds every group that {en_table} give the department of {latest}, no group of the previous "
                f"department that the new one lacks, and a department attribute, if any, equal to that "
                f"department{en_if}")
        lack = (f"{ja_if}{'に' if when is not None else ''}、グループまたは部署の属性がその記録の所属に合っていない",
                f"does not follow, in its groups or department attribute, the department of {latest}"
                + (f", although in that entry {wording.en_top(when)}" if when is not None else ""))
        return _every(w, arg, items, need, lack, negated)

    def describe(self, arg: Any, ctx: Context) -> str:
        when = f" ({describe(arg['when'], ctx)})" if "when" in arg else ""
        return (f"the groups and department of the owner's latest record in {arg['in']}{when}: none of the previous "
                "department's groups, every group of the new one")


# --- in words (see auditor.conditions.wording) -------------------------------------------------

def _every(w: Any, arg: dict[str, Any], items: Any, need: tuple[str, str], lack: tuple[str, str],
           negated: bool) -> Any:
    """Every item that ``where`` selects meets ``need`` (ja plain form, en verb phrase); negated,
    some selected item meets ``lack`` instead."""
    from auditor.conditions import wording

    where = [w.clause(arg["where"], items)] if "where" in arg else []
    if negated:
        phrase = wording.records(items.noun, wording.both([*where, wording.leaf(None, *lack)]))
        return wording.statement(wording.exists_ja(phrase, True), f"there is at least one {phrase.en}")
    phrase = wording.records(items.noun, wording.both(where) if where else None)
    return wording.statement(f"{wording.particle(phrase.ja, 'は')}、いずれも{need[0]}", f"every {phrase.en} {need[1]}")


def _days_words(w: Any, arg: Any) -> tuple[str, str]:
    """A number of days (a literal or a parameter's value) in words: 30 日, 30 days."""
    from auditor.conditions import wording

    value, name, known = w.value(arg)
    if not known:
        return wording.unknown(name)
    return f"{wording.plain(value, 'ja')} 日", f"{wording.plain(value, 'en')} day{'' if value == 1 else 's'}"


def _entries_words(w: Any, arg: Any, lang: str) -> str:
    """The entries ``each`` goes through, by the parameter's title where it has one; an empty list
    said to be so (every item then passes)."""
    from auditor.conditions import wording

    value, name, known = w.value(arg)
    if known and value == []:
        title = w.title(name, lang)
        if lang == "ja":
            return f"{title or '指定の項目'}（指定なし）"
        return f"the {title} (none set)" if title else "the listed entries (none set)"
    return wording.named_value(w, arg, lang, None)
