"""Words for the facts, in Japanese and English, for the sentences of :mod:`auditor.conditions.wording`.

Keys are fact paths as checks write them, without ``org.`` and list marks: an area
(``password_policy``), a field of it (``password_policy.min_length``), a list's field
(``directory_accounts.enabled``, a field of each account). A path not listed here is shown as
its field name, which stays readable (and tells a policy author which word is missing).

Flags (boolean fields) say what their two values mean about the thing that has them (有効である,
is enabled), so that ``{field: enabled, eq: true}`` reads 有効なアカウント, enabled accounts.
"""

from __future__ import annotations

from dataclasses import dataclass


def particle(ja: str, p: str) -> str:
    """``ja`` followed by a Japanese particle, with a space after a name written in ASCII."""
    return f"{ja} {p}" if ja[-1:].isascii() and ja[-1:].strip() else f"{ja}{p}"


@dataclass(frozen=True)
class Noun:
    """What a clause speaks of, in both languages."""

    ja: str
    en: str  # without article
    plural: bool = False  # the English noun takes a plural verb (groups include)
    raw: bool = False  # a field name shown as written: no article
    unit: tuple[str, str, str] | None = None  # (ja, en singular, en plural) for its numbers
    en_plural: str | None = None  # of an item noun, for counting (accounts)
    animate: bool = False  # people: いる/いない rather than ある/ない
    ja_ga: str | None = None  # the noun with its subject particle, when not just + が

    def ga(self) -> str:
        return self.ja_ga or particle(self.ja, "が")

    def the(self) -> str:
        return self.en if self.raw or self.plural and self.en.startswith(("every ", "all ")) else f"the {self.en}"

    def a(self) -> str:
        if self.raw or self.plural:
            return self.en
        return f"{'an' if _vowel_sound(self.en) else 'a'} {self.en}"

    def many(self) -> str:
        return self.en_plural or (self.en if self.raw or self.plural else f"{self.en}s")


def _vowel_sound(word: str) -> bool:
    """Whether English says "an" before ``word``: a vowel, or an initialism read from a vowel sound (an HR)."""
    if word[:1].lower() in "aeiou":
        return True
    return word[:2].isupper() and word[:1] in "FHLMNRSX"


@dataclass(frozen=True)
class Flag:
    """What a boolean field's values say of its owner: (ja plain form, en verb phrase) for true and
    false, and the adjective for true where one reads well before the owner's noun."""

    yes: tuple[str, str]
    no: tuple[str, str]
    attr: tuple[str, str] | None = None
    attr_no: tuple[str, str] | None = None


VALUE = Noun("値", "value")
ITEM = Noun("項目", "item")

DAYS = ("日", "day", "days")
MINUTES = ("分", "minute", "minutes")
SECONDS = ("秒", "second", "seconds")
CHARS = ("文字", "character", "characters")
TIMES = ("回", "attempt", "attempts")

# Areas and fields: path -> Noun.
NOUNS: dict[str, Noun] = {
    "os": Noun("OS", "operating system"),
    "os.family": Noun("OS の種類", "operating system family"),
    "os.eol_date": Noun("OS のサポート終了日", "end-of-support date of the operating system"),
    "password_policy": Noun("パスワードポリシー", "password policy"),
    "password_policy.min_length": Noun("パスワードの最小文字数", "minimum password length", unit=CHARS),
    "password_policy.min_char_classes": Noun("パスワードに求める文字種の数",
                                             "number of character classes a password needs"),
    "password_policy.max_age_days": Noun("パスワードの有効期間", "maximum password age", unit=DAYS),
    "password_policy.history": Noun("記憶するパスワード履歴の数", "number of remembered passwords"),
    "password_policy.hash_algorithm": Noun("パスワードのハッシュ方式", "password hashing algorithm"),
    "password_policy.inactive_days": Noun("期限切れ後にアカウントを無効にするまでの日数",
                                          "number of days after expiry until an account is disabled", unit=DAYS),
    "lockout_policy": Noun("アカウントロックアウトの設定", "account lockout policy"),
    "lockout_policy.threshold": Noun("ロックアウトまでのログオン失敗回数", "number of failed logons before lockout",
                                     unit=TIMES),
    "lockout_policy.duration_minutes": Noun("ロックアウトの継続時間", "lockout duration", unit=MINUTES),
    "accounts": Noun("ローカルアカウント", "local account", en_plural="local accounts"),
    "accounts.name": Noun("名前", "name"),
    "accounts.uid": Noun("ユーザー ID", "user ID"),
    "accounts.last_password_change": Noun("最後にパスワードを変更した日", "last password change"),
    "accounts.password_max_days": Noun("パスワードの有効期間", "maximum password age", unit=DAYS),
    "directory_accounts": Noun("ディレクトリのアカウント", "directory account", en_plural="directory accounts"),
    "directory_accounts.name": Noun("アカウント名", "account name"),
    "directory_accounts.display_name": Noun("表示名", "display name"),
    "directory_accounts.employee_id": Noun("職員番号", "employee number"),
    "directory_accounts.groups": Noun("所属グループ", "groups", plural=True),
    "directory_accounts.last_logon_at": Noun("最終ログオン日時", "last logon"),
    "directory_accounts.created_at": Noun("作成日時", "creation date"),
    "hr_roster": Noun("人事名簿", "HR roster", en_plural="HR roster entries"),
    "hr_roster.employee_id": Noun("職員番号", "employee number"),
    "hr_roster.name": Noun("氏名", "name"),
    "hr_roster.status": Noun("在職状況", "employment status"),
    "hr_roster.effective_date": Noun("発令日", "effective date"),
    "training_records": Noun("研修記録", "training record"),
    "training_records.employee_id": Noun("職員番号", "employee number"),
    "training_records.course": Noun("研修名", "course name"),
    "training_records.completed_on": Noun("修了日", "completion date"),
    "antimalware": Noun("マルウェア対策ソフト", "anti-malware software"),
    "antimalware.signature_updated_at": Noun("定義ファイルの更新日時", "last signature update"),
    "antimalware.products": Noun("マルウェア対策製品", "anti-malware product"),
    "audit_policy.subcategories.guid": Noun("GUID", "GUID", raw=True),
    "audit_daemon": Noun("監査デーモン（auditd）", "audit daemon (auditd)"),
    "audit_daemon.rule_count": Noun("監査ルールの数", "number of audit rules"),
    "audit_policy.subcategories": Noun("監査ポリシーのサブカテゴリ", "audit policy subcategory",
                                       en_plural="audit policy subcategories"),
    "disk_encryption": Noun("ディスク暗号化", "disk encryption"),
    "disk_encryption.volumes": Noun("ボリューム", "volume"),
    "firewall": Noun("ホストのファイアウォール", "host firewall"),
    "firewall.input_policy": Noun("受信の既定動作", "default action for incoming traffic"),
    "firewall.forward_policy": Noun("転送の既定動作", "default action for forwarded traffic"),
    "firewall.profiles": Noun("ファイアウォールのプロファイル", "firewall profile"),
    "firewall_rules": Noun("ファイアウォールの規則", "firewall rules", plural=True),
    "interfaces": Noun("ネットワークインターフェース", "network interface"),
    "listening": Noun("待ち受けポート", "listening socket"),
    "listening.port": Noun("ポート番号", "port"),
    "local_admins": Noun("ローカル管理者グループのメンバー", "member of the local administrators group",
                         en_plural="members of the local administrators group"),
    "local_admins.kind": Noun("メンバーの種類", "member kind"),
    "logging": Noun("ログの設定", "logging set-up"),
    "logging.journald": Noun("ジャーナル（journald）", "journal (journald)"),
    "logging.syslog": Noun("syslog", "syslog", raw=True),
    "logging.journald.max_retention_days": Noun("ジャーナルの保存期間", "journal retention", unit=DAYS),
    "patches": Noun("更新プログラム", "updates", plural=True),
    "patches.last_installed_at": Noun("更新プログラムを最後に適用した日時", "last installation of updates"),
    "patches.last_security_installed_at": Noun("セキュリティ更新を最後に適用した日時",
                                               "last installation of security updates"),
    "updates": Noun("更新の状況", "update status"),
    "updates.pending_security": Noun("未適用のセキュリティ更新の数", "number of pending security updates"),
    "updates.lists_updated_at": Noun("パッケージ一覧を最後に更新した日時", "last refresh of the package lists"),
    "remote_desktop": Noun("画面転送の設定", "remote desktop settings", plural=True),
    "remote_desktop.clipboard_redirection": Noun("クリップボードの転送", "clipboard redirection"),
    "remote_desktop.drive_redirection": Noun("ドライブの転送", "drive redirection"),
    "remote_desktop.printer_redirection": Noun("プリンターの転送", "printer redirection"),
    "remote_desktop.com_port_redirection": Noun("COM ポートの転送", "COM port redirection"),
    "remote_desktop.lpt_port_redirection": Noun("LPT ポートの転送", "LPT port redirection"),
    "remote_desktop.pnp_redirection": Noun("プラグアンドプレイ機器の転送", "plug-and-play device redirection"),
    "removable_media": Noun("外部記録媒体の制御", "removable media control"),
    "removable_media.allowed_devices": Noun("端末が許可している外部記録媒体", "removable device the host allows",
                                            en_plural="removable devices the host allows"),
    "routing": Noun("ルーティング", "routing"),
    "screen_lock": Noun("画面ロック", "screen lock"),
    "screen_lock.idle_timeout_seconds": Noun("画面ロックまでの無操作時間", "idle time before the screen locks",
                                             unit=SECONDS),
    "screen_lock.shell_timeout_seconds": Noun("シェルの無操作タイムアウト", "shell idle timeout", unit=SECONDS),
    "segments": Noun("所属区画の情報", "segment membership"),
    "segments.segments": Noun("端末が属する区画", "segments the host is in", plural=True),
    "software": Noun("インストール済みのソフトウェア", "installed program"),
    "software.name": Noun("名前", "name"),
    "ssh_server": Noun("SSH サーバー", "SSH server"),
    "ssh_server.settings.maxauthtries": Noun("SSH の認証試行回数の上限（MaxAuthTries）",
                                             "SSH limit on authentication attempts (MaxAuthTries)"),
    "ssh_server.settings.passwordauthentication": Noun("SSH のパスワード認証（PasswordAuthentication）",
                                                       "SSH password authentication (PasswordAuthentication)"),
    "ssh_server.settings.permitemptypasswords": Noun("SSH の空パスワードの許可（PermitEmptyPasswords）",
                                                     "SSH empty-password setting (PermitEmptyPasswords)"),
    "ssh_server.settings.permitrootlogin": Noun("SSH の root ログインの許可（PermitRootLogin）",
                                                "SSH root login setting (PermitRootLogin)"),
    "time_sync": Noun("時刻同期", "time synchronisation"),
    "time_sync.offset_seconds": Noun("時刻のずれ", "clock offset", unit=SECONDS),
    "zones": Noun("区画の定義", "zone definitions", plural=True),
    # directory and roster fields read by the join checks
    "directory_accounts.password_last_set_at": Noun("パスワードを最後に設定した日時", "time the password was last set"),
    "directory_accounts.expires_at": Noun("アカウントの有効期限", "account expiry date"),
    "directory_accounts.department": Noun("部署の属性", "department attribute"),
    "hr_roster.department": Noun("所属", "department"),
    "hr_roster.previous_department": Noun("異動前の所属", "previous department"),
    "hr_roster.event": Noun("異動区分", "personnel action"),
    "hr_roster.hired_on": Noun("採用日", "hiring date"),
    # the organisation's registers
    "exceptions_register": Noun("例外措置台帳", "exception register", en_plural="exception register entries"),
    "exceptions_register.number": Noun("番号", "entry number"),
    "exceptions_register.approval_number": Noun("承認番号", "approval number"),
    "exceptions_register.scope": Noun("対象範囲", "scope"),
    "exceptions_register.reason": Noun("理由", "reason"),
    "exceptions_register.approver": Noun("承認者", "approver"),
    "exceptions_register.controls": Noun("対象の対策", "controls concerned", plural=True),
    "exceptions_register.approved_on": Noun("承認日", "approval date"),
    "exceptions_register.starts_on": Noun("開始日", "start date"),
    "exceptions_register.ends_on": Noun("終了日", "end date"),
    "exceptions_register.status": Noun("状態", "status"),
    "asset_register": Noun("資産台帳", "asset register", en_plural="asset register entries"),
    "asset_register.asset_id": Noun("資産番号", "asset number"),
    "asset_register.host_name": Noun("ホスト名", "host name"),
    "asset_register.kind": Noun("資産の種別", "asset kind"),
    "asset_register.department": Noun("所管部署", "department in charge"),
    "asset_register.owner": Noun("管理者", "owner"),
    "asset_register.location": Noun("設置場所", "location"),
    "asset_register.confidentiality": Noun("機密性の格付け", "confidentiality class"),
    "asset_register.integrity": Noun("完全性の格付け", "integrity class"),
    "asset_register.availability": Noun("可用性の格付け", "availability class"),
    "asset_register.status": Noun("状態", "status"),
    "backup_jobs": Noun("バックアップのジョブ", "backup job"),
    "backup_jobs.job": Noun("ジョブ名", "job name"),
    "backup_jobs.system": Noun("対象システム", "system backed up"),
    "backup_jobs.last_success": Noun("最後に成功した日", "last successful run"),
    "backup_jobs.last_restore_test": Noun("最後に復元を試験した日", "last restore test"),
    "cloud_services": Noun("クラウドサービス", "cloud service"),
    "cloud_services.service": Noun("サービス名", "service name"),
    "cloud_services.provider": Noun("提供事業者", "provider"),
    "cloud_services.confidentiality": Noun("扱う情報の機密性の格付け",
                                           "confidentiality class of the information it holds"),
    "cloud_services.approved_by": Noun("利用の承認者", "approver"),
    "cloud_services.approved_on": Noun("利用の承認日", "approval date"),
    "cloud_services.ismap_id": Noun("ISMAP の登録番号", "ISMAP registration number"),
    "vendor_accounts": Noun("委託先IDの台帳", "contractor account register",
                            en_plural="contractor account register entries"),
    "vendor_accounts.account": Noun("アカウント名", "account name"),
    "vendor_accounts.vendor": Noun("委託先", "contractor"),
    "vendor_accounts.contract": Noun("契約", "contract"),
    "vendor_accounts.contract_start": Noun("契約開始日", "contract start"),
    "vendor_accounts.contract_end": Noun("契約終了日", "contract end"),
    "self_inspections": Noun("自己点検の記録", "self-inspection record"),
    "self_inspections.department": Noun("所属", "department"),
    "self_inspections.system": Noun("対象システム", "system inspected"),
    "self_inspections.performed_on": Noun("実施日", "date of the inspection"),
    "self_inspections.finding": Noun("指摘事項", "finding"),
    "self_inspections.finding_status": Noun("指摘事項の対応状況", "status of the finding"),
    "self_inspections.due_date": Noun("改善の期限", "due date of the remedy"),
    "self_inspections.closed_on": Noun("改善の完了日", "date the finding was closed"),
    "audit_targets": Noun("監査対象", "audit target"),
    "audit_targets.id": Noun("対象 ID", "target ID"),
    "audit_targets.kind": Noun("対象の種類", "target kind"),
    "audit_targets.segment": Noun("区画", "segment"),
    "audit_targets.department": Noun("部署", "department"),
    "audit_targets.collected_at": Noun("証跡の収集日時", "evidence collection time"),
    # endpoint areas of issue #14
    "audit_policy": Noun("監査ポリシー", "audit policy"),
    "autorun": Noun("自動実行（AutoRun）の設定", "AutoRun settings", plural=True),
    "autorun.no_drive_type_autorun": Noun("NoDriveTypeAutoRun の値", "NoDriveTypeAutoRun value"),
    "autorun.no_autorun": Noun("NoAutorun の値", "NoAutorun value"),
    "wifi_profiles": Noun("無線LANの設定", "wireless LAN settings", plural=True),
    "wifi_profiles.profiles": Noun("無線LANのプロファイル", "wireless LAN profile"),
    "wifi_profiles.profiles.name": Noun("プロファイル名", "profile name"),
    "wifi_profiles.profiles.ssid": Noun("SSID", "SSID", raw=True),
    "wifi_profiles.profiles.authentication": Noun("認証方式", "authentication method"),
    "linux_baseline": Noun("サーバー", "server"),
    "linux_baseline.login_defs": Noun("login.defs の設定", "login.defs settings", plural=True),
    "linux_baseline.login_defs.umask": Noun("既定の umask", "default umask"),
    "linux_baseline.passwd": Noun("ユーザー一覧（/etc/passwd）", "user list (/etc/passwd)"),
    "linux_baseline.passwd.duplicate_uids": Noun("UID が重複するユーザーの一覧", "list of users sharing a UID"),
    "linux_baseline.passwd.duplicate_names": Noun("名前が重複するユーザーの一覧", "list of duplicated user names"),
    "linux_baseline.passwd.unshadowed": Noun("パスワードを /etc/shadow に置いていないユーザーの一覧",
                                             "list of users whose password is not kept in /etc/shadow"),
    "linux_baseline.home_directories": Noun("ホームディレクトリ", "home directory", en_plural="home directories"),
    "linux_baseline.home_directories.user": Noun("利用者", "user"),
    "linux_baseline.home_directories.path": Noun("パス", "path"),
    "linux_baseline.account_files": Noun("アカウント情報のファイル", "account files", plural=True),
    "linux_baseline.mounts": Noun("マウントポイント", "mount point"),
    "linux_baseline.mounts.path": Noun("ディレクトリ", "directory"),
    "linux_baseline.network_protocols": Noun("ネットワークプロトコル", "network protocol"),
    "linux_baseline.network_protocols.name": Noun("名前", "name"),
    "linux_baseline.file_integrity": Noun("ファイル改ざん検知の仕組み", "file integrity checker"),
    "linux_baseline.logrotate": Noun("ログローテーション（logrotate）", "log rotation (logrotate)"),
    "linux_baseline.sysctl": Noun("カーネルパラメータ", "kernel parameters", plural=True),
    "ssh_server.client_alive_interval": Noun("SSH の無通信確認の間隔（ClientAliveInterval）",
                                             "SSH keep-alive interval (ClientAliveInterval)", unit=SECONDS),
    "ssh_server.settings": Noun("SSH サーバーの設定", "SSH server settings", plural=True),
    "ssh_server.settings.x11forwarding": Noun("SSH の X11 転送（X11Forwarding）", "SSH X11 forwarding (X11Forwarding)"),
    "password_policy.min_age_days": Noun("パスワードを再び変更できるまでの日数", "minimum password age", unit=DAYS),
    "listening.process": Noun("プロセス名", "process name"),
    "segments.addresses": Noun("端末のアドレス", "address of the host", en_plural="addresses of the host"),
    "segments.addresses.zone": Noun("属する区画", "zone"),
    "segments.addresses.interface": Noun("インターフェース", "interface"),
    "services": Noun("サービス", "service"),
    "services.name": Noun("サービス名", "service name"),
    "services.display_name": Noun("表示名", "display name"),
    "services.state": Noun("状態", "state"),
    "services.start_mode": Noun("スタートアップの種類", "start mode"),
    "services.processes": Noun("プロセス名", "process names", plural=True),
    # the domain's fine-grained password policies and its built-in Administrator (issue #17)
    "directory_accounts.rid": Noun("相対識別子（RID）", "relative identifier (RID)"),
    "fine_grained_password_policies": Noun("きめ細かいパスワードポリシー", "fine-grained password policy",
                                           en_plural="fine-grained password policies"),
    "fine_grained_password_policies.name": Noun("ポリシー名", "policy name"),
    "fine_grained_password_policies.effective_for": Noun("適用先のグループ・ユーザー", "list of the groups and "
                                                         "users it is in force for"),
    "fine_grained_password_policies.min_length": Noun("パスワードの最小文字数", "minimum password length",
                                                      unit=CHARS),
    "fine_grained_password_policies.min_char_classes": Noun("パスワードに求める文字種の数",
                                                            "number of character classes a password needs"),
    "fine_grained_password_policies.max_age_days": Noun("パスワードの有効期間", "maximum password age", unit=DAYS),
    "fine_grained_password_policies.history": Noun("記憶するパスワード履歴の数", "number of remembered passwords"),
    "fine_grained_password_policies.lockout_threshold": Noun("ロックアウトまでのログオン失敗回数",
                                                             "number of failed logons before lockout", unit=TIMES),
    "fine_grained_password_policies.lockout_duration_minutes": Noun("ロックアウトの継続時間", "lockout duration",
                                                                    unit=MINUTES),
}

# The files whose owner and permissions linux_baseline.account_files records.
for _file in ("passwd", "group", "shadow", "gshadow"):
    _path = f"linux_baseline.account_files.{_file}"
    NOUNS[_path] = Noun(f"/etc/{_file}", f"/etc/{_file}", raw=True)
    NOUNS[f"{_path}.mode"] = Noun(f"/etc/{_file} の権限", f"permissions of /etc/{_file}", plural=True)
    NOUNS[f"{_path}.uid"] = Noun(f"/etc/{_file} の所有者の UID", f"owner UID of /etc/{_file}")

# Fields named by a prefix and the rest of their path, as written (kernel parameters by their sysctl name).
PREFIXES: dict[str, tuple[str, str]] = {
    "linux_baseline.sysctl.": ("カーネルパラメータ ", "kernel parameter "),
}

# One record of a list, where it is not called as its list is.
ITEMS: dict[str, Noun] = {
    "hr_roster": Noun("人事名簿の記録", "HR roster entry", animate=False),
    "segments.segments": Noun("区画", "segment"),
    "firewall.profiles": Noun("ファイアウォールのプロファイル", "firewall profile"),
    "firewall_rules": Noun("ファイアウォールの規則", "firewall rule"),
    "exceptions_register": Noun("例外措置台帳の記録", "exception register entry"),
    "asset_register": Noun("資産台帳の記録", "asset register entry"),
    "vendor_accounts": Noun("委託先IDの台帳の記録", "contractor account register entry"),
}

# Boolean fields: path -> what their values say of the thing that has them.
FLAGS: dict[str, Flag] = {
    "accounts.enabled": Flag(("有効である", "is enabled"), ("無効である", "is disabled"), ("有効な", "enabled")),
    "accounts.system": Flag(
        ("システム用である", "is a system account"),
        ("システム用でない", "is not a system account"),
        ("システム用の", "system"),
    ),
    "accounts.login_allowed": Flag(
        ("ログインできる", "can log in"),
        ("ログインできない", "cannot log in"),
        ("ログインできる", "login-capable"),
    ),
    "accounts.locked": Flag(("ロックされている", "is locked"), ("ロックされていない", "is not locked")),
    "accounts.password_set": Flag(
        ("パスワードが設定されている", "has a password set"),
        ("パスワードが設定されていない", "has no password set"),
    ),
    "accounts.password_empty": Flag(
        ("パスワードが空である", "has an empty password"),
        ("パスワードが空でない", "does not have an empty password"),
    ),
    "directory_accounts.enabled": Flag(
        ("有効である", "is enabled"),
        ("無効である", "is disabled"),
        ("有効な", "enabled"),
    ),
    "directory_accounts.password_never_expires": Flag(
        ("パスワードが無期限である", "has a password that never expires"),
        ("パスワードに有効期限がある", "has a password that expires"),
    ),
    "directory_accounts.password_not_required": Flag(
        ("パスワードなしでも使える", "may have no password"),
        ("パスワードが必須である", "requires a password"),
    ),
    "fine_grained_password_policies.reversible_encryption": Flag(
        ("パスワードを元に戻せる形で保存する", "stores passwords in a reversible form"),
        ("パスワードを元に戻せる形で保存しない", "does not store passwords in a reversible form"),
    ),
    "password_policy.reversible_encryption": Flag(
        ("パスワードを元に戻せる形で保存する", "stores passwords in a reversible form"),
        ("パスワードを元に戻せる形で保存しない", "does not store passwords in a reversible form"),
    ),
    "lockout_policy.enabled": Flag(("有効である", "is enabled"), ("無効である", "is disabled")),
    "antimalware.installed": Flag(("導入されている", "is installed"), ("導入されていない", "is not installed")),
    "antimalware.running": Flag(("動作している", "is running"), ("動作していない", "is not running")),
    "antimalware.realtime_enabled": Flag(
        ("リアルタイム保護が有効である", "has real-time protection enabled"),
        ("リアルタイム保護が無効である", "has real-time protection disabled"),
    ),
    "audit_daemon.active": Flag(("動作している", "is running"), ("動作していない", "is not running")),
    "audit_policy.subcategories.success": Flag(
        ("成功を記録する", "records successes"),
        ("成功を記録しない", "does not record successes"),
    ),
    "audit_policy.subcategories.failure": Flag(
        ("失敗を記録する", "records failures"),
        ("失敗を記録しない", "does not record failures"),
    ),
    "disk_encryption.system_encrypted": Flag(
        ("システムドライブが暗号化されている", "has the system drive encrypted"),
        ("システムドライブが暗号化されていない", "does not have the system drive encrypted"),
    ),
    "disk_encryption.all_fixed_encrypted": Flag(
        ("すべての固定ドライブが暗号化されている", "has every fixed drive encrypted"),
        ("暗号化されていない固定ドライブがある", "has a fixed drive not encrypted"),
    ),
    "disk_encryption.volumes.protection_on": Flag(
        ("保護が有効である", "has protection on"),
        ("保護が無効である", "has protection off"),
    ),
    "firewall.enabled": Flag(("有効である", "is enabled"), ("無効である", "is disabled")),
    "firewall.profiles.enabled": Flag(("有効である", "is enabled"), ("無効である", "is disabled")),
    "interfaces.up": Flag(("稼働している", "is up"), ("停止している", "is down"), ("稼働中の", "active")),
    "interfaces.wireless": Flag(
        ("無線である", "is wireless"),
        ("無線でない", "is not wireless"),
        ("無線の", "wireless"),
    ),
    "listening.loopback": Flag(
        ("ループバックアドレスだけで待ち受ける", "listens on a loopback address only"),
        ("外部から到達できるアドレスで待ち受ける", "listens on an address reachable from outside"),
    ),
    "logging.forwarding": Flag(
        ("ログを別のサーバーへ転送する", "forwards logs to another server"),
        ("ログを転送しない", "does not forward logs"),
    ),
    "antimalware.products.running": Flag(("動作している", "is running"), ("動作していない", "is not running"),
                                         ("動作中の", "running")),
    "logging.journald.active": Flag(("動作している", "is running"), ("動作していない", "is not running")),
    "logging.journald.persistent": Flag(("ログをディスクに保存する", "keeps its log on disk"),
                                        ("ログをディスクに保存しない", "does not keep its log on disk")),
    "logging.syslog.active": Flag(("動作している", "is running"), ("動作していない", "is not running")),
    "remote_desktop.enabled": Flag(("有効である", "is enabled"), ("無効である", "is disabled")),
    "removable_media.storage_blocked": Flag(
        ("外部記録媒体の使用を禁止している", "blocks removable storage"),
        ("外部記録媒体の使用を禁止していない", "does not block removable storage"),
    ),
    "removable_media.write_blocked": Flag(
        ("外部記録媒体への書き込みを禁止している", "blocks writing to removable storage"),
        ("外部記録媒体への書き込みを禁止していない", "does not block writing to removable storage"),
    ),
    "removable_media.allowlist_enforced": Flag(
        ("登録済みの媒体だけを許可している", "allows registered devices only"),
        ("登録外の媒体も許可している", "allows unregistered devices"),
    ),
    "routing.ip_forward_v4": Flag(
        ("IPv4 のパケット転送が有効である", "has IPv4 forwarding on"),
        ("IPv4 のパケット転送が無効である", "has IPv4 forwarding off"),
    ),
    "routing.ip_forward_v6": Flag(
        ("IPv6 のパケット転送が有効である", "has IPv6 forwarding on"),
        ("IPv6 のパケット転送が無効である", "has IPv6 forwarding off"),
    ),
    "screen_lock.enabled": Flag(("有効である", "is enabled"), ("無効である", "is disabled")),
    "screen_lock.password_on_resume": Flag(
        ("解除にパスワードを求める", "asks for a password to unlock"),
        ("解除にパスワードを求めない", "does not ask for a password to unlock"),
    ),
    "time_sync.synchronized": Flag(("同期している", "is synchronised"), ("同期していない", "is not synchronised")),
    "time_sync.ntp_enabled": Flag(
        ("NTP による同期が有効である", "has NTP synchronisation enabled"),
        ("NTP による同期が無効である", "has NTP synchronisation disabled"),
    ),
    "training_records.completed": Flag(
        ("修了している", "is completed"),
        ("修了していない", "is not completed"),
        ("修了済みの", "completed"),
    ),
    "self_inspections.reported": Flag(
        ("報告済みである", "has been reported"),
        ("報告されていない", "has not been reported"),
    ),
    "autorun.all_drives_disabled": Flag(
        ("すべてのドライブで自動実行を止めている", "turns AutoRun off on every drive"),
        ("自動実行が働くドライブがある", "leaves AutoRun on for some drive"),
    ),
    "autorun.autorun_commands_disabled": Flag(
        ("autorun.inf のコマンドを実行しない", "ignores the commands of autorun.inf"),
        ("autorun.inf のコマンドを実行する", "runs the commands of autorun.inf"),
    ),
    "wifi_profiles.wlan_service": Flag(
        ("無線LANのサービスが動作している", "has the wireless LAN service running"),
        ("無線LANのサービスが動作していない", "does not have the wireless LAN service running"),
    ),
    "linux_baseline.ipv6_enabled": Flag(
        ("IPv6 が有効である", "has IPv6 enabled"),
        ("IPv6 が無効である", "has IPv6 disabled"),
    ),
    "linux_baseline.login_defs.umask_set": Flag(
        ("既定の umask を定めている", "sets a default umask"),
        ("既定の umask を定めていない", "does not set a default umask"),
    ),
    "linux_baseline.login_defs.umask_masks_group_write": Flag(
        ("既定の umask がグループの書き込みを禁じている", "has a default umask that denies group write"),
        ("既定の umask がグループの書き込みを禁じていない", "has a default umask that allows group write"),
    ),
    "linux_baseline.login_defs.umask_masks_other": Flag(
        ("既定の umask がその他のユーザーの権限をすべて禁じている", "has a default umask that gives others no access"),
        ("既定の umask がその他のユーザーの権限を禁じていない", "has a default umask that gives others some access"),
    ),
    "linux_baseline.home_directories.exists": Flag(("存在する", "exists"), ("存在しない", "does not exist"),
                                                   ("存在する", "existing")),
    "linux_baseline.home_directories.owned_by_user": Flag(
        ("利用者本人が所有している", "is owned by its user"),
        ("利用者本人が所有していない", "is not owned by its user"),
    ),
    "linux_baseline.home_directories.group_write": Flag(
        ("グループに書き込み権限がある", "is writable by its group"),
        ("グループに書き込み権限がない", "is not writable by its group"),
    ),
    "linux_baseline.home_directories.other_read": Flag(
        ("その他のユーザーに読み取り権限がある", "is readable by others"),
        ("その他のユーザーに読み取り権限がない", "is not readable by others"),
    ),
    "linux_baseline.home_directories.other_write": Flag(
        ("その他のユーザーに書き込み権限がある", "is writable by others"),
        ("その他のユーザーに書き込み権限がない", "is not writable by others"),
    ),
    "linux_baseline.home_directories.other_exec": Flag(
        ("その他のユーザーが中へ移動できる", "can be entered by others"),
        ("その他のユーザーが中へ移動できない", "cannot be entered by others"),
    ),
    "linux_baseline.mounts.separate": Flag(
        ("独立したファイルシステムである", "is a file system of its own"),
        ("独立したファイルシステムでない", "is not a file system of its own"),
    ),
    "linux_baseline.network_protocols.loaded": Flag(
        ("カーネルに読み込まれている", "is loaded in the kernel"),
        ("カーネルに読み込まれていない", "is not loaded in the kernel"),
    ),
    "linux_baseline.network_protocols.disabled": Flag(
        ("読み込めないよう無効にされている", "is blocked from loading"),
        ("読み込めないようにはされていない", "is not blocked from loading"),
    ),
    "linux_baseline.network_protocols.available": Flag(
        ("このカーネルで利用できる", "is available in this kernel"),
        ("このカーネルでは利用できない", "is not available in this kernel"),
    ),
    "linux_baseline.file_integrity.installed": Flag(("導入されている", "is installed"),
                                                    ("導入されていない", "is not installed")),
    "linux_baseline.logrotate.installed": Flag(
        ("導入されている", "is installed"),
        ("導入されていない", "is not installed"),
    ),
    "linux_baseline.logrotate.configured": Flag(
        ("設定されている", "is configured"),
        ("設定されていない", "is not configured"),
    ),
    "linux_baseline.logrotate.scheduled": Flag(
        ("定期的に実行される", "runs on a schedule"),
        ("定期的には実行されない", "does not run on a schedule"),
    ),
}

# Text values with words: (path, value) -> (ja, en).
VALUES: dict[tuple[str, str], tuple[str, str]] = {
    ("hr_roster.status", "active"): ("在職", "active"),
    ("hr_roster.status", "left"): ("退職", "left"),
    ("hr_roster.status", "leave"): ("休職", "on leave"),
    ("hr_roster.status", "other"): ("その他", "other"),
    ("local_admins.kind", "user"): ("ユーザー", "user"),
    ("local_admins.kind", "group"): ("グループ", "group"),
    ("os.family", "windows"): ("Windows", "Windows"),
    ("os.family", "linux"): ("Linux", "Linux"),
    ("hr_roster.event", "hire"): ("採用", "hiring"),
    ("hr_roster.event", "transfer"): ("異動", "transfer"),
    ("hr_roster.event", "left"): ("退職", "leaving"),
    ("hr_roster.event", "leave"): ("休職", "leave"),
    ("hr_roster.event", "other"): ("その他", "other"),
    ("exceptions_register.status", "active"): ("有効", "in force"),
    ("exceptions_register.status", "closed"): ("終了", "closed"),
    ("exceptions_register.status", "other"): ("その他", "other"),
    ("asset_register.status", "active"): ("使用中", "in use"),
    ("asset_register.status", "disposed"): ("廃棄済み", "disposed of"),
    ("asset_register.status", "stored"): ("保管中", "in storage"),
    ("asset_register.status", "other"): ("その他", "other"),
    ("self_inspections.finding_status", "open"): ("未完了", "open"),
    ("self_inspections.finding_status", "closed"): ("完了", "closed"),
    ("services.state", "running"): ("実行中", "running"),
    ("services.state", "stopped"): ("停止", "stopped"),
    ("services.state", "other"): ("その他", "other"),
    ("services.start_mode", "auto"): ("自動", "automatic"),
    ("services.start_mode", "manual"): ("手動", "manual"),
    ("services.start_mode", "disabled"): ("無効", "disabled"),
    ("audit_targets.kind", "endpoint"): ("端末", "endpoint"),
    ("audit_targets.kind", "directory"): ("ディレクトリ", "directory"),
    ("audit_targets.kind", "network"): ("ネットワーク機器", "network device"),
    ("audit_targets.kind", "organization"): ("組織", "organisation"),
}

# The segments of the three-layer separation, for zone selectors.
SEGMENTS: dict[str, tuple[str, str]] = {
    "mynumber": ("マイナンバー利用事務系", "the My Number segment"),
    "lgwan": ("LGWAN 接続系", "the LGWAN segment"),
    "internet": ("インターネット接続系", "the Internet segment"),
    "external": ("外部（どの区画にも属さないアドレス）", "outside (addresses in no zone)"),
}


def noun_of(path: str, key: str, display: str) -> Noun:
    """The words for the field at ``path``; its name as written when none are known."""
    found = NOUNS.get(path)
    if found is not None:
        return found
    for prefix, (ja, en) in PREFIXES.items():
        if path.startswith(prefix):
            return Noun(ja + path[len(prefix):], en + path[len(prefix):])
    return Noun(display or key, display or key, raw=True)


def item_of(path: str, display: str) -> Noun:
    """The noun for one record of the list at ``path``."""
    return ITEMS.get(path) or NOUNS.get(path) or ITEM


def flag_of(path: str) -> Flag | None:
    return FLAGS.get(path)


def value_word(path: str, value: object) -> tuple[str, str] | None:
    """Words for a text value of the field at ``path`` (退職 for ``left``), if it has any."""
    return VALUES.get((path, value)) if isinstance(value, str) else None
