#Requires -Version 5.1
<#
.SYNOPSIS
    Collects raw security evidence from this Windows computer for lg-security-auditor.

.DESCRIPTION
    Each step runs one Windows tool or cmdlet and writes its output, unchanged, into one
    folder; manifest.json lists every step, the file it wrote and, when the step failed
    (command missing, access denied, service stopped), the error. The folder is then
    zipped next to itself. Import the zip (or the folder) on the auditor's computer:

        auditor import windows-raw auditor-raw-PC-101-20261102084107.zip --out PC-101.json

    Nothing on this computer is changed, no network connection is made and no module has
    to be installed: Windows PowerShell 5.1 as shipped with Windows 10 and 11 is enough.

    Run it from an elevated PowerShell ("Run as administrator") to collect everything.
    Without elevation the steps that need it (secedit, auditpol, BitLocker) are recorded
    in the manifest as failed, and the checks that need them report "error", never "pass".

    It also runs where PowerShell 7 runs without Windows (no $env:SystemRoot, no Windows
    identity, no registry or CIM): every step that cannot run there is recorded as failed
    with the reason, and the manifest and zip are written all the same.

    NOT collected, on purpose: passwords or password hashes, the SAM or LSA secrets,
    BitLocker recovery passwords or key protectors, Wi-Fi keys (netsh is never asked for
    key=clear: only each profile's SSID and authentication are read), certificates or
    private keys.

.PARAMETER OutputDirectory
    The folder to write. Default: .\auditor-raw-<COMPUTERNAME>-<yyyyMMddHHmmss>

.PARAMETER NoZip
    Do not write <folder>.zip.

.EXAMPLE
    powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\collect-windows.ps1
#>
[CmdletBinding()]
param(
    [string]$OutputDirectory,
    [switch]$NoZip
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'   # Compress-Archive's progress bar is slow in 5.1

$Format = 'auditor-windows-raw/1'
$ScriptVersion = '1'
$Invariant = [System.Globalization.CultureInfo]::InvariantCulture
$Utf8WithBom = New-Object System.Text.UTF8Encoding -ArgumentList $true
# Native tools write in the console's OEM code page (CP932 on Japanese Windows); only used
# here to put their error messages into the manifest. Their output files are kept as bytes.
# .NET without its code-page provider (PowerShell 7 elsewhere) may lack it: UTF-8 then.
try {
    $OemEncoding = [System.Text.Encoding]::GetEncoding(
        [System.Globalization.CultureInfo]::CurrentCulture.TextInfo.OEMCodePage)
} catch {
    $OemEncoding = New-Object System.Text.UTF8Encoding -ArgumentList $false
}
$AdministratorsSid = 'S-1-5-32-544'                             # BUILTIN\Administrators, any language
$RemovableDiskClass = '{53f5630d-b6bf-11d0-94f2-00a0c91efb8b}'  # the removable-disk device class

# 64-bit registry view and System32 even when a 32-bit PowerShell runs on 64-bit Windows.
# No $env:SystemRoot (PowerShell 7 on another system): no Windows tool can be run, and each
# step that runs one records why it could not.
if ([Environment]::Is64BitOperatingSystem) { $MachineView = 'Registry64' } else { $MachineView = 'Registry32' }
$SystemDir = $null
if ($env:SystemRoot) {
    if ([Environment]::Is64BitOperatingSystem -and -not [Environment]::Is64BitProcess) {
        $SystemDir = Join-Path $env:SystemRoot 'Sysnative'
    } else {
        $SystemDir = Join-Path $env:SystemRoot 'System32'
    }
}
$ComputerName = $env:COMPUTERNAME
if (-not $ComputerName) { $ComputerName = [Environment]::MachineName }

function Get-Now {
    # An instant with its offset, e.g. 2026-11-02T08:41:07+09:00, whatever the culture.
    (Get-Date).ToString("yyyy-MM-dd'T'HH:mm:sszzz", $Invariant)
}

function Get-RunAs {
    # Who runs this script and whether elevated. Where the Windows identity API is missing
    # (PowerShell 7 on another system), Elevated is $null (unknown) and Error says why.
    try {
        $identity = [System.Security.Principal.WindowsIdentity]::GetCurrent()
        $principal = New-Object System.Security.Principal.WindowsPrincipal -ArgumentList $identity
        return [pscustomobject]@{
            User     = $identity.Name
            Elevated = $principal.IsInRole([System.Security.Principal.WindowsBuiltInRole]::Administrator)
            Error    = $null
        }
    } catch {
        return [pscustomobject]@{ User = [Environment]::UserName; Elevated = $null; Error = $_.Exception.Message }
    }
}

$RunAs = Get-RunAs
$IsElevated = $RunAs.Elevated -eq $true
$StartedAt = Get-Now

if (-not $OutputDirectory) {
    $stamp = (Get-Date).ToString('yyyyMMddHHmmss', $Invariant)
    $OutputDirectory = Join-Path (Get-Location).ProviderPath ('auditor-raw-{0}-{1}' -f $ComputerName, $stamp)
}
$OutDir = (New-Item -ItemType Directory -Path $OutputDirectory -Force).FullName
$Steps = New-Object System.Collections.ArrayList

# ------------------------------------------------------------------ step bookkeeping

function Add-Step {
    # One manifest entry. status is ok or failed; a failed step has its error message and
    # the exception type (or NotElevated, ExitCode, Timeout) so that the importer can say why.
    param([string]$Name, [string]$File, [string]$Command, [string]$Status,
          $Message = $null, $ErrorType = $null, $ExitCode = $null)
    $entry = [pscustomobject]@{
        name       = $Name
        file       = $File
        command    = $Command
        status     = $Status
        exit_code  = $ExitCode
        error      = $Message
        error_type = $ErrorType
    }
    [void]$Steps.Add($entry)
    if ($Status -eq 'ok') {
        Write-Host ('  ok      {0,-18} {1}' -f $Name, $File)
    } else {
        Write-Host ('  FAILED  {0,-18} {1}' -f $Name, $Message) -ForegroundColor Yellow
    }
}

function Write-TextFile {
    # UTF-8 with a byte-order mark, as -Encoding UTF8 writes it in Windows PowerShell 5.1.
    param([string]$File, [string]$Text)
    [System.IO.File]::WriteAllText((Join-Path $OutDir $File), $Text, $Utf8WithBom)
}

function Test-Elevation {
    param([string]$Name, [string]$File, [string]$Command)
    if ($IsElevated) { return $true }
    if ($null -eq $RunAs.Elevated) {
        Add-Step -Name $Name -File $File -Command $Command -Status 'failed' -ErrorType 'ElevationUnknown' `
            -Message ('needs administrator rights, and whether PowerShell runs as administrator cannot be told: ' +
                      $RunAs.Error)
    } else {
        Add-Step -Name $Name -File $File -Command $Command -Status 'failed' -ErrorType 'NotElevated' `
            -Message 'needs administrator rights: run PowerShell as administrator'
    }
    return $false
}

function Invoke-JsonStep {
    # Runs a script block and writes what it returns with ConvertTo-Json (a list unless -Single).
    # ConvertTo-Json is left to write DateTime values its own way ("\/Date(ms)\/" in 5.1).
    param([string]$Name, [string]$File, [string]$Command, [scriptblock]$Collect,
          [switch]$Single, [switch]$RequiresAdmin)
    if ($RequiresAdmin -and -not (Test-Elevation $Name $File $Command)) { return $false }
    try {
        $result = & $Collect
        if ($Single -and $null -eq $result) {
            Add-Step -Name $Name -File $File -Command $Command -Status 'failed' -ErrorType 'NoOutput' `
                -Message 'the command returned nothing'
            return $false
        }
        if ($Single) {
            $json = ConvertTo-Json -InputObject $result -Depth 6
        } else {
            # -InputObject @(...) keeps an empty or one-element result a JSON array.
            $json = ConvertTo-Json -InputObject @($result) -Depth 6
        }
        Write-TextFile -File $File -Text $json
        Add-Step -Name $Name -File $File -Command $Command -Status 'ok'
        return $true
    } catch {
        Add-Step -Name $Name -File $File -Command $Command -Status 'failed' `
            -Message $_.Exception.Message -ErrorType $_.Exception.GetType().FullName
        return $false
    }
}

function Invoke-CsvStep {
    # Pipes what a script block returns to Export-Csv (UTF-8 with BOM, with 5.1's #TYPE line).
    param([string]$Name, [string]$File, [string]$Command, [scriptblock]$Collect)
    try {
        & $Collect | Export-Csv -LiteralPath (Join-Path $OutDir $File) -Encoding UTF8
        if (-not (Test-Path -LiteralPath (Join-Path $OutDir $File))) {
            # Export-Csv writes no file at all for no objects: an empty list is not taken for "none".
            Add-Step -Name $Name -File $File -Command $Command -Status 'failed' -ErrorType 'NoOutput' `
                -Message 'the command returned nothing'
            return $false
        }
        Add-Step -Name $Name -File $File -Command $Command -Status 'ok'
        return $true
    } catch {
        Add-Step -Name $Name -File $File -Command $Command -Status 'failed' `
            -Message $_.Exception.Message -ErrorType $_.Exception.GetType().FullName
        return $false
    }
}

function Read-OemText {
    # First lines of a native tool's message file, for the manifest.
    param([string]$Path)
    if (-not (Test-Path -LiteralPath $Path)) { return '' }
    $text = $OemEncoding.GetString([System.IO.File]::ReadAllBytes($Path))
    $lines = @($text -split "`r?`n" | Where-Object { $_.Trim() } | Select-Object -First 4)
    return (($lines | ForEach-Object { $_.Trim() }) -join ' ')
}

function Start-NativeTool {
    # Runs a Windows tool through cmd.exe so that its output reaches the file byte for byte, as
    # the tool writes it (the console code page, CP932 on Japanese Windows): PowerShell's own '>'
    # would decode and re-encode it as UTF-16. Returns the exit code, or $null when the tool did
    # not end within TimeoutSeconds (it is then stopped).
    param([string]$Exe, [string]$Arguments, [string]$StdoutPath, [string]$StderrPath, [int]$TimeoutSeconds)
    $line = '"{0}" {1} 1>"{2}" 2>"{3}"' -f (Join-Path $SystemDir $Exe), $Arguments, $StdoutPath, $StderrPath
    $info = New-Object System.Diagnostics.ProcessStartInfo
    $info.FileName = Join-Path $SystemDir 'cmd.exe'
    $info.Arguments = '/d /s /c "' + $line + '"'   # /s: cmd strips exactly the outer quotes
    $info.UseShellExecute = $false
    $info.CreateNoWindow = $true
    $info.WorkingDirectory = $SystemDir            # cmd refuses a UNC working directory
    $process = [System.Diagnostics.Process]::Start($info)
    if (-not $process.WaitForExit($TimeoutSeconds * 1000)) {
        $process.Kill()
        return $null
    }
    return $process.ExitCode
}

function Invoke-NativeStep {
    # One Windows tool's output into File (see Start-NativeTool). Standard error goes to
    # <file>.stderr.txt, kept only when not empty. -WritesFile: the tool writes the file itself
    # (secedit /cfg); its console output then goes to <file>.stdout.txt, kept only when the step fails.
    param([string]$Name, [string]$File, [string]$Exe, [string]$Arguments,
          [switch]$WritesFile, [switch]$RequiresAdmin, [int]$TimeoutSeconds = 300)
    $command = '{0} {1}' -f $Exe, $Arguments
    if ($null -eq $SystemDir) {
        Add-Step -Name $Name -File $File -Command $command -Status 'failed' -ErrorType 'NotSupported' `
            -Message ('no Windows system folder ($env:SystemRoot is not set): {0} cannot be run here' -f $Exe)
        return $false
    }
    if ($RequiresAdmin -and -not (Test-Elevation $Name $File $command)) { return $false }
    $target = Join-Path $OutDir $File
    $stderrPath = "$target.stderr.txt"
    if ($WritesFile) { $stdoutPath = "$target.stdout.txt" } else { $stdoutPath = $target }
    $toolArguments = $Arguments.Replace('{target}', $target)
    try {
        $code = Start-NativeTool -Exe $Exe -Arguments $toolArguments -StdoutPath $stdoutPath -StderrPath $stderrPath `
            -TimeoutSeconds $TimeoutSeconds
        if ($null -eq $code) {
            Add-Step -Name $Name -File $File -Command $command -Status 'failed' -ErrorType 'Timeout' `
                -Message ('no answer within {0} s' -f $TimeoutSeconds)
            return $false
        }
    } catch {
        Add-Step -Name $Name -File $File -Command $command -Status 'failed' `
            -Message $_.Exception.Message -ErrorType $_.Exception.GetType().FullName
        return $false
    }
    $message = Read-OemText $stderrPath
    if (-not $message -and $code -ne 0) { $message = Read-OemText $stdoutPath }
    if ((Test-Path -LiteralPath $stderrPath) -and (Get-Item -LiteralPath $stderrPath).Length -eq 0) {
        Remove-Item -LiteralPath $stderrPath
    }
    if ($code -ne 0 -or -not (Test-Path -LiteralPath $target)) {
        if (-not $message) { $message = 'no output' }
        Add-Step -Name $Name -File $File -Command $command -Status 'failed' -ErrorType 'ExitCode' `
            -ExitCode $code -Message $message
        return $false
    }
    if ($WritesFile -and (Test-Path -LiteralPath $stdoutPath)) { Remove-Item -LiteralPath $stdoutPath }
    Add-Step -Name $Name -File $File -Command $command -Status 'ok' -ExitCode $code
    return $true
}

# ------------------------------------------------------------------ registry, read-only

function Get-RegistryValues {
    # One key as {Hive, Path, View, Exists, Values: [{Name, Kind, Data}]}; only -Names when given.
    # A key that does not exist is Exists = false (a policy that is not configured), not an error.
    param([ValidateSet('LocalMachine', 'CurrentUser')][string]$Hive, [string]$Path, [string[]]$Names)
    if ($Hive -eq 'LocalMachine') { $view = $MachineView } else { $view = 'Default' }
    $base = [Microsoft.Win32.RegistryKey]::OpenBaseKey([Microsoft.Win32.RegistryHive]$Hive,
                                                       [Microsoft.Win32.RegistryView]$view)
    $values = New-Object System.Collections.ArrayList
    $exists = $false
    try {
        $key = $base.OpenSubKey($Path)
        if ($null -ne $key) {
            $exists = $true
            try {
                $present = @($key.GetValueNames())
                if ($Names) { $wanted = @($Names | Where-Object { $present -contains $_ }) } else { $wanted = $present }
                foreach ($name in $wanted) {
                    $data = $key.GetValue($name, $null, [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
                    [void]$values.Add([pscustomobject]@{
                        Name = $name
                        Kind = [string]$key.GetValueKind($name)
                        Data = $data
                    })
                }
            } finally {
                $key.Close()
            }
        }
    } finally {
        $base.Close()
    }
    if ($Hive -eq 'LocalMachine') { $hiveName = 'HKLM' } else { $hiveName = 'HKCU' }
    [pscustomobject]@{
        Hive   = $hiveName
        Path   = $Path
        View   = $view
        Exists = $exists
        Values = @($values)
    }
}

function Get-UninstallEntries {
    # The programs an Uninstall key lists: the values an inventory needs, nothing else.
    param([string]$Hive, [string]$View, [string]$Scope)
    $base = [Microsoft.Win32.RegistryKey]::OpenBaseKey([Microsoft.Win32.RegistryHive]$Hive,
                                                       [Microsoft.Win32.RegistryView]$View)
    try {
        $root = $base.OpenSubKey('SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall')
        if ($null -eq $root) { return }
        try {
            foreach ($subName in $root.GetSubKeyNames()) {
                $entry = $root.OpenSubKey($subName)
                if ($null -eq $entry) { continue }
                try {
                    [pscustomobject]@{
                        Scope           = $Scope
                        Key             = $subName
                        DisplayName     = $entry.GetValue('DisplayName')
                        DisplayVersion  = $entry.GetValue('DisplayVersion')
                        Publisher       = $entry.GetValue('Publisher')
                        InstallDate     = $entry.GetValue('InstallDate')
                        SystemComponent = $entry.GetValue('SystemComponent')
                    }
                } finally {
                    $entry.Close()
                }
            }
        } finally {
            $root.Close()
        }
    } finally {
        $base.Close()
    }
}

function Get-DriveTypeName {
    # Fixed or Removable (BitLocker To Go volumes are listed too).
    param([string]$MountPoint)
    try { return [string]([System.IO.DriveInfo]::new($MountPoint).DriveType) } catch { return $null }
}

function Get-VolumeDevice {
    # The volume's device path (\\?\Volume{GUID}\) for a drive letter.
    param([string]$MountPoint)
    if ($MountPoint.StartsWith('\\?\')) { return $MountPoint }
    try {
        $filter = "DriveLetter='{0}'" -f $MountPoint.TrimEnd('\')
        $volume = @(Get-CimInstance -ClassName Win32_Volume -Filter $filter)
        if ($volume.Count -gt 0) { return [string]$volume[0].DeviceID }
    } catch { }
    return $null
}

# ------------------------------------------------------------------ the steps

Write-Host ('auditor: collecting from {0} into {1}' -f $ComputerName, $OutDir)
if ($null -eq $SystemDir) {
    Write-Warning 'No $env:SystemRoot: not Windows? The steps that need Windows will be recorded as failed.'
} elseif (-not $IsElevated) {
    Write-Warning 'Not elevated: secedit, auditpol and BitLocker will be recorded as failed.'
}

# Operating system: product, version and build, host name, last boot.
[void](Invoke-JsonStep -Name 'os' -File 'os.json' -Single `
    -Command 'Get-CimInstance Win32_OperatingSystem; HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion' -Collect {
        $os = Get-CimInstance -ClassName Win32_OperatingSystem
        $current = Get-RegistryValues -Hive LocalMachine -Path 'SOFTWARE\Microsoft\Windows NT\CurrentVersion' `
            -Names 'DisplayVersion', 'UBR', 'InstallationType', 'EditionID'
        $extra = @{}
        foreach ($value in $current.Values) { $extra[$value.Name] = $value.Data }
        [pscustomobject]@{
            Caption          = $os.Caption
            Version          = $os.Version
            BuildNumber      = $os.BuildNumber
            OSArchitecture   = $os.OSArchitecture
            CSName           = $os.CSName
            LastBootUpTime   = $os.LastBootUpTime
            DisplayVersion   = $extra['DisplayVersion']
            UBR              = $extra['UBR']
            InstallationType = $extra['InstallationType']
            EditionID        = $extra['EditionID']
        }
    })

[void](Invoke-JsonStep -Name 'timezone' -File 'timezone.json' -Single -Command 'Get-TimeZone' -Collect {
    $zone = Get-TimeZone
    [pscustomobject]@{ Id = $zone.Id; DisplayName = $zone.DisplayName; BaseUtcOffset = $zone.BaseUtcOffset.ToString() }
})

# Account policy: secedit (locale-independent keys; UTF-16 LE, written by secedit itself; the
# effective policy, domain settings merged) and net accounts (localised; works without
# elevation, so the password policy is known either way).
[void](Invoke-NativeStep -Name 'secedit' -File 'secedit.inf' -Exe 'secedit.exe' `
    -Arguments '/export /mergedpolicy /cfg "{target}" /quiet' -WritesFile -RequiresAdmin)
[void](Invoke-NativeStep -Name 'net-accounts' -File 'net-accounts.txt' -Exe 'net.exe' -Arguments 'accounts')

# Installed updates: every column, with the #TYPE line Windows PowerShell 5.1 writes.
[void](Invoke-CsvStep -Name 'hotfix' -File 'hotfix.csv' -Command 'Get-HotFix | Export-Csv -Encoding UTF8' -Collect {
    Get-HotFix
})

# Audit policy, one CSV row per subcategory (needs elevation).
[void](Invoke-NativeStep -Name 'auditpol' -File 'auditpol.csv' -Exe 'auditpol.exe' `
    -Arguments '/get /category:* /r' -RequiresAdmin)

# Anti-malware: Microsoft Defender's own status, and every product registered with Windows
# Security Center (third-party products; absent on Windows Server).
[void](Invoke-JsonStep -Name 'defender' -File 'defender.json' -Single -Command 'Get-MpComputerStatus' -Collect {
    Get-MpComputerStatus | Select-Object AMServiceEnabled, AntivirusEnabled, RealTimeProtectionEnabled,
        OnAccessProtectionEnabled, BehaviorMonitorEnabled, AntivirusSignatureLastUpdated,
        AntivirusSignatureVersion, AntivirusSignatureAge, AMProductVersion, AMRunningMode, IsTamperProtected
})
[void](Invoke-JsonStep -Name 'security-center' -File 'security-center.json' `
    -Command 'Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntiVirusProduct' -Collect {
        Get-CimInstance -Namespace 'root/SecurityCenter2' -ClassName AntiVirusProduct |
            Select-Object displayName, instanceGuid, pathToSignedProductExe, productState, timestamp
    })

# BitLocker, per volume (needs elevation). KeyProtector is never read: it holds recovery passwords.
[void](Invoke-JsonStep -Name 'bitlocker' -File 'bitlocker.json' -RequiresAdmin -Command 'Get-BitLockerVolume' -Collect {
    Get-BitLockerVolume | Select-Object MountPoint,
        @{ Name = 'VolumeType'; Expression = { [string]$_.VolumeType } },
        @{ Name = 'VolumeStatus'; Expression = { [string]$_.VolumeStatus } },
        @{ Name = 'ProtectionStatus'; Expression = { [string]$_.ProtectionStatus } },
        @{ Name = 'EncryptionMethod'; Expression = { [string]$_.EncryptionMethod } },
        EncryptionPercentage,
        @{ Name = 'DriveType'; Expression = { Get-DriveTypeName $_.MountPoint } },
        @{ Name = 'Device'; Expression = { Get-VolumeDevice $_.MountPoint } }
})

# USB mass storage: the USBSTOR driver's start type, removable-storage access policy (all
# classes, and the removable-disk class) and device-installation restrictions.
[void](Invoke-JsonStep -Name 'removable-storage' -File 'removable-storage.json' `
    -Command 'registry: USBSTOR, RemovableStorageDevices, DeviceInstall\Restrictions' -Collect {
        $policies = 'SOFTWARE\Policies\Microsoft\Windows'
        Get-RegistryValues -Hive LocalMachine -Path 'SYSTEM\CurrentControlSet\Services\USBSTOR' -Names 'Start'
        Get-RegistryValues -Hive LocalMachine -Path "$policies\RemovableStorageDevices"
        Get-RegistryValues -Hive LocalMachine -Path "$policies\RemovableStorageDevices\$RemovableDiskClass"
        Get-RegistryValues -Hive LocalMachine -Path "$policies\DeviceInstall\Restrictions"
        foreach ($list in 'AllowDeviceIDs', 'AllowInstanceIDs', 'DenyDeviceIDs', 'DenyInstanceIDs', 'DenyDeviceClasses') {
            Get-RegistryValues -Hive LocalMachine -Path "$policies\DeviceInstall\Restrictions\$list"
        }
    })

# Idle lock: the machine inactivity limit, and the screen-saver policy of the user running
# this script (a user policy: run the script as a user the terminal's policies apply to).
[void](Invoke-JsonStep -Name 'screen-lock' -File 'screen-lock.json' `
    -Command 'registry: InactivityTimeoutSecs, Control Panel\Desktop policy' -Collect {
        Get-RegistryValues -Hive LocalMachine -Path 'SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System' `
            -Names 'InactivityTimeoutSecs'
        Get-RegistryValues -Hive CurrentUser -Path 'SOFTWARE\Policies\Microsoft\Windows\Control Panel\Desktop' `
            -Names 'ScreenSaveActive', 'ScreenSaverIsSecure', 'ScreenSaveTimeOut', 'SCRNSAVE.EXE'
    })

# Windows Firewall as enforced (ActiveStore: local and Group Policy settings merged).
[void](Invoke-JsonStep -Name 'firewall' -File 'firewall.json' -Command 'Get-NetFirewallProfile -PolicyStore ActiveStore' -Collect {
    Get-NetFirewallProfile -PolicyStore ActiveStore | Select-Object Name,
        @{ Name = 'Enabled'; Expression = { [string]$_.Enabled } },
        @{ Name = 'DefaultInboundAction'; Expression = { [string]$_.DefaultInboundAction } },
        @{ Name = 'DefaultOutboundAction'; Expression = { [string]$_.DefaultOutboundAction } }
})

# Network adapters (Wi-Fi marked: NdisPhysicalMedium 9 = Native 802.11) and their addresses.
[void](Invoke-JsonStep -Name 'net-adapters' -File 'net-adapters.json' -Command 'Get-NetAdapter' -Collect {
    Get-NetAdapter | Select-Object Name, InterfaceDescription, ifIndex,
        @{ Name = 'Status'; Expression = { [string]$_.Status } },
        MacAddress, MediaType, PhysicalMediaType, NdisPhysicalMedium, Virtual, HardwareInterface,
        @{ Name = 'WiFi'; Expression = { $_.NdisPhysicalMedium -eq 9 -or $_.PhysicalMediaType -eq 'Native 802.11' } }
})
[void](Invoke-JsonStep -Name 'ip-addresses' -File 'ip-addresses.json' -Command 'Get-NetIPAddress' -Collect {
    Get-NetIPAddress | Select-Object InterfaceAlias, InterfaceIndex,
        @{ Name = 'AddressFamily'; Expression = { [string]$_.AddressFamily } },
        IPAddress, PrefixLength,
        @{ Name = 'AddressState'; Expression = { [string]$_.AddressState } }
})

# Listening sockets with the name of the owning process.
$ProcessNames = @{}
try { foreach ($process in Get-Process) { $ProcessNames[[int]$process.Id] = $process.ProcessName } } catch { }
function Get-ProcessNameById {
    param($Id)
    $key = [int]$Id
    if ($ProcessNames.ContainsKey($key)) { return $ProcessNames[$key] }
    return $null
}
[void](Invoke-JsonStep -Name 'tcp-listen' -File 'tcp-listen.json' -Command 'Get-NetTCPConnection (State Listen)' -Collect {
    Get-NetTCPConnection | Where-Object { [string]$_.State -eq 'Listen' } | ForEach-Object {
        [pscustomobject]@{
            LocalAddress  = $_.LocalAddress
            LocalPort     = [int]$_.LocalPort
            OwningProcess = [int]$_.OwningProcess
            ProcessName   = Get-ProcessNameById $_.OwningProcess
        }
    }
})
[void](Invoke-JsonStep -Name 'udp-endpoints' -File 'udp-endpoints.json' -Command 'Get-NetUDPEndpoint' -Collect {
    Get-NetUDPEndpoint | ForEach-Object {
        [pscustomobject]@{
            LocalAddress  = $_.LocalAddress
            LocalPort     = [int]$_.LocalPort
            OwningProcess = [int]$_.OwningProcess
            ProcessName   = Get-ProcessNameById $_.OwningProcess
        }
    }
})

# Installed software: the Uninstall keys of the 64-bit and 32-bit views, and the user's own.
[void](Invoke-JsonStep -Name 'software' -File 'software.json' -Command 'registry: ...\CurrentVersion\Uninstall' -Collect {
    if ([Environment]::Is64BitOperatingSystem) {
        Get-UninstallEntries -Hive LocalMachine -View Registry64 -Scope 'machine-64'
        Get-UninstallEntries -Hive LocalMachine -View Registry32 -Scope 'machine-32'
    } else {
        Get-UninstallEntries -Hive LocalMachine -View Registry32 -Scope 'machine-32'
    }
    Get-UninstallEntries -Hive CurrentUser -View Default -Scope 'user'
})

# Members of the local Administrators group, found by its SID whatever its localised name.
# Get-LocalGroupMember fails on a member whose account no longer resolves (an orphaned SID);
# net localgroup still lists the members then, so it is the fallback.
$adminsOk = Invoke-JsonStep -Name 'local-admins' -File 'local-admins.json' `
    -Command "Get-LocalGroupMember -SID $AdministratorsSid" -Collect {
        Get-LocalGroupMember -SID $AdministratorsSid | Select-Object Name,
            @{ Name = 'ObjectClass'; Expression = { [string]$_.ObjectClass } },
            @{ Name = 'PrincipalSource'; Expression = { [string]$_.PrincipalSource } },
            @{ Name = 'SID'; Expression = { [string]$_.SID } }
    }
if (-not $adminsOk) {
    try {
        $sid = New-Object System.Security.Principal.SecurityIdentifier -ArgumentList $AdministratorsSid
        $adminsName = $sid.Translate([System.Security.Principal.NTAccount]).Value.Split('\')[-1]
        [void](Invoke-NativeStep -Name 'local-admins-net' -File 'local-admins.txt' -Exe 'net.exe' `
            -Arguments ('localgroup "{0}"' -f $adminsName))
    } catch {
        Add-Step -Name 'local-admins-net' -File 'local-admins.txt' -Command 'net localgroup' -Status 'failed' `
            -Message $_.Exception.Message -ErrorType $_.Exception.GetType().FullName
    }
}

# Remote desktop: whether connections are accepted, and the device-redirection policies.
[void](Invoke-JsonStep -Name 'remote-desktop' -File 'remote-desktop.json' `
    -Command 'registry: Terminal Server fDenyTSConnections, Terminal Services policy' -Collect {
        Get-RegistryValues -Hive LocalMachine -Path 'SYSTEM\CurrentControlSet\Control\Terminal Server' `
            -Names 'fDenyTSConnections'
        Get-RegistryValues -Hive LocalMachine -Path 'SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services'
    })

# Autorun and AutoPlay (GL-C07): the Explorer policies of the machine and of the user.
[void](Invoke-JsonStep -Name 'autorun' -File 'autorun.json' `
    -Command 'registry: Policies\Explorer NoDriveTypeAutoRun, NoAutorun' -Collect {
        Get-RegistryValues -Hive LocalMachine -Path 'SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\Explorer' `
            -Names 'NoDriveTypeAutoRun', 'NoAutorun'
        Get-RegistryValues -Hive CurrentUser -Path 'SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\Explorer' `
            -Names 'NoDriveTypeAutoRun', 'NoAutorun'
    })

# Services (GL-A17/A18 EDR agents, GL-A19 log forwarders): name, display name, state, start mode.
[void](Invoke-JsonStep -Name 'services' -File 'services.json' -Command 'Get-CimInstance Win32_Service' -Collect {
        Get-CimInstance -ClassName Win32_Service | Select-Object Name, DisplayName, State, StartMode
    })

# Windows Event Forwarding (GL-A19): the subscription managers Group Policy names.
[void](Invoke-JsonStep -Name 'event-forwarding' -File 'event-forwarding.json' `
    -Command 'registry: EventLog\EventForwarding\SubscriptionManager' -Collect {
        Get-RegistryValues -Hive LocalMachine `
            -Path 'SOFTWARE\Policies\Microsoft\Windows\EventLog\EventForwarding\SubscriptionManager'
    })

# Wireless LAN profiles (GL-A14): netsh's list, then each profile's settings without its key.
# A computer whose WLAN AutoConfig service is not running has no Wi-Fi; the step then fails
# with netsh's own message, which the importer reads as "no Wi-Fi", not as an error.
$wlanListed = Invoke-NativeStep -Name 'wlan-profiles' -File 'wlan-profiles.txt' -Exe 'netsh.exe' `
    -Arguments 'wlan show profiles'

function Get-WlanProfileNames {
    # The "label : name" lines under a dashed rule, in any display language.
    param([string]$Path)
    $text = $OemEncoding.GetString([System.IO.File]::ReadAllBytes($Path))
    $ruled = $false
    $names = New-Object System.Collections.ArrayList
    foreach ($line in ($text -split "`r?`n")) {
        if ($line -match '^\s*-{3,}\s*$') { $ruled = $true; continue }
        if ($ruled -and $line -match '^\s+\S.*?\s+:\s(.*\S)\s*$' -and -not $names.Contains($Matches[1])) {
            [void]$names.Add($Matches[1])
        }
    }
    return @($names)
}

function Invoke-NetshProfile {
    # netsh started directly (no cmd.exe, so a profile name cannot be read as a command), its
    # output copied byte for byte into File. Returns the exit code.
    param([string]$Name, [string]$File)
    $info = New-Object System.Diagnostics.ProcessStartInfo
    $info.FileName = Join-Path $SystemDir 'netsh.exe'
    $info.Arguments = 'wlan show profile name="{0}"' -f $Name
    $info.UseShellExecute = $false
    $info.CreateNoWindow = $true
    $info.RedirectStandardOutput = $true
    $process = [System.Diagnostics.Process]::Start($info)
    $out = [System.IO.File]::Create((Join-Path $OutDir $File))
    try { $process.StandardOutput.BaseStream.CopyTo($out) } finally { $out.Close() }
    if (-not $process.WaitForExit(60000)) { $process.Kill(); return -1 }
    return $process.ExitCode
}

[void](Invoke-JsonStep -Name 'wlan-profile-details' -File 'wlan-profile-details.json' `
    -Command 'netsh.exe wlan show profile name="<each profile>"' -Collect {
        if ($wlanListed) {
            $index = 0
            foreach ($name in (Get-WlanProfileNames (Join-Path $OutDir 'wlan-profiles.txt'))) {
                $index++
                if ($name.Contains('"')) {   # netsh cannot be given such a name on its command line
                    [pscustomobject]@{ Name = $name; File = $null; ExitCode = $null
                                       Error = 'the name holds a double quote: not passed to netsh' }
                    continue
                }
                $file = 'wlan-profile-{0:D3}.txt' -f $index
                $code = Invoke-NetshProfile -Name $name -File $file
                [pscustomobject]@{ Name = $name; File = $file; ExitCode = $code; Error = $null }
            }
        }
    })

# Time service status (works without elevation; fails when the Windows Time service is stopped).
[void](Invoke-NativeStep -Name 'w32tm' -File 'w32tm.txt' -Exe 'w32tm.exe' -Arguments '/query /status')

# ------------------------------------------------------------------ manifest and zip

$manifest = [pscustomobject]@{
    format         = $Format
    script_version = $ScriptVersion
    computer       = $ComputerName
    user           = $RunAs.User
    elevated       = $RunAs.Elevated
    powershell     = $PSVersionTable.PSVersion.ToString()
    culture        = (Get-Culture).Name
    started_at     = $StartedAt
    finished_at    = Get-Now
    steps          = @($Steps)
}
Write-TextFile -File 'manifest.json' -Text (ConvertTo-Json -InputObject $manifest -Depth 4)

$failed = @($Steps | Where-Object { $_.status -ne 'ok' }).Count
Write-Host ('auditor: {0} steps, {1} failed; folder {2}' -f $Steps.Count, $failed, $OutDir)
if (-not $NoZip) {
    $zip = "$OutDir.zip"
    Compress-Archive -LiteralPath $OutDir -DestinationPath $zip -Force
    Write-Host ('auditor: zip {0}' -f $zip)
}
