"""A rule the importer could not read exactly (``error``) is never a silent allow or deny: the flows it
could change are undetermined, the checks reading them are ``error`` with a cause naming the file, the
line and the unknown object, and a rule in error only in some parts (an object missing from a partial
export) is bounded by the parts that are known, so the other rules keep their verdicts (issue 17)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_flows_property import (
    ADDRESSES,
    PACKETS,
    _iface,
    _in,
    _service,
    _service_key,
    _zone_of,
    _zones_fact,
    brute_force,
    rule_lists,
)

from auditor.cli import main
from auditor.flows import RuleSet, inter

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "firewall"
PARTS = ("sources", "destinations", "services")


def _may_match(rule: dict, family: int, src: int, dst: int, protocol: str, port: int, sport: int) -> bool:
    """Whether the rule in error may match the packet: its known parts all match it."""
    parts = rule.get("error_parts") or PARTS
    inside, outside = _zone_of(src)["interfaces"][0], _zone_of(dst)["interfaces"][0]
    return (rule["enabled"] and rule["new_connections"]
            and _iface(rule["source_interfaces"], rule["source_interfaces_negated"], inside)
            and _iface(rule["destination_interfaces"], False, outside)
            and ("sources" in parts or _in(rule["sources"], family, src))
            and ("destinations" in parts or _in(rule["destinations"], family, dst))
            and ("services" in parts or any(_service(s, protocol, port, sport) for s in rule["services"])))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_lists(), st.data())
def test_a_rule_in_error_in_some_parts_changes_exactly_the_flows_its_known_parts_allow(fact, data):
    bad = data.draw(st.sampled_from(fact["rules"]))
    bad["error"] = "unknown service 'IMAP-X'"
    bad["error_parts"] = sorted(data.draw(st.sets(st.sampled_from(PARTS), min_size=1)), key=PARTS.index)
    if bad["action"] in ("skip", "log"):
        bad["action"] = data.draw(st.sampled_from(["accept", "deny"]))
    ruleset = RuleSet(fact, _zones_fact())
    zones = {z.name: z for z in ruleset.zones}
    skipping = {**fact, "rules": [{**r, "enabled": False} if r is bad else r for r in fact["rules"]]}
    for family, src, dst in itertools.product((4, 6), ADDRESSES, ADDRESSES):
        if _zone_of(src) is _zone_of(dst):
            continue
        flows = ruleset.pair(family, zones[_zone_of(src)["name"]], zones[_zone_of(dst)["name"]])
        for protocol, port, sport in PACKETS:
            possible = {brute_force(skipping, family, src, dst, protocol, port, sport)[0]}
            if _may_match(bad, family, src, dst, protocol, port, sport):
                reached, _ = brute_force(fact, family, src, dst, protocol, port, sport, stop_at=bad["index"])
                if reached == "reached":
                    possible.add(bad["action"])
            key = _service_key(protocol, port)

            def holds(verdicts, key=key, src=src, dst=dst, sport=sport):
                return any(inter(v.box[0], ((src, src),)) and inter(v.box[1], ((dst, dst),))
                           and inter(v.box[2], ((key, key),)) and inter(v.box[3], ((sport, sport),))
                           for v in verdicts)

            expected = "accept" if possible == {"accept"} else "deny" if possible == {"deny"} else "undetermined"
            got = "accept" if holds(flows.accepted) else "undetermined" if holds(flows.undetermined) else "deny"
            assert got == expected, (family, src, dst, protocol, port, sport, possible, bad["error_parts"])


# --- end to end, from a FortiGate configuration -----------------------------------------------------

POLICIES = """    edit 1
        set name "office mail"
        set srcintf "port4"
        set dstintf "port2"
        set srcaddr "in-office"
        set dstaddr "lg-office"
        set action accept
        set schedule "always"
        set service "IMAP-8143" "HTTPS"
    next
    edit 2
        set name "file share"
        set srcintf "port4"
        set dstintf "port1"
        set srcaddr "in-office"
        set dstaddr "mn-servers"
        set action accept
        set schedule "always"
        set service "SMB"
    next
"""


def _conf(tmp_path: Path, policies: str, name: str) -> Path:
    base = (FIXTURES / "fortigate-reach.conf").read_bytes().decode()
    path = tmp_path / name
    path.write_bytes((base.split("config firewall policy")[0] + "config firewall policy\r\n"
                      + policies.replace("\n", "\r\n") + "end\r\n").encode())
    return path


def _audit(tmp_path: Path, conf: Path) -> tuple[dict, dict[str, dict]]:
    bundle = tmp_path / f"{conf.stem}.json"
    assert main(["import", "fortigate", str(conf), "--zones", str(FIXTURES / "zones-reach.yaml"), "--target", "fw",
                 "--out", str(bundle)]) == 0
    report = tmp_path / f"{conf.stem}-report.json"
    main(["audit", str(bundle), "--format", "json", "--out", str(report), "--lang", "en"])
    return (json.loads(bundle.read_text(encoding="utf-8")),
            {r["check"]: r for r in json.loads(report.read_text(encoding="utf-8"))["results"]})


def test_an_unknown_service_marks_only_its_policy_and_only_the_flows_it_could_open(tmp_path):
    conf = _conf(tmp_path, POLICIES, "fw.conf")
    bundle, results = _audit(tmp_path, conf)
    first, second = bundle["facts"]["firewall_rules"]["rules"]
    assert (first["error"], first["error_parts"]) == ("unknown service 'IMAP-8143'", ["services"])
    assert second["error"] is None and "error_parts" not in second
    assert bundle["errors"] == [{"area": "firewall_rules", "message": f"{conf}:{first['origin']['line']}: policy 1 "
                                 "(rule 0): unknown service 'IMAP-8143'", "source": str(conf)}]
    # in-office → lg-office is what policy 1 could open: not shown either way, and the cause says why
    into_lg = results["internet-to-lgwan-sanitised-only"]
    assert into_lg["status"] == "error"
    assert into_lg["cause"] == {"kind": "broken", "file": str(conf), "line": first["origin"]["line"],
                                "field": "firewall_rules.rules[0]",
                                "problem": f'policy 1 "office mail" ({conf}:{first["origin"]["line"]}): '
                                           "unknown service 'IMAP-8143'"}
    # the other rules keep their verdicts: the same results as the file without policy 1
    others = {c: (r["status"], [f["actual"] for f in r["findings"]]) for c, r in results.items()
              if c != "internet-to-lgwan-sanitised-only" and c.startswith(("mn-", "external-", "lgwan-", "internet-"))}
    _, alone = _audit(tmp_path, _conf(tmp_path, POLICIES.split("    edit 2")[0].replace("edit 1", "edit 9")
                                      .replace('"IMAP-8143" "HTTPS"', '"SSH"') + "    edit 2"
                                      + POLICIES.split("    edit 2")[1], "alone.conf"))
    assert others == {c: (alone[c]["status"], [f["actual"].replace("alone.conf", "fw.conf") for f in
                                               alone[c]["findings"]]) for c in others}
    assert others["mn-inbound-closed"][0] == "fail"
    assert all("undetermined" not in text for _, found in others.values() for text in found)


def test_a_policy_in_error_makes_the_hygiene_checks_that_cannot_judge_it_error_with_its_cause(tmp_path):
    policies = POLICIES.replace('set dstaddr "lg-office"', 'set dstaddr "all"').replace(
        'set srcaddr "in-office"\n        set dstaddr "all"', 'set srcaddr "all"\n        set dstaddr "all"')
    conf = _conf(tmp_path, policies.split("    edit 2")[0], "fw.conf")
    _, results = _audit(tmp_path, conf)
    line = conf.read_bytes().decode().split("\r\n").index("    edit 1") + 1
    for check, said in (("rule-any-any", "may accept any source, any destination, any service"),
                        ("rule-shadowed", "may be shadowed by earlier rules")):
        result = results[check]
        assert result["status"] == "error", check
        assert said in result["message"] and "unknown service 'IMAP-8143'" in result["message"]
        assert (result["cause"]["file"], result["cause"]["line"]) == (str(conf), line)
    assert results["rule-disabled"]["status"] == "pass"  # known whatever the service is
