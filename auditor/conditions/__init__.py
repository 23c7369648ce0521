"""The check language: a registry of condition operators, and its evaluator.

A condition is a mapping with exactly one operator key and, optionally, ``field``
(a dotted path into the current subject)::

    {ge: {param: password_min_length}}
    {none: {where: {field: password_empty, eq: true}}}

Each operator lives in one module of this package and registers itself; a new check
kind (zone reachability, say) is one new module. Conditions are data interpreted
here: nothing in a policy file is ever passed to eval or exec.
"""

from __future__ import annotations

import importlib
import operator
import pkgutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from itertools import compress, repeat
from typing import Any, ClassVar

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "<missing>"})()

Path = tuple[Any, ...]
Problem = tuple[Path, str]


class MissingFact(Exception):
    """The evidence lacks a fact the check needs: the result is `error`, never a pass."""

    def __init__(self, label: str) -> None:
        super().__init__(label)
        self.label = label


class EvaluationError(Exception):
    """The fact has a shape or type the condition cannot judge (a string where a number belongs).

    ``cause``: where the evidence is broken, when the condition can say it more exactly than the
    area it read (the file, line and problem of a firewall rule the importer could not read)."""

    def __init__(self, message: str, cause: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.cause = cause


@dataclass(slots=True)  # a directory audit makes a hundred thousand of them
class Finding:
    item: str
    actual: Any
    expected: str
    source: dict[str, Any] | None = None  # where the item is written (see row_source), for reports

    def as_dict(self) -> dict[str, Any]:
        """The finding in the results document (see :func:`shown`)."""
        return {"item": self.item, "actual": shown(self.actual), "expected": self.expected}


def shown(actual: Any) -> Any:
    """A finding's actual value as the results document shows it: an absent value as such, absent
    fields of a record left out (the record copied only when one is absent)."""
    if actual is MISSING:
        return "(absent)"
    if isinstance(actual, dict) and MISSING in actual.values():
        return {k: v for k, v in actual.items() if v is not MISSING}
    return actual


@dataclass
class Outcome:
    passed: bool
    findings: list[Finding] = field(default_factory=list)


@dataclass
class Context:
    """What a condition may consult besides its subject."""

    params: dict[str, Any]
    as_of: date
    item_key: str | None = None
    root: Any = None  # the whole evidence of the target (facts, and org.*), for operators that look across
    cache: dict[Any, Any] = field(default_factory=dict)  # per-target memo, e.g. match's indexes
    lasting: dict[Any, Any] = field(default_factory=dict)  # memo for the run's lasting lists (see memo)
    lasting_lists: frozenset[int] = frozenset()  # their ids

    def memo(self, items: Any) -> dict[Any, Any]:
        """Where what is worked out from a list (its frame, match's indexes) is kept: the
        organisation's lists, which every target reads and which stay as they are for the whole
        run, in one memo for the run; any other list in the target's."""
        return self.lasting if id(items) in self.lasting_lists else self.cache

    def memoized(self, items: Any, key: Any, compute: Callable[[], Any]) -> Any:
        """What ``compute`` works out from ``items``, kept under ``key`` in their :meth:`memo`."""
        return remembered(self.memo(items), key, compute)


def remembered(memo: dict[Any, Any], key: Any, compute: Callable[[], Any]) -> Any:
    """``memo[key]``, computed and kept the first time it is asked for."""
    found = memo.get(key)
    if found is None:
        found = memo[key] = compute()
    return found


class Operator:
    """One operator of the check language. Subclasses register with :func:`register`."""

    name: ClassVar[str]
    # True for an operator that judges its subject against its argument and the run's parameters alone
    # (not the day judged as of, nor any other evidence): a condition made only of such operators on
    # fields that are the same for many targets is the same for all of them (see Engine.decided).
    local: ClassVar[bool] = False

    def validate(self, arg: Any, path: Path) -> Iterator[Problem]:
        """Yield (path, problem) for a malformed argument; called once when checks load."""
        return iter(())

    def params(self, arg: Any) -> Iterator[str]:
        """Names of the profile parameters the argument refers to."""
        return iter(())

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        raise NotImplementedError

    def holds(self, subject: Any, arg: Any, ctx: Context, label: str) -> bool:
        """Whether the condition holds; operators override it where findings are costly."""
        return self.evaluate(subject, arg, ctx, label).passed

    def compile(self, arg: Any) -> Callable[[Any, Context, str], bool]:
        """:meth:`holds` with the argument bound; operators on hot paths return a leaner function."""
        def judge(subject: Any, ctx: Context, label: str) -> bool:
            return self.holds(subject, arg, ctx, label)

        return judge

    def compile_field(self, field: str, arg: Any) -> Callable[[Any, Context, str], bool] | None:
        """``{field: FIELD, <op>: arg}`` as one function, for a plain key FIELD (no dots).

        Operators judged per record (comparisons, ages) read the field themselves, which saves
        a call per record; the function must raise ``MissingFact(field_label(label, field))``
        for an absent key as the general path does. None: use :meth:`compile` and a lookup.
        """
        return None

    def compile_select(self, field: str | None, arg: Any) -> ListJudge | None:
        """``{field: FIELD, <op>: arg}`` (FIELD may be None) over a list of plain dicts, for ``where`` filters.

        A directory has a hundred thousand accounts: the list judge reads a field of all of
        them at once and judges with C-level loops where it can. It may raise anything where
        the data are unusual (an absent key, a wrong type): :func:`select_positions` then
        judges item by item, which raises what the user must see. When it returns, its answer
        must be the per-item judge's, and the per-item judge must raise for none of the items.
        None: the per-item judge is used.
        """
        return None

    def describe(self, arg: Any, ctx: Context) -> str:
        """The requirement in words, used as a finding's ``expected``."""
        raise NotImplementedError

    def explain(self, arg: Any, w: Any, scope: Any, negated: bool) -> Any:
        """The condition as a :class:`~auditor.conditions.wording.Clause` about ``scope`` (negated:
        its opposite), for people; see :mod:`auditor.conditions.wording`. This default names the
        operator and its argument, readable but plain: operators say it better themselves."""
        from auditor.conditions import wording

        return wording.generic(self.name, arg, w, scope, negated)


REGISTRY: dict[str, Operator] = {}


def register(cls: type[Operator]) -> type[Operator]:
    REGISTRY[cls.name] = cls()
    return cls


# Modules of this package that are not operators: the words for people, imported only when a
# report asks for sentences (they import the registry, so loading them here would be circular).
NOT_OPERATORS = frozenset({"wording", "words"})


def _load_operators() -> None:
    for mod in pkgutil.iter_modules(__path__):
        if mod.name not in NOT_OPERATORS:
            importlib.import_module(f"{__name__}.{mod.name}")


def get_path(subject: Any, dotted: str) -> Any:
    """Follow a dotted path through mappings; MISSING where a key is absent."""
    value = subject
    for part in dotted.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return MISSING
    return value


def getter(dotted: str) -> Callable[[Any], Any]:
    """:func:`get_path` for one path, split once: for reading a field of every item of a list."""
    if "." not in dotted:
        def get(subject: Any) -> Any:
            return subject.get(dotted, MISSING) if type(subject) is dict else get_path(subject, dotted)

        return get
    parts = dotted.split(".")
    if len(parts) == 2:  # a record's sub-record, such as source.line
        outer, inner = parts

        def get_two(subject: Any) -> Any:
            if type(subject) is dict:
                value = subject.get(outer)
                if type(value) is dict:
                    return value.get(inner, MISSING)
            return get_path(subject, dotted)

        return get_two

    def get_deep(subject: Any) -> Any:
        value = subject
        for part in parts:
            if isinstance(value, dict) and part in value:
                value = value[part]
            else:
                return MISSING
        return value

    return get_deep


def lookup(subject: Any, dotted: str, label: str) -> Any:
    """Like :func:`get_path`, but only the last key may be absent (MISSING).

    If a container on the way is missing, nothing can be said about the key, not even
    that it does not exist, so the fact is reported missing.
    """
    value = subject
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif i == len(parts) - 1 and isinstance(value, dict):
            return MISSING
        else:
            missing = ".".join(parts[: i + 1] if i else parts[:1])
            raise MissingFact(f"{label}.{missing}" if label else missing)
    return value


# Parsed conditions by id. Each entry keeps its condition alive, so an id is never reused
# for another mapping while it is cached; conditions come from policies and live as long.
_PARSED: dict[int, tuple[dict[str, Any], str | None, str, Any, Operator]] = {}


def _parsed(cond: dict[str, Any]) -> tuple[dict[str, Any], str | None, str, Any, Operator]:
    entry = _PARSED.get(id(cond))
    if entry is None or entry[0] is not cond:
        fld = cond.get("field")
        (name,) = (k for k in cond if k != "field")
        entry = (cond, fld, name, cond[name], REGISTRY[name])
        _PARSED[id(cond)] = entry
    return entry


def split(cond: dict[str, Any]) -> tuple[str | None, str, Any]:
    """(field, operator name, argument) of a validated condition."""
    _, fld, name, arg, _ = _parsed(cond)
    return fld, name, arg


def validate(cond: Any, path: Path = ()) -> list[Problem]:
    """All problems of a condition, with key paths relative to the condition."""
    if not isinstance(cond, dict):
        return [(path, f"a condition must be a mapping, got {type(cond).__name__}")]
    if "field" in cond and not (isinstance(cond["field"], str) and cond["field"]):
        return [(path + ("field",), "must be a non-empty dotted path")]
    ops = [k for k in cond if k != "field"]
    if len(ops) != 1:
        known = ", ".join(sorted(REGISTRY))
        what = "no operator" if not ops else f"several operators ({', '.join(map(str, ops))})"
        return [(path, f"{what}: a condition has exactly one of: {known}")]
    name = ops[0]
    op = REGISTRY.get(name)
    if op is None:
        return [(path + (name,), f"unknown operator (expected one of: {', '.join(sorted(REGISTRY))})")]
    return list(op.validate(cond[name], path + (name,)))


def params_of(cond: dict[str, Any]) -> set[str]:
    _, name, arg = split(cond)
    return set(REGISTRY[name].params(arg))


def evaluate(cond: dict[str, Any], subject: Any, ctx: Context, label: str) -> Outcome:
    """Judge a condition, with findings for what fails."""
    _, fld, _, arg, op = _parsed(cond)
    if fld is not None:
        subject = lookup(subject, fld, label)
        label = f"{label}.{fld}" if label else fld
    return op.evaluate(subject, arg, ctx, label)


Judge = Callable[[Any, "Context", str], bool]
_COMPILED: dict[int, tuple[dict[str, Any], Judge]] = {}


def compiled(cond: dict[str, Any]) -> Judge:
    """The condition as a function (subject, ctx, label) -> bool, built once per condition.

    Filters run once per record of a list (a hundred thousand accounts); resolving the
    operator and the field on every call would dominate. Like ``_PARSED``, each entry keeps
    its condition alive so that its id is not reused.
    """
    entry = _COMPILED.get(id(cond))
    if entry is None or entry[0] is not cond:
        _, fld, _, arg, op = _parsed(cond)
        judge = op.compile_field(fld, arg) if fld is not None and "." not in fld else None
        if judge is None:
            judge = op.compile(arg)
            if fld is not None:
                judge = _with_field(fld, judge)
        entry = (cond, judge)
        _COMPILED[id(cond)] = entry
    return entry[1]


def field_label(label: str, fld: str) -> str:
    """The label of a field of the subject labelled ``label``."""
    return f"{label}.{fld}" if label else fld


def _with_field(fld: str, judge: Judge) -> Judge:
    if "." in fld:
        def deep(subject: Any, ctx: Context, label: str) -> bool:
            return judge(lookup(subject, fld, label), ctx, field_label(label, fld))

        return deep

    def shallow(subject: Any, ctx: Context, label: str) -> bool:
        value = subject.get(fld, MISSING) if type(subject) is dict else lookup(subject, fld, label)
        return judge(value, ctx, field_label(label, fld))

    return shallow


def plain(items: list[Any]) -> bool:
    """Whether every item is a dict itself (not a subclass): what the list forms may assume."""
    return set(map(type, items)) == {dict}


def columns(items: list[Any], fields: Iterable[str]) -> dict[str, list[Any]]:
    """``getter(f)`` of every item for each field (MISSING where absent), in C where it can."""
    return _columns(items, list(dict.fromkeys(fields)))[0]


def _columns(items: list[Any], fields: list[str], known: dict[str, list[Any]] | None = None,
             is_plain: bool = False) -> tuple[dict[str, list[Any]], set[str]]:
    """:func:`columns`, and the fields known to be present in every item (no MISSING to look for).

    ``known``: columns already read, of which the fields' sub-fields are read instead of the
    items again; ``is_plain``: the items are known to be plain dicts.
    """
    if not fields or not items or not (is_plain or plain(items)):
        return {f: list(map(getter(f), items)) for f in fields}, set()
    known = known or {}
    heads = [h for h in dict.fromkeys(f.split(".", 1)[0] for f in fields) if h not in known]
    # One pass per field: a pass taking several fields at once would build a tuple per item,
    # which the cycle collector then traverses with all its scattered values.
    found = dict(known)
    present = set()
    for head in heads:
        try:
            found[head] = list(map(operator.itemgetter(head), items))
            present.add(head)
        except KeyError:  # some record lacks the field
            found[head] = list(map(dict.get, items, repeat(head), repeat(MISSING)))
    rests: dict[str, list[str]] = {}
    for f in fields:
        head, _, rest = f.partition(".")
        if rest:
            rests.setdefault(head, []).append(rest)
    for head, inner in rests.items():
        below, whole = _columns(found[head], inner)
        found.update((f"{head}.{f}", values) for f, values in below.items())
        present.update(f"{head}.{f}" for f in whole)
    return {f: found[f] for f in fields}, present & set(fields)


def take(values: list[Any], positions: list[int]) -> list[Any]:
    """The values at ``positions`` (increasing positions in ``values``)."""
    return values if len(positions) == len(values) else list(map(values.__getitem__, positions))


_ROW_FIELDS = 32  # records with more fields are read field by field, as the checks ask
_CHUNK = 4096


class Frame:
    """A list of plain dicts being filtered, with the columns of its fields read so far.

    One frame serves every check of a target (see :meth:`of`): eight checks of a directory
    read nine fields of its accounts, each once (a pass over a hundred thousand records
    scattered in memory costs more than judging the values it reads).
    """

    def __init__(self, items: list[Any]) -> None:
        self.items = items
        self.everything = list(range(len(items)))  # the positions of all items (never to be changed)
        self.columns: dict[str, list[Any]] = {}
        self.present: set[str] = set()  # fields whose columns hold no MISSING
        self._kinds: dict[str, set[type]] = {}
        self._verdicts: dict[Any, list[Any]] = {}  # whole columns judged (see judge) or derived

    @staticmethod
    def of(items: list[Any], ctx: Context) -> Frame | None:
        """The frame of a list of plain dicts, kept in the list's memo (:meth:`Context.memo`); None
        for any other list.

        Like ``match``'s indexes, it assumes that evidence does not change while a target is judged.
        """
        key = ("frame", id(items))
        memo = ctx.memo(items)
        entry = memo.get(key)
        if entry is None or entry[0] is not items:
            entry = memo[key] = (items, Frame(items) if items and plain(items) else None)
        return entry[1]

    def read(self, fields: Iterable[str]) -> None:
        """Read the fields not read yet."""
        new = [f for f in dict.fromkeys(fields) if f not in self.columns]
        if not new:
            return
        if not self.columns:  # the first read takes every field the first item has, if all have them
            self._read_all(new)
        known = {f: self.columns[f] for f in {f.split(".", 1)[0] for f in new} if f in self.columns}
        found, present = _columns(self.items, new, known, is_plain=True)
        self.columns.update(found)
        self.present |= present

    def _read_all(self, wanted: list[str]) -> None:
        """Read all the first item's fields from every item in one pass, if every item has them.

        The checks of a list read different fields of it one after another; a hundred thousand
        records are scattered in memory, and taking all the fields of a record while it is at
        hand costs little more than taking one. The tuple made per record lives only for its
        chunk, so the cycle collector never has many of them to traverse.
        """
        heads = list(self.items[0])
        if not 1 < len(heads) <= _ROW_FIELDS or not {f.split(".", 1)[0] for f in wanted} <= set(heads):
            return
        read = operator.itemgetter(*heads)
        found: list[list[Any]] = [[] for _ in heads]
        picks = [operator.itemgetter(i) for i in range(len(heads))]
        try:
            for start in range(0, len(self.items), _CHUNK):
                rows = list(map(read, self.items[start:start + _CHUNK]))
                for values, pick in zip(found, picks, strict=True):
                    values.extend(map(pick, rows))
        except KeyError:
            return
        self.columns.update(zip(heads, found, strict=True))
        self.present.update(heads)

    def column(self, field: str) -> list[Any]:
        """``getter(field)`` of every item (MISSING where absent)."""
        if field not in self.columns:
            self.read([field])
        return self.columns[field]

    def derived(self, key: Any, compute: Callable[[], list[Any]]) -> list[Any]:
        """A list computed from the frame's columns once for the target, kept under ``key``."""
        found = self._verdicts.get(key)
        if found is None:
            found = self._verdicts[key] = compute()
        return found

    def kinds(self, field: str) -> set[type]:
        """The types of the field's values in all items: a superset of those of any selection."""
        found = self._kinds.get(field)
        if found is None:
            found = self._kinds[field] = set(map(type, self.column(field)))
        return found

    def judge(self, field: str, positions: list[int], key: Any,
              verdicts: Callable[[list[Any], Callable[[], set[type]]], Iterable[Any]]) -> list[int]:
        """The ``positions`` whose values of ``field`` ``verdicts`` accepts (given the values and
        a function giving their :meth:`kinds`, it returns a truthy verdict for each value).

        Where every item has the field and the positions are most of the list, the whole column
        is judged, once per ``key`` (None: not to be kept) for the target: a directory's checks
        share filters, such as enabled accounts. If a value the positions leave out makes
        ``verdicts`` raise, only the positions' values are judged.
        """
        column = self.column(field)
        memo = None if key is None else ("verdicts", field, key)
        found = self._verdicts.get(memo) if memo is not None else None
        if found is None and field in self.present and 2 * len(positions) >= len(column):
            try:
                found = list(verdicts(column, partial(self.kinds, field)))
            except Exception:  # noqa: BLE001 - judged below on the positions alone, which raises if it must
                found = None
            else:
                if memo is not None:
                    self._verdicts[memo] = found
        if found is not None:
            if len(positions) == len(found):
                return list(compress(positions, found))
            return list(compress(positions, map(found.__getitem__, positions)))
        return list(compress(positions, verdicts(self.values(field, positions), partial(self.kinds, field))))

    def values(self, field: str, positions: list[int]) -> list[Any]:
        """The field of the items at ``positions``; raises LookupError if one lacks it.

        :func:`lookup` would give MISSING or raise MissingFact there: operators that read
        a field raise MissingFact on the per-item path, and :func:`select_positions` falls
        back to it.
        """
        found = take(self.column(field), positions)
        if field not in self.present and MISSING in found:
            raise LookupError(field)
        return found


@dataclass(frozen=True)
class ListJudge:
    """A condition over a list (see :meth:`Operator.compile_select`): what it reads, and how it judges.

    ``run(frame, positions, ctx)`` returns those of the increasing ``positions`` whose items
    satisfy the condition; ``fields`` are read for every item before it runs.
    It must not change the lists it is given.
    """

    fields: tuple[str, ...]
    run: Callable[[Frame, list[int], Context], list[int]]


_SELECTORS: dict[int, tuple[dict[str, Any], ListJudge]] = {}


def selector(cond: dict[str, Any]) -> ListJudge:
    """The condition's :class:`ListJudge`, built once per condition (kept alive like ``_COMPILED``).

    An operator without a list form is judged item by item. Only :func:`select_positions`
    may run one outside another list judge: it alone falls back when one raises.
    """
    entry = _SELECTORS.get(id(cond))
    if entry is None or entry[0] is not cond:
        _, fld, _, arg, op = _parsed(cond)
        chosen = op.compile_select(fld, arg) or _one_by_one(compiled(cond))
        entry = (cond, chosen)
        _SELECTORS[id(cond)] = entry
    return entry[1]


def _one_by_one(judge: Judge) -> ListJudge:
    def run(frame: Frame, positions: list[int], ctx: Context) -> list[int]:
        items = frame.items
        return [i for i in positions if judge(items[i], ctx, "")]

    return ListJudge((), run)


LIST_JUDGE_MIN = 128  # shorter lists are judged item by item: a frame costs more than it saves


def list_positions(cond: dict[str, Any], items: list[Any], ctx: Context) -> tuple[list[int], Frame] | None:
    """The positions of the items that satisfy ``cond`` (a ``where`` filter) by its :class:`ListJudge`,
    and the frame of the columns read (from which the caller may read more).

    None if the items are few (item by item is faster), not all plain dicts, or if the list
    judge met anything unusual: the caller then judges item by item, as it always did, which
    raises what it must.
    """
    if len(items) < LIST_JUDGE_MIN:
        return None
    frame = Frame.of(items, ctx)
    if frame is None:
        return None
    judge = selector(cond)
    try:
        frame.read(judge.fields)
        return judge.run(frame, frame.everything, ctx), frame
    except Exception:  # noqa: BLE001 - judged item by item by the caller, where the error is raised as it must be
        return None


def select_positions(cond: dict[str, Any], items: list[Any], ctx: Context,
                     label: str = "") -> tuple[list[int], Frame | None]:
    """The positions of the items that satisfy ``cond``, as :func:`holds` judges them, and the
    frame if :func:`list_positions` judged them (the whole list judged item by item otherwise,
    each item labelled by its place in the list ``label``, which a missing field's error names)."""
    found = list_positions(cond, items, ctx)
    if found is not None:
        return found
    judge = compiled(cond)
    # An item's label is only ever part of an error's message: each item is judged unlabelled, and
    # the one that raises is judged again with its label, to raise what it must.
    chosen = []
    for i, item in enumerate(items):
        try:
            held = judge(item, ctx, "")
        except Exception:  # noqa: BLE001 - raised again below, labelled
            held = judge(item, ctx, label_path(label, i))
        if held:
            chosen.append(i)
    return chosen, None


def select(cond: dict[str, Any], items: list[Any], ctx: Context) -> list[Any]:
    """The items that satisfy ``cond``, in order (see :func:`select_positions`)."""
    return list(map(items.__getitem__, select_positions(cond, items, ctx)[0]))


def holds(cond: dict[str, Any], subject: Any, ctx: Context, label: str = "") -> bool:
    """Judge a condition without building findings (for ``where`` filters and applicability)."""
    return compiled(cond)(subject, ctx, label)


def describe(cond: dict[str, Any], ctx: Context) -> str:
    fld, name, arg = split(cond)
    text = REGISTRY[name].describe(arg, ctx)
    return f"{fld} {text}" if fld else text


def require_present(subject: Any, label: str) -> None:
    if subject is MISSING:
        raise MissingFact(label)


def is_param(arg: Any) -> bool:
    return isinstance(arg, dict) and set(arg) == {"param"}


def resolve(arg: Any, ctx: Context) -> Any:
    """A literal, or the profile's value for ``{param: NAME}``."""
    return ctx.params[arg["param"]] if is_param(arg) else arg


def value_params(arg: Any) -> Iterator[str]:
    if is_param(arg):
        yield arg["param"]


def validate_value(arg: Any, path: Path) -> Iterator[Problem]:
    """A literal value, or ``{param: NAME}``; any other mapping is a mistake."""
    if isinstance(arg, dict) and (not is_param(arg) or not isinstance(arg["param"], str)):
        yield path, "expected a literal value or {param: NAME}"


def row_source(source: Any) -> dict[str, Any] | None:
    """A record's ``source`` (the file and line where its row of a tabular export starts, as the
    importers record it) as a finding's source: ``{file, row}``, with ``sheet`` for a workbook.
    The number is the line the row starts on (the header is 1), which is the spreadsheet's row
    unless a cell above spans lines. None for anything else."""
    if type(source) is not dict or not isinstance(source.get("file"), str):
        return None
    found: dict[str, Any] = {"file": source["file"]}
    line = source.get("line")
    if type(line) is int:
        found["row"] = line
    if isinstance(source.get("sheet"), str):
        found["sheet"] = source["sheet"]
    return found


def label_path(label: str, index: int) -> str:
    """The label of item ``index`` of the list labelled ``label`` (``accounts[3]``; ``[3]`` unlabelled)."""
    return f"{label}[{index}]"


_load_operators()
