"""FortiOS's predefined firewall services and service groups, from the shipped table
``fortios-services.yaml`` (validated on load).

A FortiGate configuration names services such as ``HTTPS`` or ``Email Access`` that FortiOS
creates at the factory; a partial export names them without defining them. The FortiGate importer
falls back on this table for a name the file does not define, and says which names it read here::

    table = load_table()
    table.services["DNS"]      -> {"tcp-portrange": ["53"], "udp-portrange": ["53"]}
    table.groups["Web Access"] -> ["DNS", "HTTP", "HTTPS"]

Each service is kept as the FortiOS settings it stands for (word lists, as ``set`` gives them), so
the importer reads it with the same code as a service the file defines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import cerberus

from auditor.errors import InputError
from auditor.yamldoc import load_yaml

TABLE = Path(__file__).with_name("fortios-services.yaml")
FORMAT = "auditor-fortios-services/1"
PROTOCOLS = ("TCP/UDP/SCTP", "IP", "ICMP", "ICMP6")
PORT_KEYS = ("tcp-portrange", "udp-portrange", "sctp-portrange")
_RANGE = r"\d{1,5}(?:-\d{1,5})?"
PORTS = re.compile(rf"{_RANGE}(?::{_RANGE})?(?: {_RANGE}(?::{_RANGE})?)*")
NAME = r"[A-Za-z0-9_. \-]+"

_SERVICE = {
    "protocol": {"type": "string", "allowed": list(PROTOCOLS)},
    "protocol-number": {"type": "integer", "min": 0, "max": 255},
    "icmptype": {"type": "integer", "min": 0, "max": 255},
    **{key: {"type": "string", "regex": PORTS.pattern} for key in PORT_KEYS},
}
SCHEMA = {
    "format": {"type": "string", "required": True, "allowed": [FORMAT]},
    "release": {"type": "string", "required": True, "regex": r"\d+\.\d+"},
    "services": {"type": "dict", "required": True, "minlength": 1, "keysrules": {"type": "string", "regex": NAME},
                 "valuesrules": {"type": "dict", "schema": _SERVICE}},
    "groups": {"type": "dict", "required": True, "keysrules": {"type": "string", "regex": NAME},
               "valuesrules": {"type": "list", "minlength": 1, "schema": {"type": "string", "regex": NAME}}},
}


class ServiceTableError(ValueError):
    """The shipped table is malformed (a packaging bug, never a configuration's fault)."""


@dataclass(frozen=True)
class ServiceTable:
    release: str
    services: dict[str, dict[str, list[str]]]  # name -> FortiOS settings (setting -> words)
    groups: dict[str, list[str]]  # name -> member names


def validate_table(data: Any) -> list[str]:
    """Problems with a loaded table, empty when it is valid: the schema, then what it cannot say
    (settings that belong to another protocol, ports beyond 65535, a group naming no service)."""
    validator = cerberus.Validator(SCHEMA)
    if not validator.validate(data):
        return [f"{key}: {value}" for key, value in sorted(validator.errors.items(), key=str)]
    problems = []
    for name, settings in data["services"].items():
        protocol = settings.get("protocol", "TCP/UDP/SCTP")
        ports = [key for key in PORT_KEYS if key in settings]
        allowed = {"TCP/UDP/SCTP": set(PORT_KEYS), "IP": {"protocol-number"}, "ICMP": {"icmptype"},
                   "ICMP6": {"icmptype"}}[protocol]
        extra = sorted(set(settings) - allowed - {"protocol"})
        if extra:
            problems.append(f"services.{name}: {', '.join(extra)} do not go with protocol {protocol}")
        if protocol == "TCP/UDP/SCTP" and not ports:
            problems.append(f"services.{name}: a TCP/UDP/SCTP service needs a port range")
        for key in ports:
            for part in re.split(r"[ :]", settings[key]):
                lo, _, hi = part.partition("-")
                if not int(lo) <= int(hi or lo) <= 65535:
                    problems.append(f"services.{name}.{key}: {part!r} is not a range of ports 0-65535")
    for name, members in data["groups"].items():
        if name in data["services"]:
            problems.append(f"groups.{name}: also the name of a service")
        problems += [f"groups.{name}: {member!r} is not a service of the table"
                     for member in members if member not in data["services"]]
    return problems


@lru_cache(maxsize=1)
def load_table() -> ServiceTable:
    """The shipped table, validated (raises :class:`ServiceTableError` when it is not valid)."""
    try:
        data = load_yaml(TABLE, kind="policy").data
    except InputError as exc:
        raise ServiceTableError(str(exc)) from None
    problems = validate_table(data)
    if problems:
        raise ServiceTableError(f"{TABLE}: " + "; ".join(problems))
    services = {name: {key: str(value).split() if key in PORT_KEYS else [str(value)]
                       for key, value in settings.items()}
                for name, settings in data["services"].items()}
    return ServiceTable(data["release"], services, {name: list(members) for name, members in data["groups"].items()})
