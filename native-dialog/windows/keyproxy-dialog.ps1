# keyproxy-dialog for Windows: PowerShell + System.Windows.Forms. Run as
#   powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -STA -File keyproxy-dialog.ps1 < template.json
# Same protocol as the Linux dialog (see ..\README.md): JSON template on stdin, JSON result on stdout,
# exit 0 submit, 1 cancel, 2 error. The template is data read from stdin, never pasted into script source;
# labels have UseMnemonic off so '&' and every other character shows literally.
# NOT YET VERIFIED BY A TEST RUN (no Windows machine in CI).
$ErrorActionPreference = 'Stop'
Add-Type -AssemblyName System.Windows.Forms, System.Drawing

function Fail([string]$message) {
    [Console]::Error.WriteLine("keyproxy-dialog: $message")
    exit 2
}

function Test-Optional($value, [scriptblock]$check) { ($null -eq $value) -or (& $check $value) }

[Console]::InputEncoding = New-Object System.Text.UTF8Encoding $false
[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false
$raw = [Console]::In.ReadToEnd()
if ([System.Text.Encoding]::UTF8.GetByteCount($raw) -gt 65536) { Fail 'template is larger than 64 KB' }
try { $t = ConvertFrom-Json -InputObject $raw } catch { Fail "bad template: $($_.Exception.Message)" }
if ($t -isnot [System.Management.Automation.PSCustomObject]) { Fail 'bad template: expected a JSON object' }
if ($t.title -isnot [string]) { Fail 'bad template: "title" is missing' }
if ($t.verification_code -isnot [string]) { Fail 'bad template: "verification_code" is missing' }
if (-not (Test-Optional $t.description { $args[0] -is [string] })) { Fail 'bad template: "description" has the wrong type' }
if (-not (Test-Optional $t.mode { $args[0] -in 'form', 'confirm' })) { Fail 'bad template: mode must be "form" or "confirm"' }
$timeoutOk = Test-Optional $t.timeout_s { ($args[0] -is [int] -or $args[0] -is [long] -or $args[0] -is [double]) -and $args[0] -gt 0 -and $args[0] -le 86400 }
if (-not $timeoutOk) { Fail 'bad template: timeout_s out of range' }
$confirm = $t.mode -eq 'confirm'
$fields = @()
if ($null -ne $t.fields) {
    if ($t.fields -isnot [array]) { Fail 'bad template: "fields" has the wrong type' }
    $fields = @($t.fields)
}
if ($confirm -and $fields.Count -gt 0) { Fail 'bad template: confirm mode takes no fields' }
if (-not $confirm -and ($fields.Count -eq 0 -or $fields.Count -gt 32)) { Fail 'bad template: "fields" must be a non-empty array' }
$names = @{}
foreach ($f in $fields) {
    if ($f -isnot [System.Management.Automation.PSCustomObject] -or $f.name -isnot [string] -or $f.name -eq '') { Fail 'bad template: every field needs a name' }
    if ($names.ContainsKey($f.name)) { Fail 'bad template: two fields share a name' }
    $names[$f.name] = $true
    if (-not (Test-Optional $f.field_type { $args[0] -in 'text', 'password', 'url', 'email' })) { Fail 'bad template: field_type must be text, password, url or email' }
    if (-not (Test-Optional $f.required { $args[0] -is [bool] })) { Fail 'bad template: "required" has the wrong type' }
    foreach ($key in 'label', 'default', 'help_text') {
        if (-not (Test-Optional $f.$key { $args[0] -is [string] })) { Fail "bad template: `"$key`" has the wrong type" }
    }
}

function New-Label([string]$text, $font) {
    $label = New-Object System.Windows.Forms.Label
    $label.UseMnemonic = $false
    $label.Text = $text
    $label.AutoSize = $true
    $label.MaximumSize = New-Object System.Drawing.Size 420, 0
    if ($font) { $label.Font = $font }
    $label
}

$form = New-Object System.Windows.Forms.Form
$form.Text = $t.title
$form.TopMost = $true
$form.StartPosition = 'CenterScreen'
$form.FormBorderStyle = 'FixedDialog'
$form.MaximizeBox = $false
$form.MinimizeBox = $false
$form.AutoSize = $true
$form.AutoSizeMode = 'GrowAndShrink'
$form.KeyPreview = $true
$panel = New-Object System.Windows.Forms.FlowLayoutPanel
$panel.FlowDirection = 'TopDown'
$panel.WrapContents = $false
$panel.AutoSize = $true
$panel.Padding = New-Object System.Windows.Forms.Padding 12
$form.Controls.Add($panel)

$panel.Controls.Add((New-Label $t.title (New-Object System.Drawing.Font 'Segoe UI', 12, ([System.Drawing.FontStyle]::Bold))))
if ($t.description) { $panel.Controls.Add((New-Label $t.description)) }
$code = New-Label $t.verification_code (New-Object System.Drawing.Font 'Consolas', 22, ([System.Drawing.FontStyle]::Bold))
$code.AccessibleName = 'Verification code'
$panel.Controls.Add($code)
$panel.Controls.Add((New-Label 'Check that this code matches the one shown in your AI app.'))

$script:inputs = @()
$script:errors = @()
foreach ($f in $fields) {
    $caption = if ($f.label) { $f.label } else { $f.name }
    $panel.Controls.Add((New-Label ($caption + $(if ($f.required) { ' *' } else { '' }))))
    $box = New-Object System.Windows.Forms.TextBox
    $box.Width = 420
    $box.AccessibleName = $caption
    if ($f.field_type -eq 'password') { $box.UseSystemPasswordChar = $true }
    elseif ($f.default) { $box.Text = $f.default }
    $panel.Controls.Add($box)
    if ($f.help_text) { $panel.Controls.Add((New-Label $f.help_text (New-Object System.Drawing.Font 'Segoe UI', 8))) }
    $err = New-Label ''
    $err.ForeColor = [System.Drawing.Color]::DarkRed
    $panel.Controls.Add($err)
    $script:inputs += $box
    $script:errors += $err
}

function Test-Form {
    $ok = $true
    for ($i = 0; $i -lt $fields.Count; $i++) {
        $f = $fields[$i]; $value = $script:inputs[$i].Text; $problem = ''
        if ($value -ne '' -and $f.field_type -eq 'url' -and $value -notmatch '^https?://[^\s/?#@]+\S*$') { $problem = 'Enter an http:// or https:// URL' }
        if ($value -ne '' -and $f.field_type -eq 'email' -and $value -notmatch '^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$') { $problem = 'Enter an email address' }
        $script:errors[$i].Text = $problem
        if ($problem -or ($f.required -and $value -eq '')) { $ok = $false }
    }
    $ok
}

$buttons = New-Object System.Windows.Forms.FlowLayoutPanel
$buttons.AutoSize = $true
$panel.Controls.Add($buttons)
function Add-Button([string]$text, [scriptblock]$onClick) {
    $b = New-Object System.Windows.Forms.Button
    $b.Text = $text
    $b.AutoSize = $true
    $b.AccessibleName = $text
    $b.Add_Click($onClick)
    $buttons.Controls.Add($b)
    $b
}

$script:result = $null
$script:timedOut = $false
if ($confirm) {
    # Deny comes first and takes the focus, so a stray Return or Space denies.
    $deny = Add-Button 'Deny' { $script:result = @{ decision = 'deny' }; $form.Close() }
    Add-Button 'Allow always' { $script:result = @{ decision = 'always' }; $form.Close() } | Out-Null
    Add-Button 'Allow for session' { $script:result = @{ decision = 'session' }; $form.Close() } | Out-Null
    Add-Button 'Allow once' { $script:result = @{ decision = 'once' }; $form.Close() } | Out-Null
    $form.Add_Shown({ $deny.Focus() })
} else {
    $okButton = Add-Button 'OK' {
        if (-not (Test-Form)) { return }
        $values = [ordered]@{}
        for ($i = 0; $i -lt $fields.Count; $i++) { $values[$fields[$i].name] = $script:inputs[$i].Text }
        $script:result = $values
        $form.Close()
    }
    Add-Button 'Cancel' { $form.Close() } | Out-Null
    $form.AcceptButton = $okButton
    foreach ($box in $script:inputs) { $box.Add_TextChanged({ $okButton.Enabled = Test-Form }) }
    $okButton.Enabled = Test-Form
}
$form.Add_KeyDown({ if ($_.KeyCode -eq 'Escape') { $form.Close() } })
if ($t.timeout_s) {
    $timer = New-Object System.Windows.Forms.Timer
    $timer.Interval = [int]([double]$t.timeout_s * 1000)
    $timer.Add_Tick({ $timer.Stop(); $script:timedOut = $true; $form.Close() })
    $timer.Start()
}

[void]$form.ShowDialog()
if ($script:timedOut) { Fail "timed out after $($t.timeout_s) s without an answer" }
if ($null -eq $script:result) { exit 1 }
[Console]::Out.WriteLine((ConvertTo-Json -InputObject $script:result -Compress))
foreach ($box in $script:inputs) { $box.Clear() }
exit 0
