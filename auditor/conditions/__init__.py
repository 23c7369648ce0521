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
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from auditor.yamldoc import format_path

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "<missing>"})()

Path = tuple[Any, ...]
Problem = tuple[Path, str]


class MissingFact(Exception):
    """The evidence lacks a fact the check needs: the result is `error`, never a pass."""

    def __init__(self, label: str) -> None:
        super().__init__(label)
        self.label = label


class EvaluationError(Exception):
    """The fact has a shape or type the condition cannot judge (a string where a number belongs)."""


@dataclass
class Finding:
    item: str
    actual: Any
    expected: str

    def as_dict(self) -> dict[str, Any]:
        actual = self.actual
        if isinstance(actual, dict):
            actual = {k: v for k, v in actual.items() if v is not MISSING}
        return {"item": self.item, "actual": "(absent)" if actual is MISSING else actual, "expected": self.expected}


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


class Operator:
    """One operator of the check language. Subclasses register with :func:`register`."""

    name: ClassVar[str]

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

    def describe(self, arg: Any, ctx: Context) -> str:
        """The requirement in words, used as a finding's ``expected``."""
        raise NotImplementedError


REGISTRY: dict[str, Operator] = {}


def register(cls: type[Operator]) -> type[Operator]:
    REGISTRY[cls.name] = cls()
    return cls


def _load_operators() -> None:
    for mod in pkgutil.iter_modules(__path__):
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


def label_path(label: str, index: int) -> str:
    return format_path([label, index]) if label else f"[{index}]"


_load_operators()
