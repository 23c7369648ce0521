"""Zone reachability: ``reachability`` fails for every new connection a firewall lets through
between two groups of zones beyond the flows the check permits (guideline §3.3)::

    reachability:
      rules: firewall_rules                      # optional: the rule-list area (default firewall_rules)
      from: {segment: [internet, external]}      # zone selector: segment, role, name (all given must hold)
      to: {segment: [lgwan]}                     # a list of selectors selects the zones any of them does
      permit:                                    # optional: flows that are allowed; anything else fails
        - {from: {role: [mail-relay]}, services: {param: mail_relay_services}}
        - {to: {role: [sanitizer]}, services: [tcp/443]}
      # or  permit: {param: mn_specific_flows}   # the same list, from the profile

A selector value is a list, one text, or ``{param: NAME}``; ``external`` is the pseudo-zone of
every address in no zone. A permit entry without ``from``/``to`` matches any zone on that side;
without ``services``, any service. Services are texts: ``tcp/443``, ``udp/1024-65535``, ``tcp``,
``icmp``, ``ip/50``, ``any``. The analysis itself (first match, exact) is :mod:`auditor.flows`.

Each finding is one rule letting one zone pair through: the rule's origin (policy id or chain
and line), the services beyond the permitted ones, and one example flow. Flows that depend on a
rule the analysis could not read are findings marked ``undetermined``; when they are the only
findings, the result is ``error`` (a separation that cannot be shown is not shown).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from auditor.conditions import (
    Context,
    EvaluationError,
    Finding,
    MissingFact,
    Operator,
    Outcome,
    Path,
    Problem,
    get_path,
    is_param,
    register,
    resolve,
)
from auditor.flows import (
    ALL_SERVICES,
    Box,
    FactError,
    Ivs,
    RuleSet,
    Verdict,
    Zone,
    example_flow,
    minus,
    origin_text,
    parse_service,
    services_text,
    union,
)
from auditor.memory import paused_gc

SELECTOR_KEYS = ("segment", "role", "name")
ARG_KEYS = ("rules", "from", "to", "permit")
PERMIT_KEYS = ("from", "to", "services")


def _problems_of_selector(value: Any, path: Path) -> Iterator[Problem]:
    if isinstance(value, list) and value:
        for n, one in enumerate(value):
            yield from _problems_of_selector(one, path + (n,))
        return
    if not isinstance(value, dict) or not value:
        yield path, f"expected a zone selector: a mapping of {', '.join(SELECTOR_KEYS)}"
        return
    for key, wanted in value.items():
        if key not in SELECTOR_KEYS:
            yield path + (key,), f"unknown key (expected: {', '.join(SELECTOR_KEYS)})"
        elif not (is_param(wanted) or isinstance(wanted, str)
                  or (isinstance(wanted, list) and all(isinstance(w, str) for w in wanted))):
            yield path + (key,), "expected a text, a list of texts or {param: NAME}"


def _problems_of_permit(entry: Any, path: Path) -> Iterator[Problem]:
    if not isinstance(entry, dict):
        yield path, "expected a mapping with from, to and services"
        return
    for key in entry:
        if key not in PERMIT_KEYS:
            yield path + (key,), f"unknown key (expected: {', '.join(PERMIT_KEYS)})"
    for side in ("from", "to"):
        if side in entry:
            yield from _problems_of_selector(entry[side], path + (side,))
    services = entry.get("services")
    if services is not None and not is_param(services):
        if not isinstance(services, list):
            yield path + ("services",), "expected a list such as [tcp/443] or {param: NAME}"
            return
        for n, text in enumerate(services):
            try:
                parse_service(text)
            except ValueError as exc:
                yield path + ("services", n), str(exc)


def _params_in(value: Any) -> Iterator[str]:
    if is_param(value):
        yield value["param"]
    elif isinstance(value, dict):
        for inner in value.values():
            yield from _params_in(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _params_in(inner)


def _wanted(value: Any, ctx: Context, what: str) -> list[str]:
    value = resolve(value, ctx)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise EvaluationError(f"{what}: expected a text or a list of texts, got {value!r}")


def _selects(selector: dict[str, Any] | list[Any] | None, zone: Zone, ctx: Context, what: str) -> bool:
    if selector is None:
        return True
    if isinstance(selector, list):
        return any(_selects(one, zone, ctx, f"{what}[{n}]") for n, one in enumerate(selector))
    if not isinstance(selector, dict):
        raise EvaluationError(f"{what}: expected a zone selector mapping, got {selector!r}")
    for key, wanted in selector.items():
        if key not in SELECTOR_KEYS:
            raise EvaluationError(f"{what}: unknown selector key {key!r}")
        if getattr(zone, key) not in _wanted(wanted, ctx, f"{what}.{key}"):
            return False
    return True


def _permits(arg: dict[str, Any], ctx: Context) -> list[dict[str, Any]]:
    permits = resolve(arg.get("permit", []), ctx)
    if not isinstance(permits, list):
        raise EvaluationError(f"permit: expected a list of flows, got {permits!r}")
    for n, entry in enumerate(permits):
        problems = list(_problems_of_permit(entry, ("permit", n)))
        if problems:
            where, message = problems[0]
            raise EvaluationError(f"{'.'.join(map(str, where))}: {message}")
    return permits


def _permitted(permits: list[dict[str, Any]], source: Zone, destination: Zone, ctx: Context) -> Ivs:
    """The services on which the check allows new connections from ``source`` to ``destination``."""
    allowed: list[Ivs] = []
    for n, entry in enumerate(permits):
        if _selects(entry.get("from"), source, ctx, f"permit[{n}].from") and \
                _selects(entry.get("to"), destination, ctx, f"permit[{n}].to"):
            if "services" not in entry:
                return ALL_SERVICES
            texts = resolve(entry["services"], ctx)
            if not isinstance(texts, list):
                raise EvaluationError(f"permit[{n}].services: expected a list, got {texts!r}")
            try:
                allowed.append(union(parse_service(t) for t in texts))
            except ValueError as exc:
                raise EvaluationError(f"permit[{n}].services: {exc}") from None
    return union(allowed)


def _selector_text(selector: dict[str, Any] | list[Any] | None, ctx: Context) -> str:
    if not selector:
        return "any zone"
    if isinstance(selector, list):
        return " or ".join(f"({_selector_text(one, ctx)})" for one in selector)
    parts = []
    for key, wanted in selector.items():
        try:
            values = _wanted(wanted, ctx, key)
        except EvaluationError:
            values = [str(wanted)]
        parts.append(f"{key} {'/'.join(values) or '(none)'}")
    return " and ".join(parts)


@register
class Reachability(Operator):
    name = "reachability"

    def validate(self, arg: Any, path: Path) -> Iterator[Problem]:
        if not isinstance(arg, dict):
            yield path, "expected a mapping with from, to and optionally permit and rules"
            return
        for key in arg:
            if key not in ARG_KEYS:
                yield path + (key,), f"unknown key (expected: {', '.join(ARG_KEYS)})"
        if "rules" in arg and not (isinstance(arg["rules"], str) and arg["rules"]):
            yield path + ("rules",), "expected the name of a rule-list area, such as firewall_rules"
        for side in ("from", "to"):
            if side not in arg:
                yield path + (side,), "required: a zone selector such as {segment: [mynumber]}"
            else:
                yield from _problems_of_selector(arg[side], path + (side,))
        permit = arg.get("permit", [])
        if is_param(permit):
            return
        if not isinstance(permit, list):
            yield path + ("permit",), "expected a list of flows or {param: NAME}"
            return
        for n, entry in enumerate(permit):
            yield from _problems_of_permit(entry, path + ("permit", n))

    def params(self, arg: Any) -> Iterator[str]:
        yield from _params_in({k: v for k, v in arg.items() if k != "rules"})

    def _ruleset(self, subject: Any, arg: dict[str, Any], ctx: Context) -> RuleSet:
        area = arg.get("rules", "firewall_rules")
        rules, zones = get_path(subject, area), get_path(subject, "zones")
        for name, value in ((area, rules), ("zones", zones)):
            if not isinstance(value, dict | list):
                raise MissingFact(name)
        key = ("reachability", id(rules), id(zones))
        ruleset = ctx.cache.get(key)
        if ruleset is None or ruleset.fact is not rules:
            try:
                ruleset = RuleSet(rules, zones)
            except FactError as exc:
                raise EvaluationError(f"{area} and zones cannot be analysed: {exc}") from None
            ctx.cache[key] = ruleset
        return ruleset

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        with paused_gc():  # the analysis and its findings are many acyclic objects; see flows.paused_gc
            return self._evaluate(subject, arg, ctx)

    def _evaluate(self, subject: Any, arg: Any, ctx: Context) -> Outcome:
        ruleset = self._ruleset(subject, arg, ctx)
        unsure: list[int] = []  # the rules that leave flows undetermined, as met
        permits = _permits(arg, ctx)
        sources = [z for z in ruleset.zones if _selects(arg["from"], z, ctx, "from")]
        destinations = [z for z in ruleset.zones if _selects(arg["to"], z, ctx, "to")]
        expected = _expected(arg, ctx, permits)
        definite: list[Finding] = []
        open_: list[Finding] = []
        for source in sources:
            for destination in destinations:
                if source.name == destination.name:
                    continue
                allowed = _permitted(permits, source, destination, ctx)
                for family in (4, 6):
                    flows = ruleset.pair(family, source, destination)
                    definite += self._findings(ruleset, flows.accepted, family, source, destination, allowed,
                                               expected, undetermined=False)
                    open_ += self._findings(ruleset, flows.undetermined, family, source, destination, allowed,
                                            expected, undetermined=True, unsure=unsure)
        if definite:
            return Outcome(False, definite + open_)
        if open_:
            shown = "; ".join(f"{f.item}: {f.actual}" for f in open_[:3]) + (" …" if len(open_) > 3 else "")
            raise EvaluationError(f"{len(open_)} flow(s) cannot be decided from the rule set: {shown}",
                                  cause=_first_cause(ruleset, unsure, arg.get("rules", "firewall_rules")))
        return Outcome(True)

    def _findings(self, ruleset: RuleSet, verdicts: list[Verdict], family: int, source: Zone, destination: Zone,
                  allowed: Ivs, expected: str, undetermined: bool, unsure: list[int] | None = None) -> list[Finding]:
        """One finding per deciding rule, with the services beyond ``allowed`` and an example; the rules
        that leave a finding undetermined are added to ``unsure``."""
        if allowed == ALL_SERVICES:
            return []
        beyond: dict[int, Ivs] = {}  # by services object: the analysis shares them between verdicts
        by_rule: dict[tuple[int | None, int | None], tuple[Box, dict[int, Ivs]]] = {}
        for verdict in verdicts:
            box = verdict.box
            services = box[2]
            rest = beyond.get(id(services))
            if rest is None:
                rest = beyond[id(services)] = minus(services, allowed) if allowed else services
            if not rest:
                continue  # every service here is permitted
            key = (verdict.rule, verdict.undetermined_by)
            found = by_rule.get(key)
            if found is None:  # the first box is the example: (addresses, the services not permitted)
                by_rule[key] = ((box[0], box[1], rest, box[3]), {id(rest): rest})
            else:
                found[1][id(rest)] = rest
        findings = []
        for (rule, uncertain_by), (example, distinct) in sorted(by_rule.items(),
                                                                key=lambda kv: (kv[0][0] is None, kv[0][0] or 0)):
            services = union(distinct.values())
            item = f"{source.name} → {destination.name}"
            deciding = origin_text(ruleset.origin(rule), ruleset.default_action)
            flow = f"{services_text(services)} (e.g. {example_flow(family, example)})"
            actual = f"{deciding} allows {flow}"
            if undetermined and uncertain_by is not None:
                if unsure is not None:
                    unsure.append(uncertain_by)
                uncertain = ruleset.rules[uncertain_by]
                why = uncertain.get("error") or _uncertainty(uncertain, *ruleset.zones_seen_by(uncertain, source,
                                                                                               destination))
                actual = (f"undetermined: {origin_text(uncertain['origin'], ruleset.default_action)}: {why}; "
                          f"it may let through {flow}, which {deciding} would otherwise "
                          f"{'allow' if _verdict(ruleset, rule) == 'accept' else 'deny'}")
            findings.append(Finding(item, actual, expected, rule_source(ruleset.origin(rule))))
        return findings

    def explain(self, arg: Any, w: Any, scope: Any, negated: bool) -> Any:
        """No new connection (negated: some) passes from one group of zones to another beyond the
        permitted flows."""
        from auditor.conditions import wording

        texts = {}
        for lang in wording.LANGS:
            start, end = _zones_words(arg["from"], w, lang), _zones_words(arg["to"], w, lang)
            permits, _, known = w.value(arg.get("permit", []))
            listed = [_permit_words(p, w, lang) for p in permits] if known and isinstance(permits, list) else []
            if lang == "ja":
                except_ = f"（{'、'.join(listed)}を除く）" if listed else ""
                verb = "通る" if negated else "通らない"
                route = f"{wording.particle(start, 'から')}{wording.particle(end, 'へ')}の"
                texts[lang] = f"{route}新しい接続が{except_}{verb}"
            else:
                except_ = f", except {'; '.join(listed)}" if listed else ""
                texts[lang] = (f"{'some' if negated else 'no'} new connection from {start} to {end} "
                               f"is let through{except_}")
        return wording.statement(texts["ja"], texts["en"])

    def describe(self, arg: Any, ctx: Context) -> str:
        try:
            permits = _permits(arg, ctx)
        except EvaluationError:
            return _forbidden(arg, ctx) + " except the permitted flows"
        return _expected(arg, ctx, permits)


def _forbidden(arg: dict[str, Any], ctx: Context) -> str:
    return f"no new connection from {_selector_text(arg['from'], ctx)} to {_selector_text(arg['to'], ctx)}"


def _expected(arg: dict[str, Any], ctx: Context, permits: list[dict[str, Any]]) -> str:
    """:meth:`Reachability.describe` for permits already read (evaluate reads them once)."""
    text = _forbidden(arg, ctx)
    if not permits:
        return text
    parts = []
    for entry in permits:
        services = resolve(entry.get("services", ["any"]), ctx)
        sides = []
        if "from" in entry:
            sides.append(f"from {_selector_text(entry['from'], ctx)}")
        if "to" in entry:
            sides.append(f"to {_selector_text(entry['to'], ctx)}")
        listed = ", ".join(services) if isinstance(services, list) else str(services)
        parts.append(" ".join(sides + [f"on {listed}"]))
    return text + " except " + "; ".join(parts)


def _zones_words(selector: Any, w: Any, lang: str) -> str:
    """A zone selector in words: the My Number segment, zones with the role sanitizer in it, ..."""
    from auditor.conditions import wording
    from auditor.conditions.words import SEGMENTS

    if isinstance(selector, list):
        return ("または" if lang == "ja" else " or ").join(_zones_words(s, w, lang) for s in selector[:8])
    if not isinstance(selector, dict):
        return wording.plain(selector, lang)
    picked: dict[str, list[str]] = {}
    for key in SELECTOR_KEYS:
        if key in selector:
            value, _, _ = w.value(selector[key])
            values = value if isinstance(value, list) else [value]
            picked[key] = [wording.plain(v, lang) if key != "segment" or v not in SEGMENTS
                           else SEGMENTS[v][0 if lang == "ja" else 1] for v in values[:wording.MAX_LISTED]]
    segments, roles, names = picked.get("segment"), picked.get("role"), picked.get("name")
    if lang == "ja":
        text = "・".join(segments) if segments else ""
        if roles:
            text += f"{'のうち' if text else ''}役割が {'・'.join(roles)} の区画"
        if names:
            text += f"{'のうち' if text else ''}区画 {'・'.join(names)}"
        return text or "すべての区画"
    parts = []
    if names:
        parts.append(f"the zone{'s' if len(names) > 1 else ''} {' or '.join(names)}")
    if roles:
        parts.append(f"{'' if names else 'zones '}with the role {' or '.join(roles)}")
    if segments:
        joined = " or ".join(segments)
        parts.append(f"in {joined}" if parts else joined)
    return " ".join(parts) or "any zone"


def _permit_words(entry: Any, w: Any, lang: str) -> str:
    """One permitted flow in words: tcp/443 from … to …."""
    from auditor.conditions import wording

    if not isinstance(entry, dict):
        return wording.plain(entry, lang)
    services, _, _ = w.value(entry.get("services", ["any"]))
    services = services if isinstance(services, list) else [services]
    shown = [("すべての通信" if lang == "ja" else "any service") if s == "any" else wording.plain(s, lang)
             for s in services[:wording.MAX_LISTED]]
    start = _zones_words(entry["from"], w, lang) if "from" in entry else None
    end = _zones_words(entry["to"], w, lang) if "to" in entry else None
    if lang == "ja":
        return (wording.particle(start, "から") if start else "") + (
            wording.particle(end, "へ") + "の" if end else "") + "・".join(shown)
    return " ".join([", ".join(shown)] + ([f"from {start}"] if start else []) + ([f"to {end}"] if end else []))


def rule_source(origin: dict[str, Any] | None) -> dict[str, Any] | None:
    """Where the deciding rule is written (file and line of the configuration), for reports;
    None for a chain's or table's default, which no one rule decides."""
    if not isinstance(origin, dict) or not isinstance(origin.get("file"), str):
        return None
    found: dict[str, Any] = {"file": origin["file"]}
    if type(origin.get("line")) is int:
        found["line"] = origin["line"]
    return found


def rule_cause(ruleset: RuleSet, index: int, area: str) -> dict[str, Any] | None:
    """The ``broken`` cause of a result left undecided by a rule the importer could not read: the
    configuration file and line, the rule in the area, and the problem (the unknown object); None
    when the rule has no ``error`` (an FQDN, an interface the zones do not name: nothing is broken)."""
    rule = ruleset.rules[index]
    origin = rule.get("origin")
    if not rule.get("error") or not isinstance(origin, dict):
        return None
    cause: dict[str, Any] = {"kind": "broken", "file": origin.get("file") if isinstance(origin.get("file"), str)
                             else None, "field": f"{area}.rules[{index}]"}
    if type(origin.get("line")) is int:
        cause["line"] = origin["line"]
    cause["problem"] = f"{origin_text(origin, ruleset.default_action)}: {rule['error']}"
    return cause


def _first_cause(ruleset: RuleSet, indices: list[int], area: str) -> dict[str, Any] | None:
    return next((c for c in (rule_cause(ruleset, i, area) for i in dict.fromkeys(indices)) if c), None)


def _verdict(ruleset: RuleSet, index: int | None) -> str:
    return ruleset.default_action if index is None else ruleset.rules[index]["action"]


def _uncertainty(rule: dict[str, Any], source: Zone, destination: Zone) -> str:
    if rule.get("unresolved_sources") or rule.get("unresolved_destinations"):
        names = rule.get("unresolved_sources", []) + rule.get("unresolved_destinations", [])
        return f"names addresses that cannot be resolved offline ({', '.join(names)})"
    faces = [z.name for z in (source, destination) if not z.interfaces]
    if faces and (rule.get("source_interfaces") or rule.get("destination_interfaces")):
        return (f"is limited to interfaces, and neither the zones file nor the device's configuration says "
                f"which interface faces {', '.join(faces)}; add the zone's interfaces for this device "
                "(interfaces: {TARGET-ID: [...]})")
    several = [z for z in (source, destination) if len(z.interfaces) > 1]
    if several and (rule.get("source_interfaces") or rule.get("destination_interfaces")):
        zone = several[0]
        return (f"is limited to interfaces, and {zone.name} is faced by several interfaces "
                f"({', '.join(zone.interfaces[:6])}{', …' if len(zone.interfaces) > 6 else ''}) of which it names "
                "only some; one zones file serving several devices gives each its own (interfaces: {TARGET-ID: [...]})")
    if any("icmp_type" in s for s in rule.get("services", [])):
        return "matches an ICMP type the analysis does not know"
    return "its match cannot be decided for these zones"
