"""Firewall rule hygiene: ``rule_hygiene`` fails for each rule of a rule list that has the
property the check looks for (guideline §6.1, §7.1; GL-D17, GL-D06, GL-A22)::

    rule_hygiene:
      find: any-any          # an enabled accept of any source, any destination and any service
      # find: disabled       # a rule kept with status disable (FortiGate)
      # find: shadowed       # a rule no new connection can reach: earlier rules decide all it matches
      # find: unlogged       # an accept or deny rule that leaves no log of the traffic it decides
      # find: no-av-profile  # an accept rule deciding flows from ``from`` to ``to`` without an AV profile
      # find: always-open    # an accept rule, always scheduled, letting ``from`` open ``services`` in ``to``
      rules: firewall_rules  # optional: the rule-list area
      from: {segment: external}          # no-av-profile and always-open: zone selectors as reachability's
      to: {segment: [lgwan, mynumber, internet]}
      services: {param: remote_access_services}   # always-open: the services concerned

Each finding names the rule as an inspector finds it (FortiGate policy id and name, iptables
chain position, nft handle, with file and line). ``shadowed`` and ``unlogged`` judge coverage
exactly, over the rule model's address intervals, services and source ports, in evaluation
order: a rule is shadowed only when earlier rules that surely match decide *every* packet it
matches (a rule partly covered is not shadowed), and an iptables or nftables rule without a
``log`` of its own is logged only when earlier LOG rules match every packet it decides. Coverage
is conservative: a rule the importer could not read exactly, an FQDN object, a rule limited to a
schedule, an interface condition narrower than the covered rule's, or a ``RETURN`` that may jump
over the covering rule never counts as covering, so a rule is never called shadowed wrongly.
The zone-based properties use the exact analysis of :mod:`auditor.flows`: the rule cited is the
one deciding the flow, so a rule shadowed by an earlier deny is never blamed.
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
from auditor.conditions.reachability import rule_cause, rule_source
from auditor.flows import (
    ADDRESS_MAX,
    ALL_PORTS,
    ALL_SERVICES,
    Box,
    CompiledRule,
    FactError,
    Ivs,
    RuleSet,
    Zone,
    box_minus,
    inter,
    origin_text,
    parse_service,
    services_text,
    union,
)
from auditor.memory import paused_gc

FINDS = ("any-any", "disabled", "shadowed", "unlogged", "no-av-profile", "always-open")
ZONED = ("no-av-profile", "always-open")
ARG_KEYS = ("find", "rules", "from", "to", "services")
SELECTOR_KEYS = ("segment", "role", "name")
ALWAYS = "always"  # FortiGate's schedule that never closes; iptables and nftables rules have none
BUCKET_SHIFT = {4: 8, 6: 64}  # coverage candidates are found by destination /24 (IPv4) or /64 (IPv6)
NO_ZONES: list[dict[str, Any]] = []  # the properties of rules alone need no zones (one list: the cache key)
WIDE_BUCKETS = 1024  # a destination set spanning more buckets than this is a candidate for every rule


def _selector_problems(value: Any, path: Path) -> Iterator[Problem]:
    if not isinstance(value, dict) or not value:
        yield path, f"expected a zone selector: a mapping of {', '.join(SELECTOR_KEYS)}"
        return
    for key, wanted in value.items():
        if key not in SELECTOR_KEYS:
            yield path + (key,), f"unknown key (expected: {', '.join(SELECTOR_KEYS)})"
        elif not (is_param(wanted) or isinstance(wanted, str)
                  or (isinstance(wanted, list) and all(isinstance(w, str) for w in wanted))):
            yield path + (key,), "expected a text, a list of texts or {param: NAME}"


def _selects(selector: dict[str, Any], zone: Zone, ctx: Context) -> bool:
    for key, wanted in selector.items():
        values = resolve(wanted, ctx)
        values = [values] if isinstance(values, str) else values
        if not isinstance(values, list):
            raise EvaluationError(f"zone selector {key}: expected a text or a list of texts, got {values!r}")
        if getattr(zone, key) not in values:
            return False
    return True


def _services(arg: dict[str, Any], ctx: Context) -> Ivs:
    texts = resolve(arg.get("services", ["any"]), ctx)
    if not isinstance(texts, list):
        raise EvaluationError(f"services: expected a list such as [tcp/3389], got {texts!r}")
    try:
        return union(parse_service(t) for t in texts)
    except ValueError as exc:
        raise EvaluationError(f"services: {exc}") from None


def _where(rule: dict[str, Any], default_action: str) -> str:
    return origin_text(rule["origin"], default_action)


# --- coverage --------------------------------------------------------------------------------


def _boxes(rule: CompiledRule) -> dict[int, list[Box]]:
    """What a rule surely matches, per address family, as boxes (exact services only)."""
    out: dict[int, list[Box]] = {}
    for family in (4, 6):
        src, dst = rule.src_exact[family], rule.dst_exact[family]
        if src and dst:
            out[family] = [(src, dst, svc, sport) for svc, sport, exact in rule.services if exact]
    return out


def _exact(rule: CompiledRule, fact: dict[str, Any]) -> bool:
    """Whether the rule's match is known exactly (then it may be judged, or cover another)."""
    return not (rule.error or fact.get("unresolved_sources") or fact.get("unresolved_destinations")
                or not all(exact for _, _, exact in rule.services))


def _holds_wherever(outer: CompiledRule, inner: CompiledRule, facts: list[dict[str, Any]]) -> bool:
    """Whether ``outer``'s interface and connection-state conditions hold wherever ``inner``'s do
    (a rule for NEW connections does not cover one that also takes established traffic)."""
    if not all(o == ((), False) or o == i for o, i in ((outer.source_faces, inner.source_faces),
                                                      (outer.destination_faces, inner.destination_faces))):
        return False
    outer_states, inner_states = facts[outer.index].get("states"), facts[inner.index].get("states")
    return outer_states is None or (inner_states is not None and set(inner_states) <= set(outer_states))


class _Coverage:
    """The rules of one list that surely match, indexed by destination, for coverage questions."""

    def __init__(self, ruleset: RuleSet, members: list[CompiledRule]) -> None:
        self.ruleset = ruleset
        self.boxes = {r.index: _boxes(r) for r in members}
        self.buckets: dict[tuple[int, int], list[CompiledRule]] = {}
        self.wide: list[CompiledRule] = []
        for rule in members:
            for family, key in self._keys(rule):
                if key is None:
                    self.wide.append(rule)
                    break
                self.buckets.setdefault((family, key), []).append(rule)
        self.members = members
        self.skips = [(r.index, r.skip_to if r.skip_to is not None else len(ruleset.rules))
                      for r in ruleset.compiled if r.action == "skip"]

    @staticmethod
    def _keys(rule: CompiledRule) -> Iterator[tuple[int, int | None]]:
        """The destination buckets of a rule; (family, None) once when they are too many."""
        for family in (4, 6):
            shift = BUCKET_SHIFT[family]
            spans = [(lo >> shift, hi >> shift) for lo, hi in rule.dst_exact[family]]
            if sum(hi - lo + 1 for lo, hi in spans) > WIDE_BUCKETS:
                yield family, None
                return
            for lo, hi in spans:
                for key in range(lo, hi + 1):
                    yield family, key

    def candidates(self, rule: CompiledRule) -> list[CompiledRule]:
        """The earlier members that may share a destination with ``rule``, in evaluation order."""
        found: dict[int, CompiledRule] = {}
        for family, key in self._keys(rule):
            if key is None:
                return [r for r in self.members if r.index < rule.index]
            found.update((r.index, r) for r in self.buckets.get((family, key), ()) if r.index < rule.index)
        found.update((r.index, r) for r in self.wide if r.index < rule.index)
        return [found[i] for i in sorted(found)]

    def _bypassed(self, cover: int, rule: int) -> bool:
        """Whether a jump taken before ``cover`` may land after it and at or before ``rule``."""
        return any(cover < target <= rule for start, target in self.skips if start < cover)

    def covered_by(self, rule: CompiledRule, boxes: dict[int, list[Box]]) -> list[int] | None:
        """The earlier rules that together match every packet of ``boxes``, or None if some is left."""
        left = {family: list(found) for family, found in boxes.items() if found}
        used: list[int] = []
        for cover in self.candidates(rule):
            if not left:
                break
            if not _holds_wherever(cover, rule, self.ruleset.rules) or self._bypassed(cover.index, rule.index):
                continue
            took = False
            for family in list(left):
                for outer in self.boxes[cover.index].get(family, ()):
                    rest: list[Box] = []
                    for box in left[family]:
                        if all(inter(a, b) for a, b in zip(box, outer, strict=True)):
                            rest.extend(box_minus(box, outer))
                            took = True
                        else:
                            rest.append(box)
                    left[family] = rest
                if not left[family]:
                    del left[family]
            if took:
                used.append(cover.index)
        return None if left else used


# --- the operator -------------------------------------------------------------------------------


@register
class RuleHygiene(Operator):
    name = "rule_hygiene"

    def validate(self, arg: Any, path: Path) -> Iterator[Problem]:
        if not isinstance(arg, dict):
            yield path, f"expected a mapping with find ({', '.join(FINDS)})"
            return
        for key in arg:
            if key not in ARG_KEYS:
                yield path + (key,), f"unknown key (expected: {', '.join(ARG_KEYS)})"
        if arg.get("find") not in FINDS:
            yield path + ("find",), f"required: one of {', '.join(FINDS)}"
        if "rules" in arg and not (isinstance(arg["rules"], str) and arg["rules"]):
            yield path + ("rules",), "expected the name of a rule-list area, such as firewall_rules"
        for side in ("from", "to"):
            if side in arg:
                yield from _selector_problems(arg[side], path + (side,))
            elif arg.get("find") in ZONED:
                yield path + (side,), f"required for {arg['find']}: a zone selector such as {{segment: external}}"
        services = arg.get("services")
        if services is not None and not is_param(services):
            if not isinstance(services, list):
                yield path + ("services",), "expected a list such as [tcp/3389] or {param: NAME}"
                return
            for n, text in enumerate(services):
                try:
                    parse_service(text)
                except ValueError as exc:
                    yield path + ("services", n), str(exc)

    def params(self, arg: Any) -> Iterator[str]:
        for key in ("from", "to"):
            for wanted in (arg.get(key) or {}).values():
                if is_param(wanted):
                    yield wanted["param"]
        if is_param(arg.get("services")):
            yield arg["services"]["param"]

    def _ruleset(self, subject: Any, arg: dict[str, Any], ctx: Context) -> RuleSet:
        area = arg.get("rules", "firewall_rules")
        # A check reading the rule list alone is given the area itself; one reading zones too, the facts.
        rules = subject if isinstance(subject, dict) and "default_action" in subject else get_path(subject, area)
        if not isinstance(rules, dict):
            raise MissingFact(area)
        zones: Any = NO_ZONES
        if arg["find"] in ZONED:
            zones = get_path(subject, "zones")
            if not isinstance(zones, list):
                raise MissingFact("zones")
        # the same key as reachability's: the separation checks of the target share the compiled rules
        key = ("reachability", id(rules), id(zones))
        ruleset = ctx.cache.get(key)
        if ruleset is None or ruleset.fact is not rules:
            try:
                ruleset = RuleSet(rules, zones)
            except FactError as exc:
                raise EvaluationError(f"{area} cannot be analysed: {exc}") from None
            ctx.cache[key] = ruleset
        return ruleset

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        with paused_gc():
            ruleset = self._ruleset(subject, arg, ctx)
            find = arg["find"]
            expected = self.describe(arg, ctx)
            area = arg.get("rules", "firewall_rules")
            if find in ZONED:
                findings = self._zoned(ruleset, arg, ctx, expected, area)
            else:
                judge = {"any-any": _any_any, "disabled": _disabled, "shadowed": _shadowed,
                         "unlogged": _unlogged}[find]
                judged = list(judge(ruleset))
                findings = [Finding(_where(ruleset.rules[i], ruleset.default_action),
                                    actual if sure else f"undetermined: {actual}", expected,
                                    rule_source(ruleset.rules[i].get("origin")))
                            for i, actual, sure in judged]
                if judged and not any(sure for _, _, sure in judged):
                    # Only rules the importer could not read could have the property: not shown either way.
                    shown = "; ".join(f.actual for f in findings[:3]) + (" …" if len(findings) > 3 else "")
                    raise EvaluationError(f"{len(findings)} rule(s) cannot be judged: {shown}",
                                          cause=rule_cause(ruleset, judged[0][0], area))
        return Outcome(not findings, findings)

    def _zoned(self, ruleset: RuleSet, arg: dict[str, Any], ctx: Context, expected: str, area: str) -> list[Finding]:
        wanted = _services(arg, ctx) if arg["find"] == "always-open" else ALL_SERVICES
        sources = [z for z in ruleset.zones if _selects(arg["from"], z, ctx)]
        destinations = [z for z in ruleset.zones if _selects(arg["to"], z, ctx)]
        hits: dict[int, dict[str, Ivs]] = {}  # deciding rule -> zone pair -> services let through
        unsure: list[str] = []
        uncertain_by: list[int] = []  # the rules that leave those flows undetermined
        for source in sources:
            for destination in destinations:
                if source.name == destination.name:
                    continue
                for family in (4, 6):
                    flows = ruleset.pair(family, source, destination)
                    for verdicts, sure in ((flows.accepted, True), (flows.undetermined, False)):
                        for verdict in verdicts:
                            services = inter(verdict.box[2], wanted)
                            if not services or verdict.rule is None:
                                continue
                            rule = ruleset.rules[verdict.rule]
                            if not self._offends(arg["find"], rule):
                                continue
                            pair = f"{source.name} → {destination.name}"
                            if not sure:
                                unsure.append(f"{pair}: {_where(rule, ruleset.default_action)}")
                                if verdict.undetermined_by is not None:
                                    uncertain_by.append(verdict.undetermined_by)
                                continue
                            found = hits.setdefault(verdict.rule, {})
                            found[pair] = union([found.get(pair, ()), services])
        if not hits and unsure:
            cause = next((c for c in (rule_cause(ruleset, i, area) for i in dict.fromkeys(uncertain_by)) if c), None)
            raise EvaluationError(f"{len(unsure)} flow(s) cannot be decided from the rule set: "
                                  + "; ".join(unsure[:3]) + (" …" if len(unsure) > 3 else ""), cause=cause)
        findings = []
        for index in sorted(hits):
            rule = ruleset.rules[index]
            pairs = ", ".join(f"{pair} ({services_text(s)})" for pair, s in hits[index].items())
            if arg["find"] == "no-av-profile":
                actual = f"accepts {pairs} with no antivirus profile"
            else:
                actual = f"accepts {pairs} on schedule {rule.get('schedule') or ALWAYS}"
            findings.append(Finding(_where(rule, ruleset.default_action), actual, expected,
                                    rule_source(rule.get("origin"))))
        return findings

    @staticmethod
    def _offends(find: str, rule: dict[str, Any]) -> bool:
        if find == "no-av-profile":
            if "av_profile" not in rule:
                raise EvaluationError(f"the rule list does not record antivirus profiles "
                                      f"({_where(rule, 'deny')} has no av_profile)")
            return not rule["av_profile"]
        return (rule.get("schedule") or ALWAYS) == ALWAYS

    def explain(self, arg: Any, w: Any, scope: Any, negated: bool) -> Any:
        """There is no rule (negated: there is one) of the kind ``find`` names: 送信元・宛先・サービスを
        限定せずに通信を許可する有効なファイアウォールの規則がない, there is no enabled firewall rule that …"""
        from auditor.conditions import wording

        rule = w.items(w.top(arg.get("rules", "firewall_rules"))).noun
        ja, en = _bad_rule_words(arg, w, rule)
        if negated:
            return wording.statement(f"{wording.particle(ja, 'が')}ある", f"there is at least one {en}")
        return wording.statement(f"{wording.particle(ja, 'が')}ない", f"there is no {en}")

    def describe(self, arg: Any, ctx: Context) -> str:
        find = arg.get("find")
        if find == "any-any":
            return "no enabled rule accepts any source, any destination and any service"
        if find == "disabled":
            return "no disabled rule is kept"
        if find == "shadowed":
            return "every rule can match some new connection that earlier rules do not decide"
        if find == "unlogged":
            return "every accept and deny rule logs the traffic it decides"
        if find == "no-av-profile":
            return "every accept rule for traffic from outside applies an antivirus profile"
        services = resolve(arg.get("services", ["any"]), ctx)
        listed = ", ".join(services) if isinstance(services, list) else str(services)
        return f"no always-open accept rule on remote-access services ({listed})"


def _bad_rule_words(arg: dict[str, Any], w: Any, rule: Any) -> tuple[str, str]:
    """The rule ``find`` looks for, as a noun phrase (ja, en) of the rule noun ``rule``."""
    from auditor.conditions.reachability import _zones_words

    find, r_ja, r_en = arg.get("find"), rule.ja, rule.en
    if find == "any-any":
        return (f"送信元・宛先・サービスをいずれも限定せずに通信を許可する有効な{r_ja}",
                f"enabled {r_en} that accepts any source, any destination and any service")
    if find == "disabled":
        return f"無効にしたまま残されている{r_ja}", f"disabled {r_en} left in the rule list"
    if find == "shadowed":
        return (f"前にある規則に完全に覆われ、どの新しい接続にも適用されない{r_ja}",
                f"{r_en} wholly shadowed by earlier rules, so that no new connection ever reaches it")
    if find == "unlogged":
        return (f"許可または拒否した通信をログに残さない{r_ja}",
                f"accept or deny {r_en} that leaves no log of the traffic it decides")
    start = {lang: _zones_words(arg.get("from", {}), w, lang) for lang in ("ja", "en")}
    end = {lang: _zones_words(arg.get("to", {}), w, lang) for lang in ("ja", "en")}
    route_ja = f"{start['ja']}から{end['ja']}"
    if find == "no-av-profile":
        return (f"{route_ja}への通信をウイルス対策プロファイルなしで許可する{r_ja}",
                f"{r_en} that accepts traffic from {start['en']} to {end['en']} without an antivirus profile")
    ja_services, en_services = (_services_words(arg, w, lang) for lang in ("ja", "en"))
    return (f"{route_ja}の{ja_services}への接続を時間の制限なく常に許可する{r_ja}",
            f"{r_en} that lets {start['en']} open {en_services} in {end['en']} at any time (no schedule limits it)")


def _services_words(arg: dict[str, Any], w: Any, lang: str) -> str:
    """The services ``always-open`` concerns: the parameter's title with its services, or the list."""
    from auditor.conditions import wording

    given = arg.get("services", ["any"])
    value, name, known = w.value(given)
    if not known:
        return wording.unknown(name)[0 if lang == "ja" else 1]
    values = value if isinstance(value, list) else [value]
    shown = [("すべてのサービス" if lang == "ja" else "any service") if v == "any" else wording.plain(v, lang)
             for v in values[:wording.MAX_LISTED]]
    more = len(values) - len(shown)
    listed = ("・" if lang == "ja" else ", ").join(shown) + (
        (f" ほか {more} 件" if lang == "ja" else f" and {more} more") if more > 0 else "")
    title = w.title(name, lang)
    if title is None:
        return listed if lang == "ja" else f"the services {listed}"
    return f"{title}（{listed}）" if lang == "ja" else f"the {title} ({listed})"


Judged = tuple[int, str, bool]  # (rule index, what it does, sure): not sure for a rule the importer could not read


def _any_any(ruleset: RuleSet) -> Iterator[Judged]:
    for rule in ruleset.compiled:
        fact = ruleset.rules[rule.index]
        if rule.action != "accept":
            continue
        faces = [", ".join(fact.get(k) or ["any"]) for k in ("source_interfaces", "destination_interfaces")]
        if rule.error:  # what it surely matches is unknown: it is any-any unless what is known says otherwise
            everywhere = any(rule.src_maybe[f] == rule.dst_maybe[f] == ((0, ADDRESS_MAX[f]),) for f in (4, 6))
            if everywhere and union(svc for svc, sport, _ in rule.services if sport == ALL_PORTS) == ALL_SERVICES:
                yield rule.index, (f"may accept any source, any destination, any service (interfaces {faces[0]} → "
                                   f"{faces[1]}): {fact['error']}"), False
            continue
        everywhere = any(rule.src_exact[f] == rule.dst_exact[f] == ((0, ADDRESS_MAX[f]),) for f in (4, 6))
        services = union(svc for svc, sport, exact in rule.services if exact and sport == ALL_PORTS)
        if everywhere and services == ALL_SERVICES:
            yield (rule.index, f"accepts any source, any destination, any service (interfaces {faces[0]} → "
                   f"{faces[1]})", True)


def _disabled(ruleset: RuleSet) -> Iterator[Judged]:
    for fact in ruleset.rules:
        if not fact["enabled"]:
            yield fact["index"], f"{fact['action']} rule kept with status disable", True


def _shadowed(ruleset: RuleSet) -> Iterator[Judged]:
    for part in ruleset.parts:  # each VDOM is its own first-match list
        yield from _shadowed_in(part)


def _shadowed_in(ruleset: RuleSet) -> Iterator[Judged]:
    deciding = [r for r in ruleset.compiled if r.action in ("accept", "deny")]
    covers = [r for r in deciding if _exact(r, ruleset.rules[r.index])
              and (ruleset.rules[r.index].get("schedule") or ALWAYS) == ALWAYS]
    coverage = _Coverage(ruleset, covers)
    for rule in deciding:
        if rule.error:  # what it matches is not known exactly: whether earlier rules hide it cannot be told
            yield rule.index, f"may be shadowed by earlier rules: {rule.error}", False
            continue
        if not _exact(rule, ruleset.rules[rule.index]):
            continue
        boxes = coverage.boxes.get(rule.index) or _boxes(rule)
        if not any(boxes.values()):
            yield rule.index, "matches no packet at all (its addresses or services are empty)", True
            continue
        used = coverage.covered_by(rule, boxes)
        if used is not None:
            yield rule.index, "never matches a new connection: every packet it matches is decided first by " \
                + ", ".join(_where(ruleset.rules[i], ruleset.default_action) for i in used), True


def _unlogged(ruleset: RuleSet) -> Iterator[Judged]:
    for part in ruleset.parts:
        yield from _unlogged_in(part)


def _unlogged_in(ruleset: RuleSet) -> Iterator[Judged]:
    loggers = _log_rules(ruleset)
    coverage = _Coverage(ruleset, loggers) if loggers else None
    for rule in ruleset.compiled:
        fact = ruleset.rules[rule.index]
        if rule.action not in ("accept", "deny") or fact.get("log"):
            continue
        if coverage is not None:
            if not _exact(rule, fact):
                continue  # an earlier LOG rule may or may not match it: not judged
            boxes = _boxes(rule)
            if any(boxes.values()) and coverage.covered_by(rule, boxes) is not None:
                continue
        mode = fact.get("log_mode")
        how = f"logtraffic {mode}" if mode else "no log of its own and no earlier LOG rule matching all it decides"
        yield rule.index, f"{rule.action} rule without traffic logging ({how})", True


def _log_rules(ruleset: RuleSet) -> list[CompiledRule]:
    """Non-deciding LOG rules that surely match (iptables ``-j LOG``, nftables ``log`` alone)."""
    out = []
    for fact in ruleset.own:
        if fact["action"] == "log" and fact["enabled"] and not fact.get("error") and fact["new_connections"] \
                and not fact.get("unresolved_sources") and not fact.get("unresolved_destinations"):
            rule = _as_logger(fact)
            if rule is not None:
                out.append(rule)
    return out


def _as_logger(fact: dict[str, Any]) -> CompiledRule | None:
    """A LOG rule compiled as if it decided, so that its match can cover later rules."""
    states = fact.get("states")
    if states is not None and not ({"NEW", "UNTRACKED"} & set(states)):
        return None
    try:
        compiled = RuleSet({"default_action": "deny", "rules": [{**fact, "action": "deny"}]}, []).compiled
    except FactError:
        return None
    if not compiled:
        return None
    rule = compiled[0]
    rule.action = "log"
    return rule
