"""Conditions as sentences: the frame that each operator's ``explain`` fills in.

A finding's ``expected`` is the condition's notation (``>= 8``), for machines and tests; reports
for people need "the minimum password length is at least 8 characters" (and its Japanese). Each
operator turns its argument into a :class:`Clause` about the current :class:`Scope` (what the
value is: an area, a field, a record of a list), and this module joins clauses into one sentence
per language. Words for fact fields live in :mod:`auditor.conditions.words`.

Japanese clauses are in plain form (終止形, which is also the form that modifies a noun), so a
clause can end a sentence (+ こと) or describe records (…であるアカウント). English clauses are
verb phrases for a singular subject; :func:`agree` makes them plural.

Nothing here uses ``str.format`` on policy text: values are joined as plain strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from auditor.conditions import REGISTRY, is_param
from auditor.conditions import words as W
from auditor.conditions.words import Noun, particle

LANGS = ("ja", "en")
MAX_LISTED = 20  # values of a list shown before "and N more"
MAX_TEXT = 120  # characters of one value shown; a longer one (a hostile field, say) is cut short


@dataclass(frozen=True)
class Clause:
    """A condition in words.

    ``leaf``: ``subject`` (None: the current record itself) and a predicate: Japanese plain form,
    English verb phrase (singular). ``statement``: a complete clause (there is no account that …).
    ``and``/``or``: ``parts`` joined. ``attr``: the predicate as an adjective (有効な, enabled),
    for a noun phrase such as 有効なアカウント.
    """

    kind: str
    ja: str = ""
    en: str = ""
    subject: Noun | None = None
    parts: tuple[Clause, ...] = ()
    attr: tuple[str, str] | None = None


ALWAYS = Clause("always", "どのような値でもよい", "may be anything")  # a condition that holds of every value


def leaf(subject: Noun | None, ja: str, en: str, attr: tuple[str, str] | None = None) -> Clause:
    return Clause("leaf", ja, en, subject, attr=attr)


def statement(ja: str, en: str) -> Clause:
    return Clause("statement", ja, en)


@dataclass(frozen=True)
class Scope:
    """What the current value is: its vocabulary key, its words, and whether it is a record of a list."""

    path: str  # dotted fact path without list marks or org. ("" for the whole evidence)
    display: str  # the path as a field name to show where no word is known
    noun: Noun | None
    record: bool = False
    parent: Scope | None = None
    beside: tuple[tuple[str, Scope], ...] = ()  # other records seen under a key of this one (joined's ``as``)

    @property
    def subject(self) -> Noun | None:
        """The subject of a leaf about this value: none for a record (the clause is about it)."""
        return None if self.record else self.noun or W.VALUE


ROOT = Scope("", "", None)


# --- Japanese joining ------------------------------------------------------------------------

# Plain-form endings and their continuative form (連用形), to join clauses: …であり、…
_RENYOU = (("ていない", "ておらず"), ("ている", "ており"), ("でない", "でなく"), ("しない", "せず"),
           ("まない", "まず"), ("わない", "わず"), ("さない", "さず"), ("れない", "れず"), ("いない", "おらず"),
           ("できない", "できず"), ("ない", "なく"),
           ("である", "であり"), ("できる", "でき"), ("する", "し"), ("ある", "あり"), ("いる", "おり"),
           ("含む", "含み"), ("合う", "合い"), ("える", "え"), ("れる", "れ"), ("多い", "多く"))


def renyou(ja: str) -> str:
    """A Japanese plain-form clause as the first of two joined by 「、」 (有効である → 有効であり)."""
    for plain, cont in _RENYOU:
        if ja.endswith(plain):
            return ja[: -len(plain)] + cont
    return f"{ja}うえ"


def ja_text(c: Clause) -> str:
    """The clause in Japanese, plain form, with its subject."""
    if c.kind == "always":
        return c.ja
    if c.kind == "leaf":
        return c.subject.ga() + c.ja if c.subject is not None else c.ja
    if c.kind == "statement":
        return c.ja
    shared = _shared_subject(c)
    texts = [p.ja for p in c.parts] if shared is not None else [ja_text(p) for p in c.parts]
    joined = "、".join([renyou(t) for t in texts[:-1]] + texts[-1:]) if c.kind == "and" else "か、".join(texts)
    return shared.ga() + joined if shared is not None else joined


def _shared_subject(c: Clause) -> Noun | None:
    """The one subject of a compound whose parts are all leaves about it (said once)."""
    if len(c.parts) > 1 and all(p.kind == "leaf" and p.subject is not None for p in c.parts):
        first = c.parts[0].subject
        if all(p.subject == first for p in c.parts):
            return first
    return None


# --- English agreement and modes -------------------------------------------------------------

_PLURAL_VERBS = {"is": "are", "has": "have", "does": "do", "was": "were"}


def agree(vp: str, plural: bool) -> str:
    """An English verb phrase for a plural subject when ``plural`` (is → are, matches → match)."""
    if not plural or not vp:
        return vp
    verb, _, rest = vp.partition(" ")
    if verb in _PLURAL_VERBS:
        verb = _PLURAL_VERBS[verb]
    elif verb.endswith(("ches", "shes", "sses", "xes")):
        verb = verb[:-2]
    elif verb.endswith("s") and not verb.endswith("ss"):
        verb = verb[:-1]
    return f"{verb} {rest}" if rest else verb


def _en_join(texts: list[str], word: str) -> str:
    if len(texts) <= 2:
        return f" {word} ".join(texts)
    return ", ".join(texts[:-1]) + f" {word} " + texts[-1]


def en_top(c: Clause) -> str:
    """The clause in English as a sentence of its own (lower-case start)."""
    if c.kind == "always":
        return "any value is accepted"
    if c.kind == "leaf":
        subject = c.subject or W.ITEM
        return f"{subject.the()} {agree(c.en, subject.plural)}"
    if c.kind == "statement":
        return c.en
    shared = _shared_subject(c)
    if shared is not None:
        return f"{shared.the()} " + _en_join([agree(p.en, shared.plural) for p in c.parts], c.kind)
    return _en_join([en_top(p) for p in c.parts], c.kind)


def en_rel(c: Clause, plural: bool = False) -> str:
    """The clause as a relative clause of a record noun: "that is enabled", "whose name matches …"."""
    if c.kind == "always":
        return f"that {c.en}"
    if c.kind == "leaf":
        if c.subject is None:
            return f"that {agree(c.en, plural)}"
        return f"whose {c.subject.en} {agree(c.en, c.subject.plural)}"
    if c.kind == "statement":
        return f"for which {c.en}"
    shared = _shared_subject(c)
    if shared is not None:
        return f"whose {shared.en} " + _en_join([agree(p.en, shared.plural) for p in c.parts], c.kind)
    texts = [en_rel(p, plural) for p in c.parts]
    texts = texts[:1] + [t.removeprefix("that ") for t in texts[1:]]
    return _en_join(texts, c.kind)


def en_vp(c: Clause, plural: bool = False) -> str:
    """The clause as the predicate of a record: "is enabled", "has a name that matches …"."""
    if c.kind == "always":
        return c.en
    if c.kind == "leaf":
        if c.subject is None:
            return agree(c.en, plural)
        return f"{'have' if plural else 'has'} {c.subject.a()} that {agree(c.en, c.subject.plural)}"
    if c.kind == "statement":
        return f"{'are' if plural else 'is'} such that {c.en}"
    return _en_join([en_vp(p, plural) for p in c.parts], c.kind)


# --- noun phrases of filtered records ---------------------------------------------------------

@dataclass(frozen=True)
class Phrase:
    """Records of a list, maybe filtered: 有効なアカウントのうち…もの / accounts that are enabled."""

    ja: str
    en: str  # singular
    en_many: str  # plural
    noun: Noun  # the item noun


def records(item: Noun, where: Clause | None) -> Phrase:
    """The records of the noun ``item`` that ``where`` selects, as a noun phrase."""
    if where is None or where.kind == "always":
        return Phrase(item.ja, item.en, item.many(), item)
    first, rest = where, None
    if where.kind == "and" and where.parts[0].attr is not None:
        first, rest = where.parts[0], where.parts[1:]
    if first.attr is not None:
        ja_attr, en_attr = first.attr
        if not rest:
            return Phrase(f"{ja_attr}{item.ja}", f"{en_attr} {item.en}", f"{en_attr} {item.many()}", item)
        tail = rest[0] if len(rest) == 1 else Clause("and", parts=tuple(rest))
        return Phrase(f"{ja_attr}{item.ja}のうち、{ja_text(tail)}もの", f"{en_attr} {item.en} {en_rel(tail)}",
                      f"{en_attr} {item.many()} {en_rel(tail, True)}", item)
    return Phrase(f"{ja_text(where)}{item.ja}", f"{item.en} {en_rel(where)}",
                  f"{item.many()} {en_rel(where, True)}", item)


def exists_ja(phrase: Phrase, present: bool) -> str:
    """…がある / …がない (people: いる / いない)."""
    verb = ("いる" if present else "いない") if phrase.noun.animate else ("ある" if present else "ない")
    return particle(phrase.ja, "が") + verb


# --- the explainer ---------------------------------------------------------------------------

class Wording:
    """Explains conditions with the profile's parameter values (and titles, where known)."""

    def __init__(self, params: Mapping[str, Any], titles: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.params = params
        self.titles = titles or {}

    def clause(self, cond: Any, scope: Scope, negated: bool = False) -> Clause:
        """The condition in words; the generic wording where its operator has none or stumbles."""
        if not isinstance(cond, dict):
            return generic("?", cond, self, scope, negated)
        ops = [k for k in cond if k != "field"]
        if len(ops) != 1 or ops[0] not in REGISTRY:
            return generic(cut(", ".join(map(str, ops))), cond, self, scope, negated)
        fld = cond.get("field")
        if isinstance(fld, str) and fld:
            scope = self.field(scope, fld)
        try:
            return REGISTRY[ops[0]].explain(cond[ops[0]], self, scope, negated)
        except Exception:  # noqa: BLE001 - a report must not fail for want of a sentence
            return generic(ops[0], cond[ops[0]], self, scope, negated)

    # scopes

    def field(self, scope: Scope, dotted: str) -> Scope:
        for part in dotted.split("."):
            scope = self.child(scope, part)
        return scope

    def child(self, scope: Scope, key: str) -> Scope:
        for name, other in scope.beside:
            if name == key:
                return other
        if scope.path == "" and not scope.record and key in ("org", "facts"):  # org.hr_roster reads as hr_roster
            return Scope("", particle(scope.display, "") + key if scope.display else key, None, parent=scope)
        path = f"{scope.path}.{key}" if scope.path else key
        display = key if scope.record or not scope.display else f"{scope.display}.{key}"
        return Scope(path, display, W.noun_of(path, key, display), parent=scope)

    def items(self, scope: Scope) -> Scope:
        """The scope of one record of the list ``scope``."""
        return Scope(scope.path, scope.display, W.item_of(scope.path, scope.display), record=True, parent=scope)

    def top(self, subject: str | None) -> Scope:
        return self.field(ROOT, subject) if subject else ROOT

    # values

    def value(self, arg: Any) -> tuple[Any, str | None, bool]:
        """(value, parameter name or None, whether the value is known)."""
        if is_param(arg):
            name = arg["param"]
            if isinstance(name, str) and name in self.params:
                return self.params[name], name, True
            return None, str(name), False
        return arg, None, True

    def title(self, name: str | None, lang: str) -> str | None:
        """A parameter's title as a noun phrase: its closing parenthesis (regular expression) left out."""
        found = self.titles.get(name or "", {})
        text = found.get(lang) if isinstance(found, Mapping) else None
        if not isinstance(text, str) or not text:
            return None
        text = re.sub(r"\s*[（(][^（）()]*[）)]$", "", text) or text
        if lang == "en" and not text[1:2].isupper():
            text = text[:1].lower() + text[1:]
        return text


def unknown(name: str | None) -> tuple[str, str]:
    """A parameter the profile does not set, in words."""
    return f"パラメータ {name} の値", f"the profile's {name}"


def generic(name: str, arg: Any, w: Wording, scope: Scope, negated: bool) -> Clause:
    """Words for an operator without its own: the operator named, with its argument (parameters
    given their values), plainly."""
    ja_shown, en_shown = (compact(_resolved(w, arg), lang) for lang in LANGS)
    if negated:
        return leaf(scope.subject, f"条件「{name}」（{ja_shown}）を満たさない",
                    f"does not meet the condition {name} ({en_shown})")
    return leaf(scope.subject, f"条件「{name}」（{ja_shown}）を満たす", f"meets the condition {name} ({en_shown})")


def _resolved(w: Wording, arg: Any, depth: int = 0) -> Any:
    """``arg`` with every ``{param: NAME}`` replaced by the run's value."""
    if depth > 8:
        return "…"
    if is_param(arg):
        value, name, known = w.value(arg)
        return value if known else unknown(name)[1]
    if isinstance(arg, dict):
        return {k: _resolved(w, v, depth + 1) for k, v in arg.items()}
    if isinstance(arg, list):
        return [_resolved(w, v, depth + 1) for v in arg]
    return arg


def compact(value: Any, lang: str = "en", depth: int = 0) -> str:
    """A short plain rendering of a value (keys and values, lists joined), never a Python repr."""
    if depth > 3:
        return "…"
    sep = "、" if lang == "ja" else ", "
    if isinstance(value, dict):
        return sep.join(f"{cut(str(k))}: {compact(v, lang, depth + 1)}" for k, v in list(value.items())[:8])
    if isinstance(value, list):
        return sep.join(compact(v, lang, depth + 1) for v in value[:8]) + (sep + "…" if len(value) > 8 else "")
    return plain(value, lang)


def plain(value: Any, lang: str) -> str:
    """A scalar in words: no value, yes/no, a number, or text cut short."""
    if value is None:
        return "値なし" if lang == "ja" else "no value"
    if isinstance(value, bool):
        return ("はい" if value else "いいえ") if lang == "ja" else ("yes" if value else "no")
    return cut(str(value))


def cut(text: str) -> str:
    """At most MAX_TEXT characters of ``text``, the rest shown as …; line breaks as spaces."""
    text = " ".join(text.split()) if any(c in text for c in "\r\n\t") else text
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def text_of(value: Any, lang: str, scope: Scope | None = None) -> str:
    """One value as a report shows it: text quoted (「no」, "no"), a number with the field's unit."""
    words = W.value_word(scope.path, value) if scope is not None else None
    if words is not None:
        value = words[0 if lang == "ja" else 1]
        return f"「{value}」" if lang == "ja" else f'"{value}"'
    if isinstance(value, int | float) and not isinstance(value, bool):
        unit = scope.noun.unit if scope is not None and scope.noun is not None else None
        if unit is None:
            return str(value)
        return f"{value} {unit[0] if lang == 'ja' else unit[1] if value == 1 else unit[2]}"
    if value == "":
        return "空の文字列" if lang == "ja" else "an empty text"
    if isinstance(value, str):
        return f"「{cut(value)}」" if lang == "ja" else f'"{cut(value)}"'
    if isinstance(value, list):
        return listing(value, lang, scope)
    return compact(value, lang)


def listing(values: list[Any], lang: str, scope: Scope | None = None) -> str:
    """Values joined (A、B、C / A, B, C), at most MAX_LISTED of them."""
    if not values:
        return "（なし）" if lang == "ja" else "(none)"
    shown = [text_of(v, lang, scope) if not isinstance(v, list) else compact(v, lang) for v in values[:MAX_LISTED]]
    more = len(values) - MAX_LISTED
    if lang == "ja":
        return "、".join(shown) + (f" ほか {more} 件" if more > 0 else "")
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def named_value(w: Wording, arg: Any, lang: str, scope: Scope | None,
                show: Callable[[Any, str], str] | None = None) -> str:
    """A literal, or a parameter: by its title with its value (特権グループ（Domain Admins、…）)."""
    value, name, known = w.value(arg)
    if not known:
        return unknown(name)[0 if lang == "ja" else 1]
    shown = show(value, lang) if show is not None else text_of(value, lang, scope)
    title = w.title(name, lang) if name is not None and not isinstance(value, int | float | bool) else None
    if title is None:
        return shown
    if lang == "ja":
        return f"{title}（{shown.removeprefix('「').removesuffix('」') if isinstance(value, str) else shown}）"
    return f"the {title} ({shown.strip(chr(34)) if isinstance(value, str) else shown})"


def both(parts: list[Clause]) -> Clause:
    return _compound("and", parts)


def either(parts: list[Clause]) -> Clause:
    return _compound("or", parts)


def _compound(kind: str, parts: list[Clause]) -> Clause:
    """Parts joined; leaves saying the same of several subjects are said once of them all
    (名前または表示名が…に一致する; the clipboard, drive and printer redirection are not allowed)."""
    flat: list[Clause] = []
    for p in parts:
        flat.extend(p.parts if p.kind == kind else [p])
    if kind == "and" and any(p.kind == "always" for p in flat):  # what always holds adds nothing to an and
        flat = [p for p in flat if p.kind != "always"] or [ALWAYS]
    elif kind == "or" and any(p.kind == "always" for p in flat):  # and makes an or hold always
        return ALWAYS
    if len(flat) == 1:
        return flat[0]
    if len(flat) > 1 and all(p.kind == "leaf" and p.subject is not None for p in flat):
        first = flat[0]
        subjects = [p.subject for p in flat if p.subject is not None]
        if all(p.ja == first.ja and p.en == first.en for p in flat) and len(set(subjects)) == len(subjects):
            return leaf(_merged(kind, subjects), first.ja, first.en)
    return Clause(kind, parts=tuple(flat))


def _merged(kind: str, subjects: list[Noun]) -> Noun:
    ja = [s.ja for s in subjects]
    if kind == "or":
        return Noun("または".join(ja), _en_join([s.en for s in subjects], "or"), raw=all(s.raw for s in subjects))
    en = _en_join([s.the() for s in subjects], "and")
    return Noun("、".join(ja), en, plural=True, raw=True, ja_ga=particle("、".join(ja), "が") + "いずれも")


def sentence(c: Clause, lang: str) -> str:
    """The clause as a requirement: Japanese ending in こと, English a capitalised sentence."""
    if lang == "ja":
        return ja_text(c) + "こと"
    text = en_top(c)
    return text[:1].upper() + text[1:]


def explain(cond: Any, params: Mapping[str, Any], lang: str = "ja", *, subject: str | None = None,
            titles: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """See :func:`auditor.conditions.explain`."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r} (expected one of: {', '.join(LANGS)})")
    w = Wording(params, titles)
    return sentence(w.clause(cond, w.top(subject)), lang)


def clause_for(op_scope: Scope, negated: bool, yes: tuple[str, str], no: tuple[str, str],
               attr: tuple[str, str] | None = None) -> Clause:
    """A leaf about the scope's subject: ``yes`` (ja, en) or, negated, ``no``."""
    ja, en = no if negated else yes
    return leaf(op_scope.subject, ja, en, None if negated else attr)


def with_subject(c: Clause, subject: Noun | None) -> Clause:
    return replace(c, subject=subject)


def flag(scope: Scope, value: Any, negated: bool) -> Clause | None:
    """``eq: true`` / ``eq: false`` on a boolean field with words (:data:`words.FLAGS`), said of the
    field's owner (有効なアカウント, the host firewall is enabled); None for other fields or values."""
    words = W.flag_of(scope.path)
    if words is None or not isinstance(value, bool):
        return None
    truth = value != negated
    ja, en = words.yes if truth else words.no
    attr = words.attr if truth else words.attr_no
    owner = scope.parent
    if owner is None or owner.record:
        return leaf(None, ja, en, attr)
    if not owner.path or owner.noun is None:
        return leaf(scope.noun, ja, en)
    noun = owner.noun
    if "が" in ja:  # the predicate has a subject of its own: マルウェア対策ソフトでリアルタイム保護が有効である
        noun = replace(noun, ja_ga=particle(noun.ja, "で"))
    return leaf(noun, ja, en)


def expected_text(condition: Any, reads: list[str], params: Mapping[str, Any],
                  titles: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, str]:
    """What a check requires, as one sentence per language: ``{"ja": …, "en": …}``.

    ``reads``: the check's fact paths (one path is the condition's subject). A check without a
    condition (attested by a person) is said to need a valid attestation.
    """
    if condition is None:
        return {"ja": "監査日に有効な確認記録（証明・点検の記録）があること",
                "en": "A valid attestation covers the check on the audit date"}
    subject = reads[0] if len(reads) == 1 else None
    return {lang: explain(condition, params, lang, subject=subject, titles=titles) for lang in LANGS}


def about_fields(c: Clause) -> bool:
    """Whether every leaf of the clause has a subject of its own (a field, not the record itself)."""
    if c.kind == "leaf":
        return c.subject is not None
    if c.kind == "statement":
        return True
    return all(about_fields(p) for p in c.parts)
