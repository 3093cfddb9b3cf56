
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'xencfg' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'xencfg'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'xencfg' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('build', 'build', [CompletionResultType]::ParameterValue, 'Compile CFG into an output directory (the directory of Xen on the ESP)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Run every check `build` runs; write nothing')
            [CompletionResult]::new('explain', 'explain', [CompletionResultType]::ParameterValue, 'Show what Xen will read, per boot section: its command line, dom0, the guests with their domids, the files its EFI loader loads, the lines it ignores, and the /chosen that `build` writes')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Convert another tool''s configuration into a xen.cfg')
            [CompletionResult]::new('dts', 'dts', [CompletionResultType]::ParameterValue, 'Decompile a DTB to DTS')
            [CompletionResult]::new('checks', 'checks', [CompletionResultType]::ParameterValue, 'List the checks, or explain one')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the completion script for SHELL on stdout (also in completions/ of the source)')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Write the man pages (xencfg.1, one per command, xencfg.cfg.5) into DIR')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'xencfg;build' {
            [CompletionResult]::new('--section', '--section', [CompletionResultType]::ParameterName, 'The boot section the emitted cfg boots by default (else `[global] default=`)')
            [CompletionResult]::new('--xen-version', '--xen-version', [CompletionResultType]::ParameterName, 'The Xen release to target (4.16 … 4.22); default: the version of --xen, else of --xen-config, else the newest')
            [CompletionResult]::new('--xen', '--xen', [CompletionResultType]::ParameterName, 'The Xen EFI binary: its version is the target unless --xen-version says otherwise (`build --stage` also stages it as `<efi-name>.efi`)')
            [CompletionResult]::new('--xen-config', '--xen-config', [CompletionResultType]::ParameterName, 'The `.config` Xen was built with: properties whose build option it lacks are errors. Without it, the one inside --xen is used (CONFIG_HYPFS_CONFIG); without either, build options are not judged')
            [CompletionResult]::new('--host-ram', '--host-ram', [CompletionResultType]::ParameterName, 'The board''s RAM, when the host DTB''s memory nodes do not give it (Xen takes RAM from the EFI memory map): a total (`4G`) or ADDR:SIZE ranges (`0x40000000:2G,0x880000000:2G`)')
            [CompletionResult]::new('--efi-name', '--efi-name', [CompletionResultType]::ParameterName, 'Base name of the Xen EFI binary: Xen reads `<NAME>.cfg` (BOOTAA64 for \EFI\BOOT\BOOTAA64.EFI)')
            [CompletionResult]::new('--root', '--root', [CompletionResultType]::ParameterName, 'Directory that cfg paths are relative to on this machine (default: the cfg''s directory)')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Make a check a warning')
            [CompletionResult]::new('--warn', '--warn', [CompletionResultType]::ParameterName, 'Make a check a warning')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Silence a check')
            [CompletionResult]::new('--allow', '--allow', [CompletionResultType]::ParameterName, 'Silence a check')
            [CompletionResult]::new('-D', '-D ', [CompletionResultType]::ParameterName, 'Make a check an error')
            [CompletionResult]::new('--deny', '--deny', [CompletionResultType]::ParameterName, 'Make a check an error')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print diagnostics')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'The output directory')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'The output directory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never')
            [CompletionResult]::new('--deny-warnings', '--deny-warnings', [CompletionResultType]::ParameterName, 'Treat every warning as an error')
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Also copy every referenced file (and --xen) into DIR at its ESP path')
            [CompletionResult]::new('--emit-dts', '--emit-dts', [CompletionResultType]::ParameterName, 'Also write `<section>.dts` for review')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace DIR even if it is not xencfg''s own output (its manifest.json and the files it lists); never when DIR holds an input')
            [CompletionResult]::new('--no-cache', '--no-cache', [CompletionResultType]::ParameterName, 'Hash every input and verify every staged copy by reading it, instead of trusting the file stamps (device, inode, size, mtime, ctime) that the last build recorded in `.DIR.xencfg.cache` beside DIR')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'xencfg;check' {
            [CompletionResult]::new('--section', '--section', [CompletionResultType]::ParameterName, 'The boot section the emitted cfg boots by default (else `[global] default=`)')
            [CompletionResult]::new('--xen-version', '--xen-version', [CompletionResultType]::ParameterName, 'The Xen release to target (4.16 … 4.22); default: the version of --xen, else of --xen-config, else the newest')
            [CompletionResult]::new('--xen', '--xen', [CompletionResultType]::ParameterName, 'The Xen EFI binary: its version is the target unless --xen-version says otherwise (`build --stage` also stages it as `<efi-name>.efi`)')
            [CompletionResult]::new('--xen-config', '--xen-config', [CompletionResultType]::ParameterName, 'The `.config` Xen was built with: properties whose build option it lacks are errors. Without it, the one inside --xen is used (CONFIG_HYPFS_CONFIG); without either, build options are not judged')
            [CompletionResult]::new('--host-ram', '--host-ram', [CompletionResultType]::ParameterName, 'The board''s RAM, when the host DTB''s memory nodes do not give it (Xen takes RAM from the EFI memory map): a total (`4G`) or ADDR:SIZE ranges (`0x40000000:2G,0x880000000:2G`)')
            [CompletionResult]::new('--efi-name', '--efi-name', [CompletionResultType]::ParameterName, 'Base name of the Xen EFI binary: Xen reads `<NAME>.cfg` (BOOTAA64 for \EFI\BOOT\BOOTAA64.EFI)')
            [CompletionResult]::new('--root', '--root', [CompletionResultType]::ParameterName, 'Directory that cfg paths are relative to on this machine (default: the cfg''s directory)')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Make a check a warning')
            [CompletionResult]::new('--warn', '--warn', [CompletionResultType]::ParameterName, 'Make a check a warning')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Silence a check')
            [CompletionResult]::new('--allow', '--allow', [CompletionResultType]::ParameterName, 'Silence a check')
            [CompletionResult]::new('-D', '-D ', [CompletionResultType]::ParameterName, 'Make a check an error')
            [CompletionResult]::new('--deny', '--deny', [CompletionResultType]::ParameterName, 'Make a check an error')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print diagnostics')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never')
            [CompletionResult]::new('--deny-warnings', '--deny-warnings', [CompletionResultType]::ParameterName, 'Treat every warning as an error')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'xencfg;explain' {
            [CompletionResult]::new('--section', '--section', [CompletionResultType]::ParameterName, 'The boot section the emitted cfg boots by default (else `[global] default=`)')
            [CompletionResult]::new('--xen-version', '--xen-version', [CompletionResultType]::ParameterName, 'The Xen release to target (4.16 … 4.22); default: the version of --xen, else of --xen-config, else the newest')
            [CompletionResult]::new('--xen', '--xen', [CompletionResultType]::ParameterName, 'The Xen EFI binary: its version is the target unless --xen-version says otherwise (`build --stage` also stages it as `<efi-name>.efi`)')
            [CompletionResult]::new('--xen-config', '--xen-config', [CompletionResultType]::ParameterName, 'The `.config` Xen was built with: properties whose build option it lacks are errors. Without it, the one inside --xen is used (CONFIG_HYPFS_CONFIG); without either, build options are not judged')
            [CompletionResult]::new('--host-ram', '--host-ram', [CompletionResultType]::ParameterName, 'The board''s RAM, when the host DTB''s memory nodes do not give it (Xen takes RAM from the EFI memory map): a total (`4G`) or ADDR:SIZE ranges (`0x40000000:2G,0x880000000:2G`)')
            [CompletionResult]::new('--efi-name', '--efi-name', [CompletionResultType]::ParameterName, 'Base name of the Xen EFI binary: Xen reads `<NAME>.cfg` (BOOTAA64 for \EFI\BOOT\BOOTAA64.EFI)')
            [CompletionResult]::new('--root', '--root', [CompletionResultType]::ParameterName, 'Directory that cfg paths are relative to on this machine (default: the cfg''s directory)')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Make a check a warning')
            [CompletionResult]::new('--warn', '--warn', [CompletionResultType]::ParameterName, 'Make a check a warning')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Silence a check')
            [CompletionResult]::new('--allow', '--allow', [CompletionResultType]::ParameterName, 'Silence a check')
            [CompletionResult]::new('-D', '-D ', [CompletionResultType]::ParameterName, 'Make a check an error')
            [CompletionResult]::new('--deny', '--deny', [CompletionResultType]::ParameterName, 'Make a check an error')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print diagnostics (on stderr); `svg` draws the memory map instead of the text')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never')
            [CompletionResult]::new('--deny-warnings', '--deny-warnings', [CompletionResultType]::ParameterName, 'Treat every warning as an error')
            [CompletionResult]::new('--memory', '--memory', [CompletionResultType]::ParameterName, 'Also print each host''s memory map: RAM, reservations, static memory, shared memory and passthrough MMIO, labelled with their owners, overlaps marked')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'xencfg;import' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('imagebuilder', 'imagebuilder', [CompletionResultType]::ParameterValue, 'Read an ImageBuilder config (as data; it is never run) and write the equivalent xen.cfg in section form. Settings with no EFI or cfg equivalent are reported, and kept as comments where Xen still needs them')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'xencfg;import;imagebuilder' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the cfg here instead of to stdout (nothing is written when there are errors)')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Write the cfg here instead of to stdout (nothing is written when there are errors)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'xencfg;import;help' {
            [CompletionResult]::new('imagebuilder', 'imagebuilder', [CompletionResultType]::ParameterValue, 'Read an ImageBuilder config (as data; it is never run) and write the equivalent xen.cfg in section form. Settings with no EFI or cfg equivalent are reported, and kept as comments where Xen still needs them')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'xencfg;import;help;imagebuilder' {
            break
        }
        'xencfg;import;help;help' {
            break
        }
        'xencfg;dts' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the DTS here instead of to stdout')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Write the DTS here instead of to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'xencfg;checks' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'xencfg;completions' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'xencfg;man' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'xencfg;help' {
            [CompletionResult]::new('build', 'build', [CompletionResultType]::ParameterValue, 'Compile CFG into an output directory (the directory of Xen on the ESP)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Run every check `build` runs; write nothing')
            [CompletionResult]::new('explain', 'explain', [CompletionResultType]::ParameterValue, 'Show what Xen will read, per boot section: its command line, dom0, the guests with their domids, the files its EFI loader loads, the lines it ignores, and the /chosen that `build` writes')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Convert another tool''s configuration into a xen.cfg')
            [CompletionResult]::new('dts', 'dts', [CompletionResultType]::ParameterValue, 'Decompile a DTB to DTS')
            [CompletionResult]::new('checks', 'checks', [CompletionResultType]::ParameterValue, 'List the checks, or explain one')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the completion script for SHELL on stdout (also in completions/ of the source)')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Write the man pages (xencfg.1, one per command, xencfg.cfg.5) into DIR')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'xencfg;help;build' {
            break
        }
        'xencfg;help;check' {
            break
        }
        'xencfg;help;explain' {
            break
        }
        'xencfg;help;import' {
            [CompletionResult]::new('imagebuilder', 'imagebuilder', [CompletionResultType]::ParameterValue, 'Read an ImageBuilder config (as data; it is never run) and write the equivalent xen.cfg in section form. Settings with no EFI or cfg equivalent are reported, and kept as comments where Xen still needs them')
            break
        }
        'xencfg;help;import;imagebuilder' {
            break
        }
        'xencfg;help;dts' {
            break
        }
        'xencfg;help;checks' {
            break
        }
        'xencfg;help;completions' {
            break
        }
        'xencfg;help;man' {
            break
        }
        'xencfg;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
