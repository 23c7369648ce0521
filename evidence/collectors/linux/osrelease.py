"""os-release and the distribution family: pure functions with no imports of their own.

They live apart from :mod:`.common` so that :mod:`.early` can tell which package manager a host
has (and start its slow listing) before the collector's other modules, psutil among them, load.
"""

from __future__ import annotations

DEBIAN_IDS = {"debian", "ubuntu", "linuxmint", "raspbian"}
RHEL_IDS = {"rhel", "fedora", "centos", "rocky", "almalinux", "ol", "amzn"}


def parse_os_release(text: str) -> dict[str, str]:
    """``KEY=value`` pairs of os-release, with shell quoting removed."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
            value = value.replace('\\"', '"').replace("\\$", "$").replace("\\`", "`").replace("\\\\", "\\")
        out[key.strip()] = value
    return out


def distro_family(os_release: dict[str, str]) -> str | None:
    """``debian`` or ``rhel`` from os-release ID and ID_LIKE, else None."""
    ids = {os_release.get("ID", "").lower(), *os_release.get("ID_LIKE", "").lower().split()}
    if ids & DEBIAN_IDS:
        return "debian"
    if ids & RHEL_IDS:
        return "rhel"
    return None
