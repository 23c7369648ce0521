"""Looking across evidence: ``match`` finds records of another list that correspond to an item.

::

    match:
      in: org.hr_roster                 # a list anywhere in the target's evidence (org.* included)
      by: {employee_id: employee_id}    # record field: item field, every pair equal
      where: {field: status, eq: left}  # optional: the corresponding record must also satisfy this

It holds when such a record exists. Text keys are compared after NFKC normalisation, removal
of all white space and case folding, so 石岡　太郎 (full-width space) matches 石岡 太郎 and
ＡＢ123 matches ab123; a key of digits only is compared as a number, so 00123 matches 123
(Excel drops an employee number's leading zeros when it reads a CSV and saves it again). An
item whose key is empty matches nothing. Records are indexed once per target, so comparing
100,000 accounts with a 100,000-person roster stays linear.
"""

from __future__ import annotations

import operator
import unicodedata
from collections.abc import Callable, Iterator
from itertools import chain, compress, repeat
from typing import Any

from auditor.conditions import (
    MISSING,
    Context,
    EvaluationError,
    Finding,
    Frame,
    ListJudge,
    MissingFact,
    Operator,
    Outcome,
    Path,
    Problem,
    columns,
    compiled,
    describe,
    get_path,
    getter,
    params_of,
    register,
    selector,
    take,
    validate,
)


def normalise(value: Any) -> Any:
    if isinstance(value, str):
        if value.isascii() and value.isalnum():  # an employee number: NFKC and spaces change nothing
            return _number(value.lower())  # casefold() of ASCII
        return _number("".join(unicodedata.normalize("NFKC", value).split()).casefold())
    return value


def _number(key: str) -> str:
    """A key of ASCII digits without its leading zeros (``00123`` → ``123``, ``000`` → ``0``)."""
    return (key.lstrip("0") or "0") if key.isdigit() and key.isascii() else key


_NO_KEY: Any = object()  # in place of an absent or empty key field: equal to nothing in an index


def _normalised(values: list[Any]) -> list[Any]:
    """:func:`normalise` of each value, _NO_KEY for those that make no key (absent, null, empty)."""
    if set(map(type, values)) == {str}:
        if all(map(str.isascii, values)) and all(map(str.isalnum, values)):  # employee numbers
            if all(map(str.isdigit, values)):
                return [v.lstrip("0") or "0" for v in values]
            return list(map(_number, map(str.lower, values)))
        folded = map(str.casefold, map("".join, map(str.split, map(unicodedata.normalize, repeat("NFKC"), values))))
        return [_number(v) if v else _NO_KEY for v in folded]
    return [_NO_KEY if v is MISSING or v is None or v == "" else v for v in map(normalise, values)]


def _lookup_keys(cols: list[list[Any]]) -> list[Any]:
    """The keys of a list index: the normalised value itself for one field (no tuple per record), or tuples."""
    return cols[0] if len(cols) == 1 else list(zip(*cols, strict=True))


def _positions_by_key(keys: list[Any]) -> tuple[bool, dict[Any, Any]]:
    """(unique, index): each key's position (unique keys) or positions (otherwise); keys holding _NO_KEY left out."""
    index: dict[Any, Any] = dict(zip(keys, range(len(keys)), strict=True))
    if len(index) == len(keys):  # every key once, as employee numbers are: built in C
        index.pop(_NO_KEY, None)
        if keys and type(keys[0]) is tuple:
            for key in [key for key in index if _NO_KEY in key]:
                del index[key]
        return True, index
    index = {}
    for i, key in enumerate(keys):
        if key is not _NO_KEY and not (type(key) is tuple and _NO_KEY in key):
            index.setdefault(key, []).append(i)
    return False, index


def _key(record: Any, gets: list[Callable[[Any], Any]]) -> tuple[Any, ...] | None:
    """The normalised values of a record's key fields (read by ``gets``); None if one is absent or empty."""
    if not isinstance(record, dict):
        return None
    key = []
    for get in gets:
        value = normalise(get(record))
        if value is MISSING or value is None or value == "":
            return None
        key.append(value)
    return tuple(key)


@register
class Match(Operator):
    name = "match"

    def validate(self, arg: Any, path: Path) -> Iterator[Problem]:
        if not isinstance(arg, dict):
            yield path, "expected a mapping with in, by and optionally where"
            return
        for key in arg:
            if key not in ("in", "by", "where"):
                hint = " (YAML reads a bare on as true: the key is by)" if key is True else ""
                yield path + (key,), f"unknown key (expected: in, by, where){hint}"
        if not isinstance(arg.get("in"), str) or not arg.get("in"):
            yield path + ("in",), "expected the dotted path of a list, such as org.hr_roster"
        by = arg.get("by")
        if not isinstance(by, dict) or not by or not all(isinstance(k, str) and isinstance(v, str)
                                                         for k, v in by.items()):
            yield path + ("by",), "expected a mapping of record field to item field, such as {employee_id: employee_id}"
        if "where" in arg:
            yield from validate(arg["where"], path + ("where",))

    def params(self, arg: Any) -> Iterator[str]:
        if "where" in arg:
            yield from params_of(arg["where"])

    @staticmethod
    def _index_records(arg: dict[str, Any], ctx: Context) -> list[Any]:
        records = get_path(ctx.root, arg["in"])
        if records is MISSING:
            raise MissingFact(arg["in"])
        if records is None:
            return []
        if not isinstance(records, list):
            raise EvaluationError(f"{arg['in']} is not a list")
        return records

    def _index(self, arg: dict[str, Any], ctx: Context) -> dict[tuple[Any, ...], list[Any]]:
        records = self._index_records(arg, ctx)
        fields = tuple(arg["by"])

        def build() -> dict[tuple[Any, ...], list[Any]]:
            unique, positions = self._positions(arg, ctx)[1:]
            single = len(fields) == 1
            return {(key,) if single else key: [records[found]] if unique else list(map(records.__getitem__, found))
                    for key, found in positions.items()}

        return ctx.memoized(records, ("match", id(records), fields), build)

    def holds(self, subject: Any, arg: Any, ctx: Context, label: str) -> bool:
        return self.compile(arg)(subject, ctx, label)

    def compile(self, arg: Any) -> Callable[[Any, Context, str], bool]:
        # Runs once per account against a roster: the item's key fields and the where filter
        # are resolved here, once, and the index is found in the per-target cache.
        records_of = getter(arg["in"])
        fields = tuple(arg["by"])
        item_fields = tuple(arg["by"].values())
        gets = [getter(f) for f in item_fields]
        where = arg.get("where")
        accept = compiled(where) if where is not None else None

        def judge(subject: Any, ctx: Context, label: str) -> bool:
            records = records_of(ctx.root)
            index = ctx.memo(records).get(("match", id(records), fields)) if type(records) is list else None
            if index is None:
                index = self._index(arg, ctx)
            key = _key(subject, gets)
            if key is None:
                return False
            found = index.get(key, ())
            if accept is None:
                return bool(found)
            return any(accept(record, ctx, "") for record in found)

        return judge

    def _positions(self, arg: dict[str, Any], ctx: Context) -> tuple[list[Any], bool, dict[Any, Any]]:
        """The records and :meth:`_index` by position instead of record, keyed as :func:`_lookup_keys`
        says, with whether each key is one record's (its position) or several records' (a list)."""
        records = self._index_records(arg, ctx)
        fields = tuple(arg["by"])

        def build() -> tuple[bool, dict[Any, Any]]:
            frame = Frame.of(records, ctx)
            keyed = columns(records, fields) if frame is None else {f: frame.column(f) for f in fields}
            # a non-record has no fields: MISSING, and no key
            return _positions_by_key(_lookup_keys([_normalised(keyed[f]) for f in fields]))

        return records, *ctx.memoized(records, ("match positions", id(records), fields), build)

    def compile_select(self, field: str | None, arg: Any) -> ListJudge | None:
        # The items' keys are normalised and looked up all at once, and the records found are
        # filtered by ``where`` together; an item matches if one of its records passed.
        if field is not None:
            return None
        item_fields = tuple(arg["by"].values())
        where = arg.get("where")
        accept = selector(where) if where is not None else None

        def run(frame: Frame, positions: list[int], ctx: Context) -> list[int]:
            theirs = Frame.of(self._index_records(arg, ctx), ctx)
            if theirs is not None:  # the records' keys and what where reads
                theirs.read((*arg["by"], *(accept.fields if accept is not None else ())))
            records, unique, index = self._positions(arg, ctx)
            if 2 * len(positions) >= len(frame.items):  # most items: all keys made once for the target
                keys = take(frame.derived(("match keys", item_fields), lambda: _lookup_keys(
                    [_normalised(frame.column(f)) for f in item_fields])), positions)
            else:
                keys = _lookup_keys([_normalised(take(frame.column(f), positions)) for f in item_fields])
            if unique:  # each item's record: its position, or None
                found: list[Any] = list(map(index.get, keys))
                if accept is None:
                    return list(compress(positions, map(operator.is_not, found, repeat(None))))
                candidates = sorted(set(found).difference((None,)))
            else:  # each item's records: a list of positions
                found = list(map(index.get, keys, repeat(())))
                if accept is None:
                    return list(compress(positions, found))
                candidates = sorted(set(chain.from_iterable(found)))
            if not candidates:
                return []
            if theirs is not None:
                passed = set(accept.run(theirs, candidates, ctx))
            else:
                judge = compiled(where)
                passed = {i for i in candidates if judge(records[i], ctx, "")}
            if unique:
                return list(compress(positions, map(passed.__contains__, found)))
            return list(compress(positions, map(operator.not_, map(passed.isdisjoint, found))))

        return ListJudge(item_fields, run)

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        if self.holds(subject, arg, ctx, label):
            return Outcome(True)
        shown = {item: get_path(subject, item) for item in arg["by"].values()} if isinstance(subject, dict) else subject
        return Outcome(False, [Finding(label, shown, self.describe(arg, ctx))])

    def explain(self, arg: Any, w: Any, scope: Any, negated: bool) -> Any:
        """The item has (or, negated, has no) a corresponding record of the other list:
        人事名簿に職員番号が同じ記録がある, has an HR roster entry with the same employee number."""
        from auditor.conditions import wording

        other = w.items(w.top(arg["in"]))
        parts = same_keys(w, scope, other, arg["by"]) + ([w.clause(arg["where"], other)] if "where" in arg else [])
        phrase = wording.records(other.noun, wording.both(parts))
        if negated:
            return wording.leaf(None, wording.exists_ja(phrase, False), f"has no {phrase.en}")
        return wording.leaf(None, wording.exists_ja(phrase, True), f"has {wording.Noun(phrase.en, phrase.en).a()}")

    def describe(self, arg: Any, ctx: Context) -> str:
        pairs = " and ".join(f"{rec} = {item}" for rec, item in arg["by"].items())
        where = f" with {describe(arg['where'], ctx)}" if "where" in arg else ""
        return f"a record of {arg['in']} where {pairs}{where}"


def same_keys(w: Any, scope: Any, other: Any, by: dict[str, str]) -> list[Any]:
    """The key fields of a record of ``other`` compared with the item's (``by``: record field →
    item field) as clauses about the record: 職員番号が同じである, whose name matches the display name."""
    from auditor.conditions import wording

    pairs = []
    for rec, item in by.items():
        mine, theirs = w.field(scope, item).noun, w.field(other, rec)
        if mine is None or mine.ja == (theirs.noun.ja if theirs.noun else None):
            pairs.append(wording.leaf(theirs.subject, "同じである", "is the same"))
        else:
            pairs.append(wording.leaf(theirs.subject, f"{wording.particle(mine.ja, 'と')}一致する",
                                      f"matches the {mine.en}"))
    return pairs
