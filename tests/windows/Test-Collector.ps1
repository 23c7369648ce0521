#Requires -Version 5.1
<#
.SYNOPSIS
    Self-test of collect-windows.ps1: runs it with the Windows cmdlets and tools it calls mocked.

.DESCRIPTION
    Plain PowerShell (no Pester, no module), Windows PowerShell 5.1 or PowerShell 7 on any system.
    The collection script is run four times into a temporary folder, each time with the commands
    it calls replaced by mocks, and the manifest and files it writes are checked:

      no-windows     as where PowerShell 7 runs without Windows: no $env:SystemRoot, no Windows
                     identity, no registry, no Windows cmdlets. Every step must be recorded as
                     failed with its reason (none may die or pass), and the zip still written.
      user           a Windows terminal, not elevated: the steps that need administrator rights
                     are recorded as NotElevated and their tools never started; a cmdlet that
                     fails, a tool that fails and a tool that hangs are recorded with their error.
      admin          an elevated Windows terminal: every step succeeds from the outputs of the
                     example terminal LGPC-0101 (tests/fixtures/windows/raw-compliant), native
                     outputs byte for byte, and no BitLocker key protector is written.
      orphaned-sid   Get-LocalGroupMember fails (an orphaned SID): net localgroup is the fallback.

    Mocks are aliases, which PowerShell prefers to functions and cmdlets of the same name: the
    cmdlets (Get-CimInstance, Get-HotFix, ...), and the script's own Get-RunAs, registry readers,
    Start-NativeTool and Invoke-NetshProfile, so no Windows tool is started, nothing is read
    from this computer and nothing on it is changed.

    Prints one line per failed check and, last, "N passed, N failed"; exits 1 when a check failed.

.PARAMETER Script
    The collection script to test. Default: evidence/collectors/windows/collect-windows.ps1 of
    the source tree this file is in; give the one `auditor collect --windows-script` wrote to test it.

.PARAMETER Fixture
    The example collection whose outputs the mocks return. Default: the source tree's
    tests/fixtures/windows/raw-compliant/auditor-raw-LGPC-0101-20261102084107.

.PARAMETER KeepOutput
    A folder to keep each scenario's collection in (the Python tests import them); default: a
    temporary folder, removed at the end.

.EXAMPLE
    powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\tests\windows\Test-Collector.ps1
#>
[CmdletBinding()]
param(
    [string]$Script,
    [string]$Fixture,
    [string]$KeepOutput
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

if (-not $Script) {
    $Script = [System.IO.Path]::Combine($PSScriptRoot, '..', '..', 'evidence', 'collectors', 'windows', 'collect-windows.ps1')
}
if (-not $Fixture) {
    $Fixture = [System.IO.Path]::Combine($PSScriptRoot, '..', 'fixtures', 'windows', 'raw-compliant',
                                         'auditor-raw-LGPC-0101-20261102084107')
}
$Script = [System.IO.Path]::GetFullPath($Script)
$Fixture = [System.IO.Path]::GetFullPath($Fixture)
$OnWindows = [System.Environment]::OSVersion.Platform -eq [System.PlatformID]::Win32NT
$Utf8 = New-Object System.Text.UTF8Encoding -ArgumentList $false
$Count = @{ Passed = 0; Failed = 0 }

if ($KeepOutput) {
    $Base = (New-Item -ItemType Directory -Path $KeepOutput -Force).FullName
    $RemoveBase = $false
} else {
    $Base = Join-Path ([System.IO.Path]::GetTempPath()) ('auditor-selftest-' + [guid]::NewGuid().ToString('N'))
    [void](New-Item -ItemType Directory -Path $Base)
    $RemoveBase = $true
}

# ------------------------------------------------------------------ checking

function Test-That {
    # One check: counted, and printed when it fails.
    param([string]$Scenario, [string]$What, [bool]$Condition, [string]$Detail = '')
    if ($Condition) {
        $Count.Passed++
    } else {
        $Count.Failed++
        if ($Detail) { $Detail = ': ' + $Detail }
        Write-Host ('FAIL  {0}: {1}{2}' -f $Scenario, $What, $Detail)
    }
}

function Read-Json {
    # A JSON file as ConvertFrom-Json reads it (the byte-order mark skipped); arrays unrolled.
    # (Windows PowerShell 5.1's ConvertFrom-Json writes an array as one object; returning it from a
    # variable unrolls it, as PowerShell 7 does itself.)
    param([string]$Path)
    $parsed = ConvertFrom-Json -InputObject ([System.IO.File]::ReadAllText($Path, $Utf8))
    return $parsed
}

function Read-FixtureJson {
    param([string]$Name)
    Read-Json (Join-Path $Fixture $Name)
}

function Read-FixtureBytes {
    # A byte array, not unrolled into its bytes.
    param([string]$Name)
    $bytes = [System.IO.File]::ReadAllBytes((Join-Path $Fixture $Name))
    return ,$bytes
}

function Test-SameBytes {
    param([byte[]]$Left, [byte[]]$Right)
    if ($Left.Length -ne $Right.Length) { return $false }
    for ($i = 0; $i -lt $Left.Length; $i++) { if ($Left[$i] -ne $Right[$i]) { return $false } }
    return $true
}

# The steps the script can record, read from its text as the Python tests read them.
$ScriptText = [System.IO.File]::ReadAllText($Script, $Utf8)
$AllSteps = @([regex]::Matches($ScriptText, "Invoke-(?:Json|Csv|Native)Step -Name '([a-z0-9-]+)'") |
              ForEach-Object { $_.Groups[1].Value })
$NativeSteps = @([regex]::Matches($ScriptText, "Invoke-NativeStep -Name '([a-z0-9-]+)'") |
                 ForEach-Object { $_.Groups[1].Value })

# ------------------------------------------------------------------ mocks

# What the mocks return and record; set by each scenario.
$global:AuditorTest = @{}

function Mock-Missing {
    # A cmdlet this system does not have, as PowerShell reports it.
    $name = $MyInvocation.InvocationName
    throw (New-Object System.Management.Automation.CommandNotFoundException -ArgumentList (
        "The term '$name' is not recognized as a name of a cmdlet, function, script file, or executable program."))
}

function Mock-NoRegistry {
    throw (New-Object System.PlatformNotSupportedException -ArgumentList 'Registry is not supported on this platform.')
}

function Mock-RunAsNoIdentity {
    [pscustomobject]@{ User = 'selftest'; Elevated = $null
                       Error = 'Windows Principal functionality is not supported on this platform.' }
}

function Mock-RunAs {
    [pscustomobject]@{ User = $global:AuditorTest.User; Elevated = $global:AuditorTest.Elevated; Error = $null }
}

function Mock-Called {
    # Records a call of a mocked command; returns the fixture objects for it, or throws the
    # scenario's error for it.
    param([string]$Name, [string]$Detail = '')
    [void]$global:AuditorTest.Calls.Add(($Name + ' ' + $Detail).Trim())
    if ($global:AuditorTest.Throw.ContainsKey($Name)) { throw $global:AuditorTest.Throw[$Name] }
}

function Mock-GetCimInstance {
    param([string]$ClassName, [string]$Namespace, [string]$Filter)
    Mock-Called 'Get-CimInstance' $ClassName
    switch ($ClassName) {
        'Win32_OperatingSystem' { Read-FixtureJson 'os.json' | Select-Object Caption, Version, BuildNumber, OSArchitecture, CSName, LastBootUpTime }
        'AntiVirusProduct' { Read-FixtureJson 'security-center.json' }
        'Win32_Service' { Read-FixtureJson 'services.json' }
        'Win32_Volume' {
            foreach ($volume in @(Read-FixtureJson 'bitlocker.json')) {
                if ($Filter -eq ("DriveLetter='{0}'" -f $volume.MountPoint)) { [pscustomobject]@{ DeviceID = $volume.Device } }
            }
        }
        default { throw "Get-CimInstance: class $ClassName is not mocked" }
    }
}

function Mock-GetTimeZone {
    Mock-Called 'Get-TimeZone'
    Read-FixtureJson 'timezone.json'
}

function Mock-GetHotFix {
    Mock-Called 'Get-HotFix'
    Import-Csv -LiteralPath (Join-Path $Fixture 'hotfix.csv') -Encoding UTF8
}

function Mock-GetMpComputerStatus {
    Mock-Called 'Get-MpComputerStatus'
    Read-FixtureJson 'defender.json'
}

function Mock-GetBitLockerVolume {
    # Each volume with a key protector holding a recovery password, which must not be written.
    Mock-Called 'Get-BitLockerVolume'
    foreach ($volume in @(Read-FixtureJson 'bitlocker.json')) {
        $volume | Add-Member -NotePropertyName KeyProtector -NotePropertyValue @(
            [pscustomobject]@{ KeyProtectorType = 'RecoveryPassword'
                               RecoveryPassword = '111111-222222-333333-444444-555555-666666-777777-888888' })
        $volume
    }
}

function Mock-GetDriveTypeName {
    param([string]$MountPoint)
    foreach ($volume in @(Read-FixtureJson 'bitlocker.json')) {
        if ($volume.MountPoint -eq $MountPoint) { return $volume.DriveType }
    }
    return $null
}

function Mock-GetNetFirewallProfile {
    param([string]$PolicyStore)
    Mock-Called 'Get-NetFirewallProfile' $PolicyStore
    Read-FixtureJson 'firewall.json'
}

function Mock-GetNetAdapter {
    Mock-Called 'Get-NetAdapter'
    Read-FixtureJson 'net-adapters.json'
}

function Mock-GetNetIPAddress {
    Mock-Called 'Get-NetIPAddress'
    Read-FixtureJson 'ip-addresses.json'
}

function Mock-GetNetTCPConnection {
    # The listening sockets of the example terminal, and an established connection to leave out.
    Mock-Called 'Get-NetTCPConnection'
    foreach ($socket in @(Read-FixtureJson 'tcp-listen.json')) {
        [pscustomobject]@{ LocalAddress = $socket.LocalAddress; LocalPort = $socket.LocalPort
                           OwningProcess = $socket.OwningProcess; State = 'Listen' }
    }
    [pscustomobject]@{ LocalAddress = '192.0.2.10'; LocalPort = 49800; OwningProcess = 4; State = 'Established' }
}

function Mock-GetNetUDPEndpoint {
    Mock-Called 'Get-NetUDPEndpoint'
    foreach ($socket in @(Read-FixtureJson 'udp-endpoints.json')) {
        [pscustomobject]@{ LocalAddress = $socket.LocalAddress; LocalPort = $socket.LocalPort
                           OwningProcess = $socket.OwningProcess }
    }
}

function Mock-GetProcess {
    $seen = @{}
    foreach ($socket in @(Read-FixtureJson 'tcp-listen.json') + @(Read-FixtureJson 'udp-endpoints.json')) {
        $id = [int]$socket.OwningProcess
        if (-not $seen.ContainsKey($id) -and $socket.ProcessName) {
            $seen[$id] = $true
            [pscustomobject]@{ Id = $id; ProcessName = $socket.ProcessName }
        }
    }
}

function Mock-GetLocalGroupMember {
    param([string]$SID)
    Mock-Called 'Get-LocalGroupMember' $SID
    Read-FixtureJson 'local-admins.json'
}

function Mock-GetRegistryValues {
    # The key as the example terminal's collection recorded it; a key it has not is absent.
    param([string]$Hive, [string]$Path, [string[]]$Names)
    Mock-Called 'Get-RegistryValues' $Path
    if ($Hive -eq 'LocalMachine') { $hiveName = 'HKLM'; $view = 'Registry64' } else { $hiveName = 'HKCU'; $view = 'Default' }
    if ($Path -eq 'SOFTWARE\Microsoft\Windows NT\CurrentVersion') {
        $os = Read-FixtureJson 'os.json'
        $values = foreach ($name in $Names) {
            [pscustomobject]@{ Name = $name; Kind = 'String'; Data = $os.$name }
        }
        return [pscustomobject]@{ Hive = $hiveName; Path = $Path; View = $view; Exists = $true; Values = @($values) }
    }
    foreach ($file in 'removable-storage.json', 'screen-lock.json', 'remote-desktop.json', 'autorun.json',
                      'event-forwarding.json') {
        foreach ($key in @(Read-FixtureJson $file)) {
            if ($key.Hive -eq $hiveName -and $key.Path -eq $Path) { return $key }
        }
    }
    return [pscustomobject]@{ Hive = $hiveName; Path = $Path; View = $view; Exists = $false; Values = @() }
}

function Mock-GetUninstallEntries {
    param([string]$Hive, [string]$View, [string]$Scope)
    Mock-Called 'Get-UninstallEntries' $Scope
    @(Read-FixtureJson 'software.json') | Where-Object { $_.Scope -eq $Scope }
}

function Mock-StartNativeTool {
    # A Windows tool as cmd.exe would have run it: both redirections create their files, the
    # tool's output is the example terminal's, byte for byte; $null for a tool that hangs.
    param([string]$Exe, [string]$Arguments, [string]$StdoutPath, [string]$StderrPath, [int]$TimeoutSeconds)
    $key = ('{0} {1}' -f $Exe, ($Arguments -split ' ')[0])
    [void]$global:AuditorTest.Calls.Add(('{0} {1}' -f $Exe, $Arguments))
    [System.IO.File]::WriteAllBytes($StdoutPath, [byte[]]@())
    [System.IO.File]::WriteAllBytes($StderrPath, [byte[]]@())
    if (-not $global:AuditorTest.Tools.ContainsKey($key)) {
        [System.IO.File]::WriteAllText($StderrPath, ('not mocked: {0}' -f $key))
        return 1
    }
    $tool = $global:AuditorTest.Tools[$key]
    if ($tool.ContainsKey('Hangs')) { return $null }
    if ($tool.ContainsKey('WritesCfg') -and $Arguments -match '/cfg "([^"]+)"') {
        [System.IO.File]::WriteAllBytes($Matches[1], $tool.WritesCfg)
    }
    if ($tool.ContainsKey('Stdout')) { [System.IO.File]::WriteAllBytes($StdoutPath, $tool.Stdout) }
    if ($tool.ContainsKey('Stderr')) { [System.IO.File]::WriteAllBytes($StderrPath, $tool.Stderr) }
    return $tool.Code
}

function Mock-InvokeNetshProfile {
    param([string]$Name, [string]$File)
    [void]$global:AuditorTest.Calls.Add(('netsh.exe wlan show profile name="{0}"' -f $Name))
    [System.IO.File]::WriteAllBytes((Join-Path $global:AuditorTest.OutDir $File), (Read-FixtureBytes 'wlan-profile-001.txt'))
    return 0
}

$WindowsCmdlets = @{
    'Get-CimInstance'        = 'Mock-GetCimInstance'
    'Get-HotFix'             = 'Mock-GetHotFix'
    'Get-MpComputerStatus'   = 'Mock-GetMpComputerStatus'
    'Get-BitLockerVolume'    = 'Mock-GetBitLockerVolume'
    'Get-NetFirewallProfile' = 'Mock-GetNetFirewallProfile'
    'Get-NetAdapter'         = 'Mock-GetNetAdapter'
    'Get-NetIPAddress'       = 'Mock-GetNetIPAddress'
    'Get-NetTCPConnection'   = 'Mock-GetNetTCPConnection'
    'Get-NetUDPEndpoint'     = 'Mock-GetNetUDPEndpoint'
    'Get-LocalGroupMember'   = 'Mock-GetLocalGroupMember'
}
$WindowsMocks = $WindowsCmdlets + @{
    'Get-TimeZone'         = 'Mock-GetTimeZone'
    'Get-Process'          = 'Mock-GetProcess'
    'Get-RunAs'            = 'Mock-RunAs'
    'Get-RegistryValues'   = 'Mock-GetRegistryValues'
    'Get-UninstallEntries' = 'Mock-GetUninstallEntries'
    'Get-DriveTypeName'    = 'Mock-GetDriveTypeName'
    'Start-NativeTool'     = 'Mock-StartNativeTool'
    'Invoke-NetshProfile'  = 'Mock-InvokeNetshProfile'
}

function New-Tools {
    # The example terminal's native outputs, by "<exe> <first argument>".
    @{
        'secedit.exe /export' = @{ Code = 0; WritesCfg = (Read-FixtureBytes 'secedit.inf') }
        'net.exe accounts'    = @{ Code = 0; Stdout = (Read-FixtureBytes 'net-accounts.txt') }
        'auditpol.exe /get'   = @{ Code = 0; Stdout = (Read-FixtureBytes 'auditpol.csv') }
        'w32tm.exe /query'    = @{ Code = 0; Stdout = (Read-FixtureBytes 'w32tm.txt') }
        'netsh.exe wlan'      = @{ Code = 0; Stdout = (Read-FixtureBytes 'wlan-profiles.txt') }
        'net.exe localgroup'  = @{ Code = 0; Stdout = $Utf8.GetBytes(
            "Alias name     Administrators`r`nComment        Administrators have complete and unrestricted access`r`n`r`n" +
            "Members`r`n`r`n-------------------------------------------------------------------------------`r`n" +
            "Administrator`r`nKAKUU\Domain Admins`r`nS-1-5-21-1004336348-1177238915-682003330-1999`r`n" +
            "The command completed successfully.`r`n`r`n") }
    }
}

function Invoke-Scenario {
    # Runs the collection script with the given aliases in force (in this function's scope only,
    # so they end with it) and returns what it wrote: the folder, the manifest and its steps.
    param([string]$Name, [hashtable]$Aliases, [hashtable]$State, [switch]$Zip, [string]$SystemRoot)
    $outDir = Join-Path (Join-Path $Base $Name) ('auditor-raw-' + $Name)
    if (Test-Path -LiteralPath $outDir) { Remove-Item -LiteralPath $outDir -Recurse -Force }
    $State.OutDir = $outDir
    if (-not $State.ContainsKey('Calls')) { $State.Calls = New-Object System.Collections.ArrayList }
    if (-not $State.ContainsKey('Throw')) { $State.Throw = @{} }
    if (-not $State.ContainsKey('Tools')) { $State.Tools = @{} }
    $global:AuditorTest = $State
    foreach ($alias in $Aliases.Keys) { Set-Alias -Name $alias -Value $Aliases[$alias] -Scope Local }
    $savedRoot = $env:SystemRoot
    $env:SystemRoot = $SystemRoot
    $arguments = @{ OutputDirectory = $outDir }
    if (-not $Zip) { $arguments.NoZip = $true }
    $died = $null
    try {
        $log = & $Script @arguments 3>&1 6>&1
    } catch {
        $died = $_
    } finally {
        $env:SystemRoot = $savedRoot
    }
    Test-That $Name 'the script runs to its end' ($null -eq $died) ([string]$died)
    $result = @{ Dir = $outDir; Manifest = $null; Steps = @{}; Calls = $State.Calls }
    $manifestPath = Join-Path $outDir 'manifest.json'
    Test-That $Name 'manifest.json is written' (Test-Path -LiteralPath $manifestPath)
    if ($null -eq $died -and (Test-Path -LiteralPath $manifestPath)) {
        $result.Manifest = Read-Json $manifestPath
        foreach ($step in @($result.Manifest.steps)) { $result.Steps[$step.name] = $step }
        Test-That $Name 'the manifest is auditor-windows-raw/1' ($result.Manifest.format -eq 'auditor-windows-raw/1')
    } elseif ($null -ne $log) {
        $log | ForEach-Object { Write-Host ('      ' + $_) }
    }
    return $result
}

function Test-Step {
    param([hashtable]$Run, [string]$Scenario, [string]$Step, [string]$Status, [string]$ErrorType = '')
    if (-not $Run.Steps.ContainsKey($Step)) {
        Test-That $Scenario ('step {0} is in the manifest' -f $Step) $false
        return
    }
    $entry = $Run.Steps[$Step]
    Test-That $Scenario ('step {0} is {1}' -f $Step, $Status) ($entry.status -eq $Status) ([string]$entry.error)
    if ($Status -eq 'failed') {
        Test-That $Scenario ('step {0} says why it failed' -f $Step) ([bool]$entry.error -and [bool]$entry.error_type)
        if ($ErrorType) {
            Test-That $Scenario ('step {0} failed as {1}' -f $Step, $ErrorType) ($entry.error_type -eq $ErrorType) `
                ([string]$entry.error_type)
        }
    }
}

function Test-AllStepsRecorded {
    param([hashtable]$Run, [string]$Scenario, [string[]]$Except = @())
    foreach ($step in $AllSteps) {
        if ($Except -notcontains $step) {
            Test-That $Scenario ('step {0} is in the manifest' -f $step) $Run.Steps.ContainsKey($step)
        }
    }
}

# ------------------------------------------------------------------ no-windows

$aliases = @{}
if ($OnWindows) {
    # Make this Windows look like the systems where PowerShell 7 runs without Windows.
    foreach ($cmdlet in $WindowsCmdlets.Keys) { $aliases[$cmdlet] = 'Mock-Missing' }
    $aliases['Get-RegistryValues'] = 'Mock-NoRegistry'
    $aliases['Get-UninstallEntries'] = 'Mock-NoRegistry'
    $aliases['Get-RunAs'] = 'Mock-RunAsNoIdentity'
}
$run = Invoke-Scenario -Name 'no-windows' -Aliases $aliases -State @{} -Zip -SystemRoot $null
if ($run.Manifest) {
    $scenario = 'no-windows'
    Test-AllStepsRecorded $run $scenario
    Test-That $scenario 'elevation is unknown (null)' ($null -eq $run.Manifest.elevated)
    Test-That $scenario 'the computer is named' ([bool]$run.Manifest.computer)
    Test-That $scenario 'the user is named' ([bool]$run.Manifest.user)
    # Get-TimeZone exists everywhere; wlan-profile-details lists nothing when netsh could not run.
    $mayPass = @('timezone', 'wlan-profile-details')
    foreach ($step in $run.Steps.Keys) {
        if ($mayPass -notcontains $step) { Test-Step $run $scenario $step 'failed' }
    }
    foreach ($step in $NativeSteps) {
        # local-admins-net fails earlier where the group's name cannot be looked up from its SID.
        if ($step -ne 'local-admins-net') { Test-Step $run $scenario $step 'failed' 'NotSupported' }
    }
    Test-Step $run $scenario 'bitlocker' 'failed' 'ElevationUnknown'
    if ($run.Steps.ContainsKey('wlan-profile-details')) {
        $details = @(Read-Json (Join-Path $run.Dir 'wlan-profile-details.json'))
        Test-That $scenario 'no WLAN profile is listed without netsh' ($details.Count -eq 0)
    }
    $zip = $run.Dir + '.zip'
    Test-That $scenario 'the zip is written' (Test-Path -LiteralPath $zip)
    if (Test-Path -LiteralPath $zip) {
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $archive = [System.IO.Compression.ZipFile]::OpenRead($zip)
        try {
            $names = @($archive.Entries | ForEach-Object { $_.FullName.Replace('\', '/') })
        } finally {
            $archive.Dispose()
        }
        $manifests = @($names | Where-Object { $_ -eq 'manifest.json' -or $_ -like '*/manifest.json' })
        Test-That $scenario 'the zip holds the manifest' ($manifests.Count -eq 1) ($names -join ', ')
    }
}

# ------------------------------------------------------------------ user (not elevated)

$tools = New-Tools
$tools['w32tm.exe /query'] = @{ Code = -2147023834; Stderr = $Utf8.GetBytes(
    "The following error occurred: The service has not been started. (0x80070426)`r`n") }
$tools['net.exe accounts'] = @{ Hangs = $true }
$state = @{ User = 'PC-101\tanaka'; Elevated = $false; Tools = $tools
            Throw = @{ 'Get-MpComputerStatus' = 'Invalid class' } }
$run = Invoke-Scenario -Name 'user' -Aliases $WindowsMocks -State $state -SystemRoot ([System.IO.Path]::GetTempPath())
if ($run.Manifest) {
    $scenario = 'user'
    Test-AllStepsRecorded $run $scenario -Except @('local-admins-net')
    Test-That $scenario 'the user is recorded' ($run.Manifest.user -eq 'PC-101\tanaka')
    Test-That $scenario 'not elevated is recorded as false' ($run.Manifest.elevated -eq $false)
    foreach ($step in 'secedit', 'auditpol', 'bitlocker') { Test-Step $run $scenario $step 'failed' 'NotElevated' }
    $started = @($run.Calls | Where-Object { $_ -like 'secedit.exe*' -or $_ -like 'auditpol.exe*' -or $_ -eq 'Get-BitLockerVolume' })
    Test-That $scenario 'no tool that needs elevation is started' ($started.Count -eq 0) ($started -join '; ')
    Test-Step $run $scenario 'defender' 'failed'
    Test-That $scenario 'a failing cmdlet is recorded with its message' ($run.Steps['defender'].error -like '*Invalid class*')
    Test-Step $run $scenario 'w32tm' 'failed' 'ExitCode'
    Test-That $scenario 'a failing tool is recorded with its exit code' ($run.Steps['w32tm'].exit_code -eq -2147023834)
    Test-That $scenario 'and with its standard error' ($run.Steps['w32tm'].error -like '*has not been started*')
    Test-That $scenario 'its standard error file is kept' (Test-Path -LiteralPath (Join-Path $run.Dir 'w32tm.txt.stderr.txt'))
    Test-Step $run $scenario 'net-accounts' 'failed' 'Timeout'
    foreach ($step in 'os', 'timezone', 'hotfix', 'security-center', 'firewall', 'tcp-listen', 'software', 'local-admins',
                      'removable-storage', 'screen-lock', 'wlan-profiles', 'wlan-profile-details') {
        Test-Step $run $scenario $step 'ok'
    }
    Test-That $scenario 'no stderr file is left for a tool that wrote none' `
        (-not (Test-Path -LiteralPath (Join-Path $run.Dir 'wlan-profiles.txt.stderr.txt')))
    $listening = @(Read-Json (Join-Path $run.Dir 'tcp-listen.json'))
    $expected = @(Read-FixtureJson 'tcp-listen.json')
    Test-That $scenario 'only listening TCP sockets are kept' ($listening.Count -eq $expected.Count) `
        ('{0} of {1}' -f $listening.Count, $expected.Count)
    Test-That $scenario 'each with its process name' (@($listening | Where-Object { -not $_.ProcessName }).Count -eq 0)
    $details = @(Read-Json (Join-Path $run.Dir 'wlan-profile-details.json'))
    Test-That $scenario 'the WLAN profile listed by netsh is shown' ($details.Count -eq 1 -and $details[0].Name -eq 'KAKUU-LG')
    $asked = @($run.Calls | Where-Object { $_ -like 'netsh.exe*' })
    Test-That $scenario 'netsh is never asked for a key' (@($asked | Where-Object { $_ -like '*key=*' }).Count -eq 0)
}

# ------------------------------------------------------------------ admin (elevated)

$state = @{ User = 'KAKUU\adm-suzuki'; Elevated = $true; Tools = (New-Tools) }
$run = Invoke-Scenario -Name 'admin' -Aliases $WindowsMocks -State $state -SystemRoot ([System.IO.Path]::GetTempPath())
if ($run.Manifest) {
    $scenario = 'admin'
    Test-AllStepsRecorded $run $scenario -Except @('local-admins-net')
    Test-That $scenario 'no fallback when Get-LocalGroupMember worked' (-not $run.Steps.ContainsKey('local-admins-net'))
    foreach ($step in $run.Steps.Keys) { Test-Step $run $scenario $step 'ok' }
    $cfg = @($run.Calls | Where-Object { $_ -like 'secedit.exe *' })
    $inf = Join-Path $run.Dir 'secedit.inf'
    Test-That $scenario 'secedit exports the merged policy into the collection' `
        ($cfg.Count -eq 1 -and $cfg[0] -like 'secedit.exe /export /mergedpolicy /cfg "*secedit.inf" /quiet') ($cfg -join '; ')
    foreach ($file in 'secedit.inf', 'net-accounts.txt', 'auditpol.csv', 'w32tm.txt', 'wlan-profiles.txt', 'wlan-profile-001.txt') {
        $path = Join-Path $run.Dir $file
        Test-That $scenario ('{0} is kept byte for byte' -f $file) `
            ((Test-Path -LiteralPath $path) -and (Test-SameBytes ([System.IO.File]::ReadAllBytes($path)) (Read-FixtureBytes $file)))
    }
    Test-That $scenario "secedit's console output is not kept" (-not (Test-Path -LiteralPath "$inf.stdout.txt"))
    $leftovers = @(Get-ChildItem -LiteralPath $run.Dir -Filter '*.stderr.txt')
    Test-That $scenario 'no empty stderr file is left' ($leftovers.Count -eq 0) (($leftovers | ForEach-Object { $_.Name }) -join ', ')
    $bitlocker = [System.IO.File]::ReadAllText((Join-Path $run.Dir 'bitlocker.json'), $Utf8)
    Test-That $scenario 'no BitLocker key protector or recovery password is written' `
        (-not ($bitlocker -match 'KeyProtector|RecoveryPassword|111111-222222'))
    $volumes = @(Read-Json (Join-Path $run.Dir 'bitlocker.json'))
    Test-That $scenario 'each volume has its device path' (@($volumes | Where-Object { -not $_.Device }).Count -eq 0)
    $os = Read-Json (Join-Path $run.Dir 'os.json')
    Test-That $scenario 'the OS release comes from the registry' ($os.DisplayVersion -eq '23H2' -and $os.EditionID -eq 'Enterprise')
    $hotfix = [System.IO.File]::ReadAllText((Join-Path $run.Dir 'hotfix.csv'), $Utf8)
    Test-That $scenario 'the hotfix list keeps HotFixID' ($hotfix -match '"HotFixID"')
}

# ------------------------------------------------------------------ orphaned SID

$state = @{ User = 'KAKUU\adm-suzuki'; Elevated = $true; Tools = (New-Tools)
            Throw = @{ 'Get-LocalGroupMember' = 'Failed to compare two elements in the array.' } }
$run = Invoke-Scenario -Name 'orphaned-sid' -Aliases $WindowsMocks -State $state -SystemRoot ([System.IO.Path]::GetTempPath())
if ($run.Manifest) {
    $scenario = 'orphaned-sid'
    Test-AllStepsRecorded $run $scenario
    Test-Step $run $scenario 'local-admins' 'failed'
    if ($OnWindows) {
        # The group's name is looked up from its SID, which only Windows can do.
        Test-Step $run $scenario 'local-admins-net' 'ok'
        $asked = @($run.Calls | Where-Object { $_ -like 'net.exe localgroup *' })
        Test-That $scenario 'net localgroup is asked for the Administrators group' ($asked.Count -eq 1) ($asked -join '; ')
    } else {
        Test-Step $run $scenario 'local-admins-net' 'failed'
    }
}

# ------------------------------------------------------------------ end

Remove-Variable -Name AuditorTest -Scope Global
if ($RemoveBase) { Remove-Item -LiteralPath $Base -Recurse -Force }
Write-Host ('{0} passed, {1} failed' -f $Count.Passed, $Count.Failed)
if ($Count.Failed -gt 0) { exit 1 }
exit 0
