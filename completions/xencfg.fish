# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_xencfg_global_optspecs
    string join \n color= h/help V/version
end

function __fish_xencfg_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_xencfg_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_xencfg_using_subcommand
    set -l cmd (__fish_xencfg_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c xencfg -n "__fish_xencfg_needs_command" -l color -d 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c xencfg -n "__fish_xencfg_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c xencfg -n "__fish_xencfg_needs_command" -s V -l version -d 'Print version'
complete -c xencfg -n "__fish_xencfg_needs_command" -f -a "build" -d 'Compile CFG into an output directory (the directory of Xen on the ESP)'
complete -c xencfg -n "__fish_xencfg_needs_command" -f -a "check" -d 'Run every check `build` runs; write nothing'
complete -c xencfg -n "__fish_xencfg_needs_command" -f -a "explain" -d 'Show what Xen will read, per boot section: its command line, dom0, the guests with their domids, the files its EFI loader loads, the lines it ignores, and the /chosen that `build` writes'
complete -c xencfg -n "__fish_xencfg_needs_command" -f -a "import" -d 'Convert another tool\'s configuration into a xen.cfg'
complete -c xencfg -n "__fish_xencfg_needs_command" -f -a "dts" -d 'Decompile a DTB to DTS'
complete -c xencfg -n "__fish_xencfg_needs_command" -f -a "checks" -d 'List the checks, or explain one'
complete -c xencfg -n "__fish_xencfg_needs_command" -f -a "completions" -d 'Print the completion script for SHELL on stdout (also in completions/ of the source)'
complete -c xencfg -n "__fish_xencfg_needs_command" -f -a "man" -d 'Write the man pages (xencfg.1, one per command, xencfg.cfg.5) into DIR'
complete -c xencfg -n "__fish_xencfg_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c xencfg -n "__fish_xencfg_using_subcommand build" -l section -d 'The boot section the emitted cfg boots by default (else `[global] default=`)' -r
complete -c xencfg -n "__fish_xencfg_using_subcommand build" -l xen-version -d 'The Xen release to target (4.16 … 4.22); default: the version of --xen, else of --xen-config, else the newest' -r
complete -c xencfg -n "__fish_xencfg_using_subcommand build" -l xen -d 'The Xen EFI binary: its version is the target unless --xen-version says otherwise (`build --stage` also stages it as `<efi-name>.efi`)' -r -F
complete -c xencfg -n "__fish_xencfg_using_subcommand build" -l xen-config -d 'The `.config` Xen was built with: properties whose build option it lacks are errors. Without it, the one inside --xen is used (CONFIG_HYPFS_CONFIG); without either, build options are not judged' -r -F
complete -c xencfg -n "__fish_xencfg_using_subcommand build" -l host-ram -d 'The board\'s RAM, when the host DTB\'s memory nodes do not give it (Xen takes RAM from the EFI memory map): a total (`4G`) or ADDR:SIZE ranges (`0x40000000:2G,0x880000000:2G`)' -r
complete -c xencfg -n "__fish_xencfg_using_subcommand build" -l efi-name -d 'Base name of the Xen EFI binary: Xen reads `<NAME>.cfg` (BOOTAA64 for \\EFI\\BOOT\\BOOTAA64.EFI)' -r
complete -c xencfg -n "__fish_xencfg_using_subcommand build" -l root -d 'Directory that cfg paths are relative to on this machine (default: the cfg\'s directory)' -r -F
complete -c xencfg -n "__fish_xencfg_using_subcommand build" -s W -l warn -d 'Make a check a warning' -r
complete -c xencfg -n "__fish_xencfg_using_subcommand build" -s A -l allow -d 'Silence a check' -r
complete -c xencfg -n "__fish_xencfg_using_subcommand build" -s D -l deny -d 'Make a check an error' -r
complete -c xencfg -n "__fish_xencfg_using_subcommand build" -l format -d 'How to print diagnostics' -r -f -a "human\t'rustc-style text on stderr'
json\t'One JSON object per diagnostic, one per line'
sarif\t'One SARIF 2.1.0 log, for CI code scanning'"
complete -c xencfg -n "__fish_xencfg_using_subcommand build" -s o -l out -d 'The output directory' -r -F
complete -c xencfg -n "__fish_xencfg_using_subcommand build" -l color -d 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c xencfg -n "__fish_xencfg_using_subcommand build" -l deny-warnings -d 'Treat every warning as an error'
complete -c xencfg -n "__fish_xencfg_using_subcommand build" -l stage -d 'Also copy every referenced file (and --xen) into DIR at its ESP path'
complete -c xencfg -n "__fish_xencfg_using_subcommand build" -l emit-dts -d 'Also write `<section>.dts` for review'
complete -c xencfg -n "__fish_xencfg_using_subcommand build" -l force -d 'Replace DIR even if it is not xencfg\'s own output (its manifest.json and the files it lists); never when DIR holds an input'
complete -c xencfg -n "__fish_xencfg_using_subcommand build" -l no-cache -d 'Hash every input and verify every staged copy by reading it, instead of trusting the file stamps (device, inode, size, mtime, ctime) that the last build recorded in `.DIR.xencfg.cache` beside DIR'
complete -c xencfg -n "__fish_xencfg_using_subcommand build" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c xencfg -n "__fish_xencfg_using_subcommand check" -l section -d 'The boot section the emitted cfg boots by default (else `[global] default=`)' -r
complete -c xencfg -n "__fish_xencfg_using_subcommand check" -l xen-version -d 'The Xen release to target (4.16 … 4.22); default: the version of --xen, else of --xen-config, else the newest' -r
complete -c xencfg -n "__fish_xencfg_using_subcommand check" -l xen -d 'The Xen EFI binary: its version is the target unless --xen-version says otherwise (`build --stage` also stages it as `<efi-name>.efi`)' -r -F
complete -c xencfg -n "__fish_xencfg_using_subcommand check" -l xen-config -d 'The `.config` Xen was built with: properties whose build option it lacks are errors. Without it, the one inside --xen is used (CONFIG_HYPFS_CONFIG); without either, build options are not judged' -r -F
complete -c xencfg -n "__fish_xencfg_using_subcommand check" -l host-ram -d 'The board\'s RAM, when the host DTB\'s memory nodes do not give it (Xen takes RAM from the EFI memory map): a total (`4G`) or ADDR:SIZE ranges (`0x40000000:2G,0x880000000:2G`)' -r
complete -c xencfg -n "__fish_xencfg_using_subcommand check" -l efi-name -d 'Base name of the Xen EFI binary: Xen reads `<NAME>.cfg` (BOOTAA64 for \\EFI\\BOOT\\BOOTAA64.EFI)' -r
complete -c xencfg -n "__fish_xencfg_using_subcommand check" -l root -d 'Directory that cfg paths are relative to on this machine (default: the cfg\'s directory)' -r -F
complete -c xencfg -n "__fish_xencfg_using_subcommand check" -s W -l warn -d 'Make a check a warning' -r
complete -c xencfg -n "__fish_xencfg_using_subcommand check" -s A -l allow -d 'Silence a check' -r
complete -c xencfg -n "__fish_xencfg_using_subcommand check" -s D -l deny -d 'Make a check an error' -r
complete -c xencfg -n "__fish_xencfg_using_subcommand check" -l format -d 'How to print diagnostics' -r -f -a "human\t'rustc-style text on stderr'
json\t'One JSON object per diagnostic, one per line'
sarif\t'One SARIF 2.1.0 log, for CI code scanning'"
complete -c xencfg -n "__fish_xencfg_using_subcommand check" -l color -d 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c xencfg -n "__fish_xencfg_using_subcommand check" -l deny-warnings -d 'Treat every warning as an error'
complete -c xencfg -n "__fish_xencfg_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c xencfg -n "__fish_xencfg_using_subcommand explain" -l section -d 'The boot section the emitted cfg boots by default (else `[global] default=`)' -r
complete -c xencfg -n "__fish_xencfg_using_subcommand explain" -l xen-version -d 'The Xen release to target (4.16 … 4.22); default: the version of --xen, else of --xen-config, else the newest' -r
complete -c xencfg -n "__fish_xencfg_using_subcommand explain" -l xen -d 'The Xen EFI binary: its version is the target unless --xen-version says otherwise (`build --stage` also stages it as `<efi-name>.efi`)' -r -F
complete -c xencfg -n "__fish_xencfg_using_subcommand explain" -l xen-config -d 'The `.config` Xen was built with: properties whose build option it lacks are errors. Without it, the one inside --xen is used (CONFIG_HYPFS_CONFIG); without either, build options are not judged' -r -F
complete -c xencfg -n "__fish_xencfg_using_subcommand explain" -l host-ram -d 'The board\'s RAM, when the host DTB\'s memory nodes do not give it (Xen takes RAM from the EFI memory map): a total (`4G`) or ADDR:SIZE ranges (`0x40000000:2G,0x880000000:2G`)' -r
complete -c xencfg -n "__fish_xencfg_using_subcommand explain" -l efi-name -d 'Base name of the Xen EFI binary: Xen reads `<NAME>.cfg` (BOOTAA64 for \\EFI\\BOOT\\BOOTAA64.EFI)' -r
complete -c xencfg -n "__fish_xencfg_using_subcommand explain" -l root -d 'Directory that cfg paths are relative to on this machine (default: the cfg\'s directory)' -r -F
complete -c xencfg -n "__fish_xencfg_using_subcommand explain" -s W -l warn -d 'Make a check a warning' -r
complete -c xencfg -n "__fish_xencfg_using_subcommand explain" -s A -l allow -d 'Silence a check' -r
complete -c xencfg -n "__fish_xencfg_using_subcommand explain" -s D -l deny -d 'Make a check an error' -r
complete -c xencfg -n "__fish_xencfg_using_subcommand explain" -l format -d 'How to print diagnostics (on stderr); `svg` draws the memory map instead of the text' -r -f -a "human\t'rustc-style text on stderr'
json\t'One JSON object per diagnostic, one per line'
sarif\t'One SARIF 2.1.0 log, for CI code scanning'
svg\t'With --memory: the memory map of one boot section (--section, else the default) as an SVG picture on stdout, to scale with breaks over large gaps, overlaps in red; diagnostics as human text on stderr'"
complete -c xencfg -n "__fish_xencfg_using_subcommand explain" -l color -d 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c xencfg -n "__fish_xencfg_using_subcommand explain" -l deny-warnings -d 'Treat every warning as an error'
complete -c xencfg -n "__fish_xencfg_using_subcommand explain" -l memory -d 'Also print each host\'s memory map: RAM, reservations, static memory, shared memory and passthrough MMIO, labelled with their owners, overlaps marked'
complete -c xencfg -n "__fish_xencfg_using_subcommand explain" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c xencfg -n "__fish_xencfg_using_subcommand import; and not __fish_seen_subcommand_from imagebuilder help" -l color -d 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c xencfg -n "__fish_xencfg_using_subcommand import; and not __fish_seen_subcommand_from imagebuilder help" -s h -l help -d 'Print help'
complete -c xencfg -n "__fish_xencfg_using_subcommand import; and not __fish_seen_subcommand_from imagebuilder help" -f -a "imagebuilder" -d 'Read an ImageBuilder config (as data; it is never run) and write the equivalent xen.cfg in section form. Settings with no EFI or cfg equivalent are reported, and kept as comments where Xen still needs them'
complete -c xencfg -n "__fish_xencfg_using_subcommand import; and not __fish_seen_subcommand_from imagebuilder help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c xencfg -n "__fish_xencfg_using_subcommand import; and __fish_seen_subcommand_from imagebuilder" -s o -l out -d 'Write the cfg here instead of to stdout (nothing is written when there are errors)' -r -F
complete -c xencfg -n "__fish_xencfg_using_subcommand import; and __fish_seen_subcommand_from imagebuilder" -l color -d 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c xencfg -n "__fish_xencfg_using_subcommand import; and __fish_seen_subcommand_from imagebuilder" -s h -l help -d 'Print help'
complete -c xencfg -n "__fish_xencfg_using_subcommand import; and __fish_seen_subcommand_from help" -f -a "imagebuilder" -d 'Read an ImageBuilder config (as data; it is never run) and write the equivalent xen.cfg in section form. Settings with no EFI or cfg equivalent are reported, and kept as comments where Xen still needs them'
complete -c xencfg -n "__fish_xencfg_using_subcommand import; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c xencfg -n "__fish_xencfg_using_subcommand dts" -s o -l out -d 'Write the DTS here instead of to stdout' -r -F
complete -c xencfg -n "__fish_xencfg_using_subcommand dts" -l color -d 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c xencfg -n "__fish_xencfg_using_subcommand dts" -s h -l help -d 'Print help'
complete -c xencfg -n "__fish_xencfg_using_subcommand checks" -l color -d 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c xencfg -n "__fish_xencfg_using_subcommand checks" -s h -l help -d 'Print help'
complete -c xencfg -n "__fish_xencfg_using_subcommand completions" -l color -d 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c xencfg -n "__fish_xencfg_using_subcommand completions" -s h -l help -d 'Print help'
complete -c xencfg -n "__fish_xencfg_using_subcommand man" -l color -d 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c xencfg -n "__fish_xencfg_using_subcommand man" -s h -l help -d 'Print help'
complete -c xencfg -n "__fish_xencfg_using_subcommand help; and not __fish_seen_subcommand_from build check explain import dts checks completions man help" -f -a "build" -d 'Compile CFG into an output directory (the directory of Xen on the ESP)'
complete -c xencfg -n "__fish_xencfg_using_subcommand help; and not __fish_seen_subcommand_from build check explain import dts checks completions man help" -f -a "check" -d 'Run every check `build` runs; write nothing'
complete -c xencfg -n "__fish_xencfg_using_subcommand help; and not __fish_seen_subcommand_from build check explain import dts checks completions man help" -f -a "explain" -d 'Show what Xen will read, per boot section: its command line, dom0, the guests with their domids, the files its EFI loader loads, the lines it ignores, and the /chosen that `build` writes'
complete -c xencfg -n "__fish_xencfg_using_subcommand help; and not __fish_seen_subcommand_from build check explain import dts checks completions man help" -f -a "import" -d 'Convert another tool\'s configuration into a xen.cfg'
complete -c xencfg -n "__fish_xencfg_using_subcommand help; and not __fish_seen_subcommand_from build check explain import dts checks completions man help" -f -a "dts" -d 'Decompile a DTB to DTS'
complete -c xencfg -n "__fish_xencfg_using_subcommand help; and not __fish_seen_subcommand_from build check explain import dts checks completions man help" -f -a "checks" -d 'List the checks, or explain one'
complete -c xencfg -n "__fish_xencfg_using_subcommand help; and not __fish_seen_subcommand_from build check explain import dts checks completions man help" -f -a "completions" -d 'Print the completion script for SHELL on stdout (also in completions/ of the source)'
complete -c xencfg -n "__fish_xencfg_using_subcommand help; and not __fish_seen_subcommand_from build check explain import dts checks completions man help" -f -a "man" -d 'Write the man pages (xencfg.1, one per command, xencfg.cfg.5) into DIR'
complete -c xencfg -n "__fish_xencfg_using_subcommand help; and not __fish_seen_subcommand_from build check explain import dts checks completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c xencfg -n "__fish_xencfg_using_subcommand help; and __fish_seen_subcommand_from import" -f -a "imagebuilder" -d 'Read an ImageBuilder config (as data; it is never run) and write the equivalent xen.cfg in section form. Settings with no EFI or cfg equivalent are reported, and kept as comments where Xen still needs them'
