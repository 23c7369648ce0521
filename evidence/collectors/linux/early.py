"""The Linux collector's slow tools, started before anything else so that the rest overlaps them.

``apt list --upgradable`` takes most of a host audit on its own (it reads every package list,
0.6–1 s of its own CPU), while every other area together, the policy and the program's imports
take a few tenths of a second. Started first, it runs while the collector's modules load, the
policy loads and the other areas read the host; the audit then waits about as long as that one
command instead of the sum. On the RHEL family the slow ones are ``dnf check-update`` and
``dnf updateinfo``: they run one after the other, as the ``updates`` area would run them (two
dnf processes at once would contend for its metadata lock).

Only the commands start early; the first of each chain is running when :func:`prestart`
returns, and a thread waits for it. Their output is recorded and parsed by their areas exactly
as if they ran there: :func:`.common.run` takes a started command for the same argv from
:func:`start`'s table (see :meth:`BundleBuilder.run`'s ``started``), so the bundle is the same
as a serial collection's. A command that was not started early, or whose area does not ask for
it (a family decided differently, an unreadable os-release), runs or not as before.

This module imports nothing of the collector but :mod:`.osrelease`, so that :func:`prestart`
can be called before the collector (and psutil) are imported.
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

from auditor.evidence.bundle import finish_tool, start_tool

from .osrelease import distro_family, parse_os_release

APT_UPGRADABLE = ["apt", "list", "--upgradable", "-o", "Apt::Cmd::Disable-Script-Warning=true"]
APT_TIMEOUT = 60.0
DNF_TIMEOUT = 120.0  # dnf may refresh its metadata over the network first


def dnf_manager(root: Path) -> str:
    """``dnf`` where it is installed, else ``yum`` (the same test as the ``updates`` area's)."""
    binary = root / "usr/bin/dnf"
    return "dnf" if binary.exists() or binary.is_symlink() else "yum"


def dnf_check_update(manager: str) -> list[str]:
    return [manager, "-q", "check-update"]


def dnf_security(manager: str) -> list[str]:
    return [manager, "-q", "updateinfo", "list", "--security"]


Commands = list[tuple[list[str], float]]  # (argv, timeout), run one after the other


def slow_commands(root: Path) -> list[Commands]:
    """The slow tools a collection of ``root`` will run, as chains that may run side by side;
    none unless ``root`` is the running system ("/") of a Debian- or RHEL-family host."""
    if root.resolve() != Path("/"):
        return []  # a captured tree: no command runs
    try:
        text = (root / "etc/os-release").read_bytes().decode("utf-8", "replace")
    except OSError:
        return []
    family = distro_family(parse_os_release(text))
    if family == "debian":
        return [[(APT_UPGRADABLE, APT_TIMEOUT)]]
    if family == "rhel":
        manager = dnf_manager(root)
        return [[(dnf_check_update(manager), DNF_TIMEOUT), (dnf_security(manager), DNF_TIMEOUT)]]
    return []


class Started:
    """One command started early: :meth:`result` waits for it and returns what :func:`run_tool`
    would have returned, or raises what it would have raised (a missing tool, a time-out)."""

    def __init__(self, argv: list[str], timeout: float) -> None:
        self.argv = argv
        self.timeout = timeout
        self.pid: int | None = None  # once running
        self._proc: subprocess.Popen[bytes] | None = None
        self._done = threading.Event()
        self._outcome: subprocess.CompletedProcess[bytes] | None = None
        self._error: Exception | None = None

    def spawn(self) -> None:
        """Start the process (it runs when this returns), or keep why it could not start."""
        try:
            self._proc = start_tool(self.argv)
            self.pid = self._proc.pid
        except Exception as exc:  # handed over whole to the area that waits for it
            self._error = exc
            self._done.set()

    def finish(self) -> None:
        """Wait for the process to end (in the chain's thread)."""
        if self._proc is None and self._error is None:  # a later command of a chain
            self.spawn()
        if self._proc is not None:
            try:
                self._outcome = finish_tool(self._proc, self.timeout)
            except Exception as exc:
                self._error = exc
        self._done.set()

    def result(self) -> subprocess.CompletedProcess[bytes]:
        self._done.wait()
        if self._outcome is None:
            raise self._error or RuntimeError(f"{self.argv[0]}: ended without an outcome")
        return self._outcome


Table = dict[tuple[str, ...], Started]
_lock = threading.Lock()
_pending: dict[str, Table] = {}  # resolved root -> commands started and not yet taken by a collection


def prestart(root: Path | str = "/") -> None:
    """Start the slow tools of a collection of ``root`` that is to follow, unless started already;
    the first of each chain is running when this returns (the rest follow it in a thread).

    Called by ``auditor audit`` and ``auditor collect`` before they import the collector; the
    collection itself calls it too (:func:`start`), so a collection started any other way gets
    the same overlap.
    """
    root = Path(root)
    key = str(root.resolve())
    with _lock:
        if key in _pending:
            return
        table: Table = {}
        for chain in slow_commands(root):
            commands = [Started(argv, timeout) for argv, timeout in chain]
            for command in commands:
                table[tuple(command.argv)] = command
            commands[0].spawn()
            threading.Thread(target=_finish_chain, args=(commands,), name="collect-early", daemon=True).start()
        _pending[key] = table


def _finish_chain(commands: list[Started]) -> None:
    for command in commands:
        command.finish()


def start(root: Path | str) -> Table:
    """The slow tools of this collection of ``root``, started now unless :func:`prestart` did,
    by argv; taken, so that the next collection starts its own."""
    prestart(root)
    with _lock:
        return _pending.pop(str(Path(root).resolve()), {})
