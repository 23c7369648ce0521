"""``--format oscal``: the run as an OSCAL 1.1.3 assessment-results document (JSON).

Inspectors who keep their work in OSCAL tools (or compare runs by machine) get the same run
the other reports show, in NIST's model. One layout for every ``--view``; the language of the
frame follows ``--lang``. How the results document maps onto the model:

- ``metadata``: the title, ``last-modified`` = the run's ``finished_at``, ``version`` = the
  policy's version, ``oscal-version`` 1.1.3.
- ``import-ap``: OSCAL requires a reference to an assessment plan. This tool has no OSCAL plan:
  what plays its part is the policy, the profile and the tailoring the run recorded. So ``href``
  is ``#<uuid>`` of a back-matter resource that describes them (ids, version, SHA-256), and the
  remarks say so; the reference resolves inside the document instead of pointing nowhere.
- one ``result`` for the run: start and end are the run's times; ``reviewed-controls`` lists
  every control that has at least one result; the targets are inventory items of the result's
  ``local-definitions`` and the tool is its assessment platform.
- one ``observation`` per result that applies (every status except not-applicable): method
  ``TEST`` for checks evaluated from evidence, ``EXAMINE`` for a person's attestation or a
  result still waiting for one; its subject is the target; its ``relevant-evidence`` links
  (``#<uuid>``) to the back-matter resource of each bundle file the result read.
- one ``finding`` per control evaluated (pass, fail or error): target ``objective-id`` = the
  control id, ``not-satisfied`` when a result failed or could not be evaluated (a waived failure
  counts as failed: the exception accepts the risk, it does not meet the control), else
  ``satisfied``; ``related-observations`` are its results.
- ``back-matter``: one resource per evidence file, whose ``rlinks`` carry the file's SHA-256 in
  OSCAL's own ``hashes`` (relevant-evidence itself has no hash field), and one each for the
  tailoring, waivers and attestations files.

Waivers and attestations appear as props and remarks of the observations they touched. Our own
props are qualified by :data:`NS`. UUIDs are version 5, derived from the run id and a stable
key, so rendering one stored run twice gives the same bytes. Text from evidence is hostile:
values the model types as single-line tokens or strings are normalised (whitespace collapsed,
ids outside the token syntax rewritten, with the original kept in a prop), hrefs are
percent-encoded, instants outside the model's date-time pattern are moved to UTC or replaced by
the run's time.
"""

from __future__ import annotations

import unicodedata
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from auditor import jsonio
from auditor.reports import ReportOptions, register

OSCAL_VERSION = "1.1.3"
NS = "urn:lg-security-auditor:oscal"  # namespace of this tool's props (a URI, as OSCAL requires)
_UUID_NS = uuid.uuid5(uuid.NAMESPACE_URL, NS)

TEXTS: dict[str, dict[str, str]] = {
    "title": {"ja": "情報セキュリティポリシー準拠監査 結果（{policy} {version}、プロファイル {profile}）",
              "en": "Information-security policy compliance audit results ({policy} {version}, profile {profile})"},
    "result_title": {"ja": "監査 {run}", "en": "Audit {run}"},
    "result_desc": {"ja": "スコア {score}、評価 {grade}、ゲート {gate}。適合 {pass} / 不適合 {fail} / "
                          "評価不能 {error} / 例外承認 {waived} / 要確認 {manual} / 対象外 {notapplicable}",
                    "en": "Score {score}, grade {grade}, gate {gate}. pass {pass} / fail {fail} / error {error} / "
                          "waived {waived} / manual {manual} / not applicable {notapplicable}"},
    "gate_passed": {"ja": "通過", "en": "passed"},
    "gate_failed": {"ja": "不通過", "en": "failed"},
    "unread": {"ja": "読み込めなかった証跡（監査していない）: {path}（{problem}）",
               "en": "Evidence not read (not audited): {path} ({problem})"},
    "plan_title": {"ja": "評価計画に代わる定義: ポリシー {policy} {version}、プロファイル {profile}",
                   "en": "In place of an assessment plan: policy {policy} {version}, profile {profile}"},
    "plan_remarks": {"ja": "このツールは OSCAL の評価計画を作りません。監査の範囲と基準は、この資料に記録したポリシー・"
                           "プロファイル・テーラリング（SHA-256 付き）が定めます。",
                     "en": "This tool writes no OSCAL assessment plan: the scope and criteria of the audit are the "
                           "policy, profile and tailoring recorded (with their SHA-256) in this resource."},
    "platform": {"ja": "監査ツール lg-security-auditor {version}", "en": "Audit tool lg-security-auditor {version}"},
    "target_desc": {"ja": "監査対象 {id}（種別 {kind}、系 {segment}、所属 {department}）",
                    "en": "Audited target {id} (kind {kind}, segment {segment}, department {department})"},
    "evidence_desc": {"ja": "{target} の証跡バンドル（収集 {collected}）",
                      "en": "Evidence bundle of {target} (collected {collected})"},
    "input_desc": {"ja": "監査に使った {kind} ファイル", "en": "The {kind} file this audit used"},
    "evidence_ref": {"ja": "証跡 {file}", "en": "Evidence {file}"},
    "finding_desc": {"ja": "{reference}: 適合 {pass} / 不適合 {fail} / 評価不能 {error} / 例外承認 {waived}",
                     "en": "{reference}: pass {pass} / fail {fail} / error {error} / waived {waived}"},
    "waiver": {"ja": "例外措置 {id}（承認 {approver}、{approval_number}、{granted}〜{expires}）: {reason}",
               "en": "Waiver {id} (approved by {approver}, {approval_number}, {granted} to {expires}): {reason}"},
    "attestation": {"ja": "{attested_by} が {attested_on} に確認（{document}、{valid_until} まで有効）",
                    "en": "Attested by {attested_by} on {attested_on} ({document}; valid until {valid_until})"},
    "no_controls": {"ja": "評価された管理策はありません", "en": "No control was evaluated"},
}

_EVALUATED = ("pass", "fail", "error")
_DOCUMENTARY = ("manual",)  # a person must examine documents; attested passes are marked by their attestation
# UTC offsets the model's date-time pattern admits (the zones in use around the world)
_OFFSETS = ({f"-{h:02d}:00" for h in range(13)} | {"-03:30", "-09:30"} | {f"+{h:02d}:00" for h in range(15)}
            | {f"+{h:02d}:30" for h in (3, 4, 5, 6, 9, 10)} | {"+05:45", "+08:45", "+12:45"})


def _t(key: str, lang: str, **values: Any) -> str:
    texts = TEXTS[key]
    return texts.get(lang, texts["ja"]).format(**values)


def _uuid(run_id: str, *key: str) -> str:
    """Version 5 UUID of a part of this run: the same stored run renders to the same document."""
    name = "\x1f".join((run_id, *key))
    try:
        return str(uuid.uuid5(_UUID_NS, name))
    except UnicodeEncodeError:  # a lone surrogate (a target id read from a JSON escape): hash its code units
        return str(uuid.uuid5(_UUID_NS, name.encode("utf-8", "surrogatepass").decode("latin-1")))


def _line(value: Any) -> str:
    """A value for OSCAL's string type: one line, no leading or trailing space, never empty."""
    text = " ".join(str(value if value is not None else "").split())
    return text or "-"


def _is_token(text: str) -> bool:
    """OSCAL's token: a letter or ``_``, then letters, digits, ``.``, ``-`` or ``_``."""
    if not text or not (unicodedata.category(text[0]).startswith("L") or text[0] == "_"):
        return False
    return all(unicodedata.category(c)[0] in "LN" or c in ".-_" for c in text[1:])


def _token(value: Any) -> str:
    """The value as a token; characters outside the syntax become ``_`` (the original goes in a prop)."""
    text = str(value)
    if _is_token(text):
        return text
    fixed = "".join(c if unicodedata.category(c)[0] in "LN" or c in ".-_" else "_" for c in text)
    return fixed if _is_token(fixed) else "_" + fixed


def _href(path: Any) -> str:
    """A file path as a URI reference (percent-encoded, ``/`` kept; a backslash or colon is encoded)."""
    return quote(str(path), safe="/")


def _instant(value: Any, fallback: str) -> str:
    """An ISO 8601 instant in the form the model accepts: as written when it fits, else in UTC, else the
    fallback (an instant without a zone or outside the years 1900-2999 cannot be said in OSCAL)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return fallback
    if moment.tzinfo is None or moment.utcoffset() is None:
        return fallback
    text = moment.isoformat()
    if text.endswith("+00:00"):
        text = text[:-6] + "Z"
    offset = "Z" if text.endswith("Z") else text[-6:]
    if not 1900 <= moment.year <= 2999 or (offset != "Z" and offset not in _OFFSETS):
        utc = moment.astimezone(UTC)
        if not 1900 <= utc.year <= 2999:
            return fallback
        text = utc.isoformat()[:-6] + "Z"
    return text


def _prop(name: str, value: Any) -> dict[str, str]:
    return {"name": name, "ns": NS, "value": _line(value)}


def _props(pairs: list[tuple[str, Any]]) -> list[dict[str, str]]:
    return [_prop(name, value) for name, value in pairs if value is not None and value != ""]


def _with(obj: dict[str, Any], key: str, items: list[Any]) -> dict[str, Any]:
    """OSCAL's arrays have at least one item: an empty list is left out."""
    if items:
        obj[key] = items
    return obj


class _Builder:
    def __init__(self, doc: dict[str, Any], lang: str) -> None:
        self.doc, self.lang = doc, lang
        self.run = doc["run"]
        self.run_id = str(self.run.get("id") or "")
        self.finished = _instant(self.run.get("finished_at"), "1970-01-01T00:00:00Z")
        self.started = _instant(self.run.get("started_at"), self.finished)
        self.evidence = [e for e in self.run.get("evidence") or [] if isinstance(e, dict)]

    def uuid(self, *key: Any) -> str:
        return _uuid(self.run_id, *map(str, key))

    # back matter
    def evidence_resource(self, n: int, entry: dict[str, Any]) -> dict[str, Any]:
        rlink: dict[str, Any] = {"href": _href(entry.get("file")), "media-type": "application/json"}
        sha = entry.get("sha256")
        if isinstance(sha, str) and sha.strip():
            rlink["hashes"] = [{"algorithm": "SHA-256", "value": _line(sha)}]
        imported = entry.get("imported")
        props = _props([("target", entry.get("target")), ("collected-at", entry.get("collected_at")),
                        ("sha256", sha)])
        if isinstance(imported, list):
            props += [_prop("imported-from", item.get("file") if isinstance(item, dict) else item) for item in imported]
        resource = {"uuid": self.uuid("evidence", n, entry.get("file")), "title": _line(entry.get("file")),
                    "description": _t("evidence_desc", self.lang, target=_line(entry.get("target")),
                                      collected=_line(entry.get("collected_at")))}
        _with(resource, "props", props)
        resource["rlinks"] = [rlink]
        return resource

    def input_resource(self, kind: str, entry: dict[str, Any]) -> dict[str, Any]:
        rlink: dict[str, Any] = {"href": _href(entry.get("file"))}
        if entry.get("sha256"):
            rlink["hashes"] = [{"algorithm": "SHA-256", "value": _line(entry["sha256"])}]
        return {"uuid": self.uuid("input", kind), "title": _line(entry.get("file")),
                "description": _t("input_desc", self.lang, kind=kind),
                "props": _props([("input-kind", kind), ("sha256", entry.get("sha256")), ("id", entry.get("id"))]),
                "rlinks": [rlink]}

    def plan_resource(self) -> dict[str, Any]:
        policy = self.run.get("policy") or {}
        values = {"policy": _line(policy.get("id")), "version": _line(policy.get("version")),
                  "profile": _line(policy.get("profile"))}
        tailoring = policy.get("tailoring") or {}
        resource: dict[str, Any] = {
            "uuid": self.uuid("plan"), "title": _t("plan_title", self.lang, **values),
            "props": _props([("policy-id", policy.get("id")), ("policy-version", policy.get("version")),
                             ("profile", policy.get("profile")), ("policy-sha256", policy.get("sha256")),
                             ("policy-embedded", str(bool(policy.get("embedded"))).lower()),
                             ("tailoring-id", tailoring.get("id")), ("tailoring-sha256", tailoring.get("sha256"))]),
            "remarks": _t("plan_remarks", self.lang),
        }
        if policy.get("root"):
            resource["rlinks"] = [{"href": _href(policy["root"])}]
        return resource

    # result
    def inventory(self) -> tuple[list[dict[str, Any]], dict[str, str]]:
        items, uuids = [], {}
        targets = {str(t.get("id")): t for t in self.doc.get("targets") or [] if isinstance(t, dict)}
        for r in self.doc["results"]:
            targets.setdefault(str(r.get("target")), {"id": r.get("target")})
        for tid, target in targets.items():
            uuids[tid] = self.uuid("target", tid)
            items.append({
                "uuid": uuids[tid],
                "description": _t("target_desc", self.lang, id=_line(tid), kind=_line(target.get("kind")),
                                  segment=_line(target.get("segment")), department=_line(target.get("department"))),
                "props": _props([("target-id", tid), ("kind", target.get("kind")), ("segment", target.get("segment")),
                                 ("department", target.get("department")), ("score", target.get("score")),
                                 ("grade", target.get("grade"))]),
            })
        return items, uuids

    def observation(self, n: int, r: dict[str, Any], subject: str, bundles: list[tuple[str, dict[str, Any]]],
                    platform: str) -> dict[str, Any]:
        status = r.get("status")
        attested = r.get("attestation")
        methods = ["EXAMINE"] if attested or status in _DOCUMENTARY else ["TEST"]
        real = r.get("waived_status") or status
        read = [str(s) for s in r.get("evidence") or []]
        cited = [(u, e) for u, e in bundles if any(s == e.get("file") or s.startswith(f"{e.get('file')}:")
                                                   for s in read)] or bundles
        evidence = [_with({"href": f"#{u}", "description": _t("evidence_ref", self.lang, file=_line(e.get("file")))},
                          "props", _props([("sha256", e.get("sha256"))])) for u, e in cited]
        for source in read:
            evidence.append({"description": _line(source)})
        collected = max((_instant(e.get("collected_at"), self.started) for _, e in cited), default=self.started)
        props = _props([("check", r.get("check")), ("status", status), ("real-status", r.get("waived_status")),
                        ("severity", r.get("severity")), ("cause", (r.get("cause") or {}).get("kind")),
                        *[("control", c) for c in r.get("controls") or []]])
        remarks = []
        waiver = r.get("waiver")
        if isinstance(waiver, dict):
            props += _props([("waiver-id", waiver.get("id")), ("waiver-expires", waiver.get("expires"))])
            remarks.append(_t("waiver", self.lang, **{k: _line(waiver.get(k)) for k in
                                                      ("id", "approver", "approval_number", "granted", "expires",
                                                       "reason")}))
        if isinstance(attested, dict):
            props += _props([("attestation-document", attested.get("document")),
                             ("attestation-sha256", attested.get("sha256")),
                             ("attestation-valid-until", attested.get("valid_until"))])
            remarks.append(_t("attestation", self.lang, **{k: _line(attested.get(k)) for k in
                                                           ("attested_by", "attested_on", "document", "valid_until")}))
        if r.get("remediation") and real in ("fail", "error"):
            remarks.append(str(r["remediation"]))
        obs: dict[str, Any] = {
            "uuid": self.uuid("observation", n, r.get("check"), r.get("target")),
            "title": _line(r.get("title")),
            "description": str(r.get("message") or "-"),
            "props": props,
            "methods": methods,
            "types": ["finding"] if real in ("fail", "error") else ["control-objective"],
            "origins": [{"actors": [{"type": "assessment-platform", "actor-uuid": platform}]}],
            "subjects": [{"subject-uuid": subject, "type": "inventory-item", "title": _line(r.get("target"))}],
        }
        _with(obs, "relevant-evidence", evidence)
        obs["collected"] = collected
        if remarks:
            obs["remarks"] = "\n\n".join(remarks)
        return obs

    def finding(self, control: str, info: dict[str, Any], counts: dict[str, int], observations: list[str]
                ) -> dict[str, Any]:
        failed = counts["fail"] + counts["waived_fail"]
        state = "not-satisfied" if failed or counts["error"] else "satisfied"
        reason = "fail" if failed else "other" if counts["error"] else "pass"
        title = _line(f"{control} {info.get('title') or ''}")
        token = _token(control)
        finding: dict[str, Any] = {
            "uuid": self.uuid("finding", control),
            "title": title,
            "description": _t("finding_desc", self.lang, reference=_line(info.get("reference")), **{
                k: counts[k] for k in ("pass", "fail", "error")}, waived=counts["waived"]),
            "props": _props([("control-id", control if token != control else None),
                             ("severity", info.get("severity")), ("score", info.get("score")),
                             ("reference", info.get("reference")), ("waived", counts["waived"] or None)]),
            "target": {"type": "objective-id", "target-id": token, "title": title,
                       "status": {"state": state, "reason": reason}},
        }
        if not finding["props"]:
            del finding["props"]
        return _with(finding, "related-observations", [{"observation-uuid": u} for u in observations])

    def build(self) -> dict[str, Any]:
        lang, doc, run = self.lang, self.doc, self.run
        policy = run.get("policy") or {}
        plan = self.plan_resource()
        resources = [plan]
        by_target: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for n, entry in enumerate(self.evidence):
            resource = self.evidence_resource(n, entry)
            resources.append(resource)
            by_target.setdefault(str(entry.get("target")), []).append((resource["uuid"], entry))
        tailoring = policy.get("tailoring")
        for kind, entry in (("tailoring", tailoring), ("waivers", run.get("waivers")),
                            ("attestations", run.get("attestations"))):
            if isinstance(entry, dict) and entry.get("file"):
                resources.append(self.input_resource(kind, entry))

        items, subjects = self.inventory()
        platform = self.uuid("platform")
        observations, by_control = [], {}
        counts: dict[str, dict[str, int]] = {}
        for n, r in enumerate(doc["results"]):
            if r.get("status") == "notapplicable":
                continue
            obs = self.observation(n, r, subjects[str(r.get("target"))], by_target.get(str(r.get("target")), []),
                                   platform)
            observations.append(obs)
            for control in r.get("controls") or []:
                control = str(control)
                by_control.setdefault(control, []).append(obs["uuid"])
                c = counts.setdefault(control, {"pass": 0, "fail": 0, "error": 0, "waived": 0, "waived_fail": 0,
                                                "manual": 0})
                status = r.get("status")
                if status == "waived":  # counted by its real status too: a waiver does not meet the control
                    c["waived"] += 1
                    if r.get("waived_status") == "fail":
                        c["waived_fail"] += 1
                    elif r.get("waived_status") == "error":
                        c["error"] += 1
                elif status in c:
                    c[status] += 1
        info = {str(c.get("id")): c for c in doc.get("controls") or [] if isinstance(c, dict)}
        reviewed = list(by_control)
        findings = [self.finding(c, info.get(c, {}), counts[c], by_control[c]) for c in reviewed
                    if counts[c]["pass"] + counts[c]["fail"] + counts[c]["error"] + counts[c]["waived_fail"]]
        selection: dict[str, Any] = {"description": _t("no_controls", lang)} if not reviewed else {
            "include-controls": [{"control-id": _token(c)} for c in reviewed]}

        summary = doc.get("summary") or {}
        gate = doc.get("gate") or {}
        result: dict[str, Any] = {
            "uuid": self.uuid("result"),
            "title": _t("result_title", lang, run=_line(self.run_id)),
            "description": _t("result_desc", lang, score=doc.get("score"), grade=doc.get("grade") or "-",
                              gate=_t("gate_passed" if gate.get("passed") else "gate_failed", lang),
                              **{k: summary.get(k, 0) for k in ("pass", "fail", "error", "waived", "manual",
                                                                "notapplicable")}),
            "start": self.started,
            "end": self.finished,
            "props": _props([("run-id", self.run_id), ("score", doc.get("score")), ("grade", doc.get("grade")),
                             ("gate", "passed" if gate.get("passed") else "failed"), ("as-of", run.get("as_of")),
                             ("tool-version", run.get("tool_version")),
                             *[(f"count-{k}", summary.get(k)) for k in ("pass", "fail", "error", "notapplicable",
                                                                        "waived", "manual")]]),
            "local-definitions": _with({"assessment-assets": {"assessment-platforms": [{
                "uuid": platform, "title": _t("platform", lang, version=_line(run.get("tool_version")))}]}},
                "inventory-items", items),
            "reviewed-controls": {"control-selections": [selection]},
        }
        unread = [u for u in run.get("unread") or [] if isinstance(u, dict)]
        if unread:  # the run's gap: listed, never silently dropped (the gate failed for it)
            result["props"] += _props([("count-unread", len(unread))])
            result["remarks"] = "\n".join(_t("unread", lang, path=_line(u.get("path")), problem=_line(u.get("problem")))
                                          for u in unread)
        _with(result, "observations", observations)
        _with(result, "findings", findings)
        return {"assessment-results": {
            "uuid": self.uuid("assessment-results"),
            "metadata": {
                "title": _t("title", lang, policy=_line(policy.get("id")), version=_line(policy.get("version")),
                            profile=_line(policy.get("profile"))),
                "last-modified": self.finished,
                "version": _line(policy.get("version")),
                "oscal-version": OSCAL_VERSION,
                "props": _props([("lang", lang), ("source-format", doc.get("format"))]),
            },
            "import-ap": {"href": f"#{plan['uuid']}", "remarks": _t("plan_remarks", lang)},
            "results": [result],
            "back-matter": {"resources": resources},
        }}


@register("oscal")
def render(doc: dict[str, Any], options: ReportOptions) -> bytes:
    return jsonio.encode(_Builder(doc, options.lang).build())
