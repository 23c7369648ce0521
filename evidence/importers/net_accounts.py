"""``net accounts`` (or ``net accounts /domain``) redirected to a file: a Windows account policy.

Unlike secedit's INI keys, this output is localised: each line is a translated label, a colon,
padding and a value, and the file is in the console's code page (CP932 on Japanese Windows,
ASCII on English Windows). Labels are matched in both languages, as net.exe prints them:

==========================================  ==================================  =================
English                                     Japanese                            fact
==========================================  ==================================  =================
Minimum password age (days)                 パスワード変更禁止期間 (日数)         min_age_days
Maximum password age (days)                 パスワード有効期間 (日数)             max_age_days
Minimum password length                     最小パスワード長                      min_length
Length of password history maintained       使用できない旧パスワード数            history
Lockout threshold                           ロックアウトしきい値                  threshold
Lockout duration (minutes)                  ロックアウト期間 (分)                 duration_minutes
Lockout observation window (minutes)        ロックアウト監視ウィンドウ (分)       window_minutes
==========================================  ==================================  =================

Values are numbers or net.exe's words, which differ by line: ``Unlimited`` / ``無制限`` (no
maximum age), ``None`` / ``なし`` (no history), ``Never`` / ``しない`` (no lockout threshold;
as the duration: locked until an administrator unlocks, which the facts write as 0). Any
other word is refused with its line rather than guessed at.

The force-logoff and computer-role lines, the completion line and the note that ``/domain``
prints before the policy are known and passed over; any other line is an error, so that a
file holding something else (``System error 5 has occurred.``) is never read as a policy.
A setting given twice (in either language) is refused naming both lines, and a number of more
than :data:`auditor.limits.MAX_INT_DIGITS` digits is refused naming its line.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from auditor.evidence.bundle import BundleBuilder
from auditor.evidence.importers import register
from auditor.evidence.importers.textio import decode

from auditor.errors import InputError, duplicate_key
from auditor.limits import MAX_FILE_BYTES, check_int_text, check_size

PASSWORD, LOCKOUT = "password_policy", "lockout_policy"
UNLIMITED = {"unlimited": None, "無制限": None}
NONE = {"none": 0, "なし": 0}
NEVER = {"never": 0, "しない": 0}


def fold(text: str) -> str:
    """How labels and words are compared: width-normalised, case-folded, single-spaced."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


@dataclass(frozen=True)
class Setting:
    """One policy line: the fact it gives and the words net.exe may print instead of a number."""

    area: str
    key: str
    labels: tuple[str, ...]
    words: dict[str, int | None] = field(default_factory=dict)


SETTINGS = (
    Setting(PASSWORD, "min_age_days", ("Minimum password age (days)", "パスワード変更禁止期間 (日数)")),
    Setting(PASSWORD, "max_age_days", ("Maximum password age (days)", "パスワード有効期間 (日数)"), UNLIMITED),
    # パスワードの最小文字数, ロックアウトのしきい値 and なし as a threshold: wordings found in write-ups of
    # this output but in no capture of it; harmless to accept, as they cannot mean anything else
    Setting(PASSWORD, "min_length", ("Minimum password length", "最小パスワード長", "パスワードの最小文字数")),
    Setting(PASSWORD, "history", ("Length of password history maintained", "使用できない旧パスワード数"), NONE),
    Setting(LOCKOUT, "threshold", ("Lockout threshold", "ロックアウトしきい値", "ロックアウトのしきい値"),
            {**NEVER, "なし": 0}),
    Setting(LOCKOUT, "duration_minutes", ("Lockout duration (minutes)", "ロックアウト期間 (分)"), NEVER),
    Setting(LOCKOUT, "window_minutes", ("Lockout observation window (minutes)", "ロックアウト監視ウィンドウ (分)")),
)
LABELS = {fold(label): setting for setting in SETTINGS for label in setting.labels}
OTHER_LABELS = ("force user logoff", "強制ログオフ", "computer role", "コンピューターの役割", "コンピュータの役割")
COMPLETION = {fold("The command completed successfully."), fold("コマンドは正常に終了しました。")}
# What /domain prints first. The English sentence is net.exe's; the Japanese one is recognised by
# its subject (a domain controller) since no capture of it was found to copy.
DOMAIN_NOTE_EN = fold("The request will be processed at a domain controller for domain")
DOMAIN_NOTE_JA = "ドメイン コントローラー"


@dataclass
class Parsed:
    """The policy values of one output, each with its line, and whether it came from /domain."""

    values: dict[str, tuple[int | None, int]] = field(default_factory=dict)
    domain: bool = False


def _value(setting: Setting, label: str, raw: str, name: str, number: int) -> int | None:
    text = unicodedata.normalize("NFKC", raw).strip()
    if text.isascii() and text.isdigit():
        check_int_text(text, name, line=number, where=label)
        return int(text)
    word = fold(text)
    if word in setting.words:
        return setting.words[word]
    allowed = " or ".join(["a whole number", *(repr(w) for w in setting.words)])
    raise InputError(name, f"{label}: expected {allowed}, found {raw.strip()!r}", line=number)


def _is_domain_note(folded: str) -> bool:
    return folded.startswith(DOMAIN_NOTE_EN) or (DOMAIN_NOTE_JA in folded and ":" not in folded)


def _is_other(folded: str) -> bool:
    """A line net accounts prints that holds no policy value (logoff, role, completion)."""
    label, sep, _rest = folded.partition(":")
    return folded in COMPLETION or bool(sep and label.startswith(OTHER_LABELS))


def parse(text: str, name: str) -> Parsed:
    """The policy lines of one ``net accounts`` output (text with ``\\n`` newlines)."""
    parsed = Parsed()
    unknown: int | None = None
    for number, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        label, sep, value = unicodedata.normalize("NFKC", raw).partition(":")
        setting = LABELS.get(fold(label)) if sep else None
        if setting is None:
            folded = fold(raw)
            if _is_domain_note(folded):
                parsed.domain = True
            elif not _is_other(folded) and unknown is None:
                unknown = number
            continue
        key = f"{setting.area}.{setting.key}"
        if key in parsed.values:
            raise duplicate_key(name, label.strip(), parsed.values[key][1], number, what="setting")
        parsed.values[key] = (_value(setting, label.strip(), value, name, number), number)
    if not parsed.values:
        raise InputError(name, "not net accounts output: none of its policy lines (Minimum password length, "
                         "最小パスワード長, Lockout threshold, ロックアウトしきい値, ...) is in the file")
    if unknown is not None:
        line = text.split("\n")[unknown - 1].strip()
        raise InputError(name, f"not a net accounts line: {line[:60]!r}", line=unknown)
    return parsed


def facts_from(parsed: Parsed, name: str) -> dict[str, Any]:
    """``os``, ``password_policy`` and ``lockout_policy`` facts (an area the output lacks is empty).

    With a threshold of 0 nothing locks, so the duration and window are left out (docs/facts.md:
    there is nothing to time), although net.exe still prints its defaults for them.
    """
    values = {key: value for key, (value, _line) in parsed.values.items()}
    password: dict[str, Any] = {}
    for setting in SETTINGS:
        key = f"{PASSWORD}.{setting.key}"
        if setting.area == PASSWORD and key in values:
            password[setting.key] = values[key]
    if password:
        password["sources"] = [f"{name} (net accounts{' /domain' if parsed.domain else ''})"]
    lockout: dict[str, Any] = {}
    threshold = values.get(f"{LOCKOUT}.threshold")
    if threshold is not None:
        lockout = {"enabled": threshold > 0, "threshold": threshold}
        for key in ("duration_minutes", "window_minutes"):
            if threshold > 0 and f"{LOCKOUT}.{key}" in values:
                lockout[key] = values[f"{LOCKOUT}.{key}"]
    return {"os": {"family": "windows"}, PASSWORD: password, LOCKOUT: lockout}


class NetAccountsImporter:
    name = "net-accounts"
    target_kind = "endpoint"
    description = "net accounts [/domain] > FILE (Windows account policy, Japanese or English)"

    def read_stream(self, path: Path, file: BinaryIO, builder: BundleBuilder) -> None:
        """As :meth:`read`, the file's size checked before it is read."""
        check_size(path, "text")
        self.read(path, file.read(MAX_FILE_BYTES["text"] + 1), builder)

    def read(self, path: Path, data: bytes, builder: BundleBuilder) -> None:
        name = str(path)
        check_size(name, "text", len(data))
        if PASSWORD in builder.facts or LOCKOUT in builder.facts:
            raise InputError(name, "a second net accounts output for the same target: the local and the /domain "
                             "policy differ, so import each file as its own bundle")
        text, encoding = decode(data, name)
        facts = facts_from(parse(text, name), name)
        for area, value in facts.items():
            if value:
                builder.add_source(name, f"net-accounts ({encoding})", data, area)
                builder.set_fact(area, value)
        if not facts[LOCKOUT]:
            builder.add_error(LOCKOUT, f"{name}: no Lockout threshold / ロックアウトしきい値 line", name)


@register("net-accounts")
def net_accounts_importer() -> NetAccountsImporter:
    return NetAccountsImporter()
