"""``auditor import windows-raw DIR|ZIP``: a Windows terminal's evidence from ``collect-windows.ps1``.

The script (``auditor collect --windows-script FILE``) runs Windows' own tools on the terminal
and keeps their outputs unchanged; this importer reads them into one ``endpoint`` bundle with
the areas of docs/facts.md. Formats the project reads elsewhere use the same parsers:
secedit, net accounts, Get-HotFix and auditpol; the others are in :mod:`.windows`.

The manifest decides what is read. A step it records as failed (command missing, access
denied, not elevated, service stopped) becomes an ``errors`` entry for each area the step
feeds, and an area is only written when the steps it needs succeeded, so a check that needs
it reports ``error``, never a pass on missing data. Areas with two sources: the password and
lockout policy come from secedit (locale-independent, more keys) with net accounts filling
what secedit lacks — or standing in when secedit failed; Defender's status and Security
Center's product list both feed ``antimalware``; the Administrators group comes from
Get-LocalGroupMember, or from ``net localgroup`` when that failed on an orphaned SID.

The release's end of support comes from the shipped end-of-life table (:mod:`..eol`) by build
and edition. The target id is the computer name from ``os.json`` (else the manifest's) unless ``--target``
is given; ``collected_at`` is the manifest's ``started_at`` unless ``--collected-at`` is.
With ``--zones`` the addresses of ``interfaces`` are mapped to the city's segments.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from auditor.evidence import segments as segments_module
from auditor.evidence.bundle import BundleBuilder
from auditor.evidence.eol import EolTableError, eol_for, load_table
from auditor.evidence.importers import ImportOptions, auditpol, hotfix, net_accounts, register, secedit
from auditor.evidence.importers.csvrows import csv_table
from auditor.evidence.importers.tabular import LocalTimeImporter
from auditor.evidence.importers.textio import decode
from auditor.evidence.importers.windows import (
    autorun,
    forwarding,
    inventory,
    network,
    protection,
    psjson,
    registry,
    services,
    system,
    wifi,
)
from auditor.evidence.importers.windows.collection import MANIFEST, Collection, open_collection
from auditor.evidence.zones import load_zones

from auditor.errors import InputError
from auditor.limits import MAX_FILE_BYTES, check_size

PASSWORD, LOCKOUT = "password_policy", "lockout_policy"
STEP_AREAS: dict[str, tuple[str, ...]] = {  # what each step of the script feeds
    "os": ("os",),
    "timezone": ("time_sync",),
    "secedit": (PASSWORD, LOCKOUT),
    "net-accounts": (PASSWORD, LOCKOUT),
    "hotfix": ("patches",),
    "auditpol": ("audit_policy",),
    "defender": ("antimalware",),
    "security-center": ("antimalware",),
    "bitlocker": ("disk_encryption",),
    "removable-storage": ("removable_media",),
    "screen-lock": ("screen_lock",),
    "firewall": ("firewall",),
    "net-adapters": ("interfaces",),
    "ip-addresses": ("interfaces",),
    "tcp-listen": ("listening",),
    "udp-endpoints": ("listening",),
    "software": ("software",),
    "local-admins": ("local_admins",),
    "local-admins-net": ("local_admins",),
    "remote-desktop": ("remote_desktop",),
    "w32tm": ("time_sync",),
    "autorun": ("autorun",),
    "services": ("services", "logging"),
    "event-forwarding": ("logging",),
    "wlan-profiles": (wifi.AREA,),
    "wlan-profile-details": (wifi.AREA,),
}
PARSERS = {"hotfix": "hotfix", "auditpol": "auditpol"}  # steps read by another importer's parser
FALLBACKS = {"local-admins-net": "local-admins"}  # run only when the other failed: absent is not an error


def _seconds(instant: str) -> str:
    """An instant from the manifest (``2026-11-02T08:41:07+09:00``), checked and cut to the second.

    ValueError for text that is not an instant with its offset, or one outside the years 1 to
    9999 in UTC (``0001-01-01T00:00:00+09:00``), which could not be compared with another.
    """
    moment = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(instant)
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(instant) from None
    return moment.isoformat(timespec="seconds")


class _Reader:
    """One collection read into one builder."""

    def __init__(self, collection: Collection, builder: BundleBuilder, importer: WindowsRawImporter) -> None:
        self.collection = collection
        self.builder = builder
        self.zone = importer.zone
        self.importer = importer
        self.manifest_name = collection.name(MANIFEST)
        self.read_json: dict[str, tuple[str, bytes, str]] = {}  # step → (name, bytes, encoding), for later sources

    # ---------------------------------------------------------------- steps and files

    def data(self, step: str) -> tuple[str, bytes] | None:
        """The named file of a step that succeeded; None (with an errors entry) for one that did not."""
        entry = self.collection.manifest.steps.get(step)
        areas = STEP_AREAS[step]
        if entry is None:
            if step not in FALLBACKS:
                for area in areas:
                    self.builder.add_error(area, f"step {step} is not in the manifest: the collection was made by "
                                           "another version of collect-windows.ps1", self.manifest_name)
            return None
        if not entry.ok:
            why = entry.error or "no message"
            if entry.exit_code is not None:
                why += f" (exit code {entry.exit_code})"
            for area in areas:
                self.builder.add_error(area, f"step {step} ({entry.command}) failed: {why}", self.manifest_name)
            return None
        raw = self.collection.get(entry.file)
        if raw is None:
            raise InputError(self.manifest_name, f"step {step} is recorded as ok but its file {entry.file} is not in "
                             "the collection")
        return self.collection.name(entry.file), raw

    def source(self, name: str, parser: str, encoding: str, raw: bytes, *areas: str) -> None:
        for area in areas:
            self.builder.add_source(name, f"{parser} ({encoding})", raw, area)

    def text(self, step: str, *areas: str) -> tuple[str, str] | None:
        found = self.data(step)
        if found is None:
            return None
        name, raw = found
        text, encoding = decode(raw, name)
        self.source(name, PARSERS.get(step, f"windows-raw/{step}"), encoding, raw, *areas)
        return name, text

    def json(self, step: str, *areas: str) -> tuple[str, Any] | None:
        found = self.data(step)
        if found is None:
            return None
        name, raw = found
        doc, encoding = psjson.load(raw, name)
        self.source(name, f"windows-raw/{step}", encoding, raw, *areas)
        self.read_json[step] = (name, raw, encoding)
        return name, doc

    # ---------------------------------------------------------------- areas

    def run(self) -> None:
        manifest = self.collection.manifest
        raw_manifest = self.collection.get(MANIFEST) or b""
        self.builder.add_source(self.manifest_name, f"windows-raw/manifest ({decode(raw_manifest, MANIFEST)[1]})",
                                raw_manifest)
        os_doc = self.json("os", "os")
        os_fact = system.os_fact(os_doc[1], os_doc[0], self.zone) if os_doc else {"family": "windows"}
        host = os_fact.get("hostname") or manifest.computer
        if self.importer.options.target_id is None and host:
            self.builder.target_id = host
        if self.importer.options.collected_at is None and manifest.started_at:
            try:
                self.builder.collected_at = _seconds(manifest.started_at)
            except ValueError:
                raise InputError(self.manifest_name, f"started_at: expected an instant with its offset in the years "
                                 f"1 to 9999, found {manifest.started_at!r}") from None
        if os_doc is not None:
            self.add_eol(os_fact)
        self.builder.set_fact("os", os_fact)
        self.account_policy()
        self.patches()
        self.audit_policy()
        self.antimalware()
        self.disk_encryption()
        self.registry_areas(os_doc)
        self.firewall()
        self.network()
        self.software()
        self.local_admins()
        self.time_sync()
        self.wifi_profiles()
        self.services_and_forwarding()

    def add_eol(self, os_fact: dict[str, Any]) -> None:
        """``eol_date``/``eol_source`` from the shipped end-of-life table, by build and edition."""
        name, version = os_fact.get("name"), os_fact.get("version")
        if not name or not version:
            return
        try:
            answer = eol_for("windows", version, name)
            table_date = load_table()["table_date"]
        except (EolTableError, OSError) as exc:
            self.builder.add_error("os", f"end-of-life table: {exc}")
            return
        if answer is None:
            self.builder.add_error("os", f"eol_date: {name} {version} is not in the end-of-life table of "
                                   f"{table_date.isoformat()}", self.read_json["os"][0])
            return
        os_fact["eol_date"], os_fact["eol_source"] = answer

    def account_policy(self) -> None:
        """secedit first (locale-independent keys); net accounts for what it lacks, or instead of it."""
        read: list[tuple[str, dict[str, Any]]] = []  # (file, facts), secedit first
        for step, module in (("secedit", secedit), ("net-accounts", net_accounts)):
            if (found := self.data(step)) is None:
                continue
            name, raw = found
            text, encoding = decode(raw, name)
            parsed = secedit.parse_inf(text, name) if module is secedit else net_accounts.parse(text, name)
            facts = module.facts_from(parsed, name)
            read.append((name, facts))
            self.source(name, step, encoding, raw, *[area for area in (PASSWORD, LOCKOUT) if facts[area]])
        if not read:
            return
        for area in (PASSWORD, LOCKOUT):
            merged: dict[str, Any] = {}
            sources: list[str] = []
            for name, facts in reversed(read):  # the later (secedit) overrides the earlier (net accounts)
                for key, value in facts[area].items():
                    if key == "sources":
                        continue
                    if key in merged and merged[key] != value:
                        self.builder.add_error(area, f"{area}.{key}: {name} gives {value!r} but {read[-1][0]} "
                                               f"gives {merged[key]!r}; the value of {name} is used", name)
                    merged[key] = value
                sources = list(facts[area].get("sources", [])) + sources
            if not merged:
                self.builder.add_error(area, f"no {area.replace('_', ' ')} in "
                                       + " or ".join(name for name, _facts in read), read[0][0])
                continue
            if area == PASSWORD:
                merged["sources"] = sources
            self.builder.set_fact(area, merged)

    def patches(self) -> None:
        if (found := self.text("hotfix", "patches")) is None:
            return
        name, text = found
        table = csv_table(text, name)
        updates = hotfix.hotfixes_from(table, self.zone)
        if table.column("Description") is None:
            self.builder.add_error("patches", f"{name}: no Description column, so which updates are security "
                                   "updates is unknown", name)
        undated = [h["id"] for h in updates if h["installed_on"] is None]
        if undated:
            self.builder.add_error("patches", f"{name}: {len(undated)} of {len(updates)} updates have no InstalledOn "
                                   f"date ({', '.join(undated)}); they are counted as installed but not used for "
                                   "the install dates", name)
        self.builder.set_fact("patches", hotfix.patches_from(updates))

    def audit_policy(self) -> None:
        if (found := self.text("auditpol", "audit_policy")) is None:
            return
        name, text = found
        self.builder.set_fact("audit_policy", {"subcategories": auditpol.subcategories_from(csv_table(text, name))})

    def antimalware(self) -> None:
        products: list[dict[str, Any]] = []
        defender = self.json("defender", "antimalware")
        if defender is not None:
            products.append(protection.defender_product(defender[1], defender[0], self.zone))
        center = self.json("security-center", "antimalware")
        if center is not None:
            products += protection.security_center_products(center[1], center[0], skip_defender=defender is not None)
        if defender is not None or center is not None:
            self.builder.set_fact("antimalware", protection.antimalware(products))

    def disk_encryption(self) -> None:
        if (found := self.json("bitlocker", "disk_encryption")) is not None:
            self.builder.set_fact("disk_encryption", protection.disk_encryption(found[1], found[0]))

    def registry_areas(self, os_doc: tuple[str, Any] | None) -> None:
        if (found := self.json("removable-storage", "removable_media")) is not None:
            self.builder.set_fact("removable_media", registry.removable_media(registry.Snapshot(found[1], found[0])))
        if (found := self.json("screen-lock", "screen_lock")) is not None:
            desktop = system.has_desktop(os_doc[1], os_doc[0]) if os_doc else None
            if desktop is not None:  # os.json's InstallationType said whether there is a desktop
                name, raw, encoding = self.read_json["os"]
                self.source(name, "windows-raw/os", encoding, raw, "screen_lock")
            self.builder.set_fact("screen_lock", registry.screen_lock(registry.Snapshot(found[1], found[0]), desktop))
        if (found := self.json("remote-desktop", "remote_desktop")) is not None:
            self.builder.set_fact("remote_desktop", registry.remote_desktop(registry.Snapshot(found[1], found[0])))
        if (found := self.json("autorun", "autorun")) is not None:
            self.builder.set_fact("autorun", autorun.autorun(registry.Snapshot(found[1], found[0])))

    def firewall(self) -> None:
        if (found := self.json("firewall", "firewall")) is not None:
            self.builder.set_fact("firewall", network.firewall(found[1], found[0]))

    def network(self) -> None:
        adapters = self.json("net-adapters", "interfaces")
        addresses = self.json("ip-addresses", "interfaces")
        zones = self.importer.zones
        if adapters is not None and addresses is not None:
            found = network.interfaces(adapters[1], adapters[0], addresses[1], addresses[0])
            self.builder.set_fact("interfaces", found)
            if zones is not None and self.importer.zones_path is not None:
                path = self.importer.zones_path
                self.builder.add_source(path, "auditor-zones/1", Path(path).read_bytes(), "segments")
                self.builder.set_fact("segments", segments_module.segments_fact(found, zones, path))
        elif zones is not None:
            self.builder.add_error("segments", "no interfaces area (see its errors), so the segments of the "
                                   "computer's addresses are unknown", self.manifest_name)
        tcp = self.json("tcp-listen", "listening")
        udp = self.json("udp-endpoints", "listening")
        if tcp is not None and udp is not None:
            self.builder.set_fact("listening", network.listening(tcp[1], tcp[0], udp[1], udp[0]))

    def software(self) -> None:
        if (found := self.json("software", "software")) is None:
            return
        name, doc = found
        programs, undated = inventory.software(doc, name)
        if undated:
            self.builder.add_error("software", f"{name}: InstallDate is not a date for {len(undated)} of "
                                   f"{len(programs)} programs ({'; '.join(undated)}); their installed_on is null",
                                   name)
        self.builder.set_fact("software", programs)

    def local_admins(self) -> None:
        if (found := self.json("local-admins", "local_admins")) is not None:
            self.builder.set_fact("local_admins", inventory.admins_from_json(found[1], found[0]))
        elif (text := self.text("local-admins-net", "local_admins")) is not None:
            self.builder.set_fact("local_admins", inventory.admins_from_net(text[1], text[0]))

    def time_sync(self) -> None:
        fact: dict[str, Any] = {}
        if (found := self.text("w32tm", "time_sync")) is not None:
            fact.update(system.time_sync(found[1], found[0]))
        if (zone := self.json("timezone", "time_sync")) is not None:
            fact["timezone"] = system.timezone_id(zone[1], zone[0])
        if fact:
            self.builder.set_fact("time_sync", fact)


    def services_and_forwarding(self) -> None:
        """``services``, and from them with the WEF policy the ``logging`` area (log forwarding)."""
        found = self.json("services", "services")
        listed = services.services(found[1], found[0]) if found is not None else None
        if listed is not None:
            self.builder.set_fact("services", listed)
        policy = self.json("event-forwarding", "logging")
        if listed is not None and policy is not None:
            name, raw, encoding = self.read_json["services"]
            self.source(name, "windows-raw/services", encoding, raw, "logging")
            self.builder.set_fact("logging", forwarding.log_forwarding(
                listed, registry.Snapshot(policy[1], policy[0])))

    def wifi_profiles(self) -> None:
        """netsh's profile list, then each profile's output as the details step lists them."""
        entry = self.collection.manifest.steps.get("wlan-profiles")
        if entry is not None and not entry.ok:
            raw = self.collection.get(entry.file)
            said = (entry.error or "") + "\n" + (decode(raw, entry.file)[0] if raw else "")
            if wifi.service_stopped(said) or wifi.no_interface(said):
                if raw:
                    self.source(self.collection.name(entry.file), "windows-raw/wlan-profiles",
                                decode(raw, entry.file)[1], raw, wifi.AREA)
                self.builder.set_fact(wifi.AREA, {"wlan_service": not wifi.service_stopped(said), "profiles": []})
                return
        listing = self.text("wlan-profiles", wifi.AREA)
        if listing is not None and (wifi.service_stopped(listing[1]) or wifi.no_interface(listing[1])):
            self.builder.set_fact(wifi.AREA, {"wlan_service": not wifi.service_stopped(listing[1]), "profiles": []})
            return
        details = self.json("wlan-profile-details", wifi.AREA)
        if listing is None or details is None:
            return
        name, doc = details
        if not isinstance(doc, list):
            raise InputError(name, "expected a list of {Name, File, ExitCode, Error}")
        found: list[dict[str, Any]] = []
        seen: set[str] = set()
        for index, item in enumerate(doc):
            if not isinstance(item, dict) or not isinstance(item.get("Name"), str):
                raise InputError(name, f"item {index + 1}: expected an object with the profile's Name")
            profile, file = item["Name"], item.get("File")
            seen.add(profile)
            raw = self.collection.get(file) if isinstance(file, str) and file else None
            if raw is None or item.get("ExitCode") not in (0, None):
                why = item.get("Error") or (f"netsh exit code {item.get('ExitCode')}" if raw is not None
                                            else f"no output file {file!r} in the collection")
                found += wifi.records(profile, None, name, str(why))
                continue
            text, encoding = decode(raw, self.collection.name(file))
            self.source(self.collection.name(file), "windows-raw/wlan-profile", encoding, raw, wifi.AREA)
            found += wifi.records(profile, wifi.parse_profile(text), self.collection.name(file))
        for profile in wifi.profile_names(listing[1]):
            if profile not in seen:
                found += wifi.records(profile, None, listing[0], "listed by netsh but not in " + name)
        self.builder.set_fact(wifi.AREA, {"wlan_service": True, "profiles": found})


class WindowsRawImporter(LocalTimeImporter):
    name = "windows-raw"
    target_kind = "endpoint"
    description = "folder or .zip written by collect-windows.ps1 (auditor collect --windows-script FILE)"
    columns_owner = "collect-windows.ps1"
    accepts_directories = True
    uses_zones = True

    def __init__(self) -> None:
        super().__init__()
        self.options = ImportOptions()
        self.zones: list[dict[str, Any]] | None = None
        self.zones_path: str | None = None
        self.read_one = False

    def configure(self, options: ImportOptions) -> None:
        super().configure(options)
        self.options = options
        if options.zones:
            self.zones, self.zones_path = load_zones(options.zones), options.zones

    def read_stream(self, path: Path, file: BinaryIO, builder: BundleBuilder) -> None:
        """A zip, its size checked before it is read (a folder is read by :meth:`read`)."""
        check_size(path, "collection")
        self.read(path, file.read(MAX_FILE_BYTES["collection"] + 1), builder)

    def read(self, path: Path, data: bytes, builder: BundleBuilder) -> None:
        check_size(path, "collection", len(data))
        if self.read_one:
            raise InputError(str(path), "a second collection for the same bundle: import each folder or zip on its "
                             "own (one terminal per bundle)")
        self.read_one = True
        _Reader(open_collection(path, data), builder, self).run()


@register("windows-raw")
def windows_raw_importer() -> WindowsRawImporter:
    return WindowsRawImporter()
