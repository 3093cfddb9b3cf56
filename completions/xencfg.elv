
use builtin;
use str;

set edit:completion:arg-completer[xencfg] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'xencfg'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'xencfg'= {
            cand --color 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand build 'Compile CFG into an output directory (the directory of Xen on the ESP)'
            cand check 'Run every check `build` runs; write nothing'
            cand explain 'Show what Xen will read, per boot section: its command line, dom0, the guests with their domids, the files its EFI loader loads, the lines it ignores, and the /chosen that `build` writes'
            cand import 'Convert another tool''s configuration into a xen.cfg'
            cand dts 'Decompile a DTB to DTS'
            cand checks 'List the checks, or explain one'
            cand completions 'Print the completion script for SHELL on stdout (also in completions/ of the source)'
            cand man 'Write the man pages (xencfg.1, one per command, xencfg.cfg.5) into DIR'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'xencfg;build'= {
            cand --section 'The boot section the emitted cfg boots by default (else `[global] default=`)'
            cand --xen-version 'The Xen release to target (4.16 … 4.22); default: the version of --xen, else of --xen-config, else the newest'
            cand --xen 'The Xen EFI binary: its version is the target unless --xen-version says otherwise (`build --stage` also stages it as `<efi-name>.efi`)'
            cand --xen-config 'The `.config` Xen was built with: properties whose build option it lacks are errors. Without it, the one inside --xen is used (CONFIG_HYPFS_CONFIG); without either, build options are not judged'
            cand --host-ram 'The board''s RAM, when the host DTB''s memory nodes do not give it (Xen takes RAM from the EFI memory map): a total (`4G`) or ADDR:SIZE ranges (`0x40000000:2G,0x880000000:2G`)'
            cand --efi-name 'Base name of the Xen EFI binary: Xen reads `<NAME>.cfg` (BOOTAA64 for \EFI\BOOT\BOOTAA64.EFI)'
            cand --root 'Directory that cfg paths are relative to on this machine (default: the cfg''s directory)'
            cand -W 'Make a check a warning'
            cand --warn 'Make a check a warning'
            cand -A 'Silence a check'
            cand --allow 'Silence a check'
            cand -D 'Make a check an error'
            cand --deny 'Make a check an error'
            cand --format 'How to print diagnostics'
            cand -o 'The output directory'
            cand --out 'The output directory'
            cand --color 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never'
            cand --deny-warnings 'Treat every warning as an error'
            cand --stage 'Also copy every referenced file (and --xen) into DIR at its ESP path'
            cand --emit-dts 'Also write `<section>.dts` for review'
            cand --force 'Replace DIR even if it is not xencfg''s own output (its manifest.json and the files it lists); never when DIR holds an input'
            cand --no-cache 'Hash every input and verify every staged copy by reading it, instead of trusting the file stamps (device, inode, size, mtime, ctime) that the last build recorded in `.DIR.xencfg.cache` beside DIR'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'xencfg;check'= {
            cand --section 'The boot section the emitted cfg boots by default (else `[global] default=`)'
            cand --xen-version 'The Xen release to target (4.16 … 4.22); default: the version of --xen, else of --xen-config, else the newest'
            cand --xen 'The Xen EFI binary: its version is the target unless --xen-version says otherwise (`build --stage` also stages it as `<efi-name>.efi`)'
            cand --xen-config 'The `.config` Xen was built with: properties whose build option it lacks are errors. Without it, the one inside --xen is used (CONFIG_HYPFS_CONFIG); without either, build options are not judged'
            cand --host-ram 'The board''s RAM, when the host DTB''s memory nodes do not give it (Xen takes RAM from the EFI memory map): a total (`4G`) or ADDR:SIZE ranges (`0x40000000:2G,0x880000000:2G`)'
            cand --efi-name 'Base name of the Xen EFI binary: Xen reads `<NAME>.cfg` (BOOTAA64 for \EFI\BOOT\BOOTAA64.EFI)'
            cand --root 'Directory that cfg paths are relative to on this machine (default: the cfg''s directory)'
            cand -W 'Make a check a warning'
            cand --warn 'Make a check a warning'
            cand -A 'Silence a check'
            cand --allow 'Silence a check'
            cand -D 'Make a check an error'
            cand --deny 'Make a check an error'
            cand --format 'How to print diagnostics'
            cand --color 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never'
            cand --deny-warnings 'Treat every warning as an error'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'xencfg;explain'= {
            cand --section 'The boot section the emitted cfg boots by default (else `[global] default=`)'
            cand --xen-version 'The Xen release to target (4.16 … 4.22); default: the version of --xen, else of --xen-config, else the newest'
            cand --xen 'The Xen EFI binary: its version is the target unless --xen-version says otherwise (`build --stage` also stages it as `<efi-name>.efi`)'
            cand --xen-config 'The `.config` Xen was built with: properties whose build option it lacks are errors. Without it, the one inside --xen is used (CONFIG_HYPFS_CONFIG); without either, build options are not judged'
            cand --host-ram 'The board''s RAM, when the host DTB''s memory nodes do not give it (Xen takes RAM from the EFI memory map): a total (`4G`) or ADDR:SIZE ranges (`0x40000000:2G,0x880000000:2G`)'
            cand --efi-name 'Base name of the Xen EFI binary: Xen reads `<NAME>.cfg` (BOOTAA64 for \EFI\BOOT\BOOTAA64.EFI)'
            cand --root 'Directory that cfg paths are relative to on this machine (default: the cfg''s directory)'
            cand -W 'Make a check a warning'
            cand --warn 'Make a check a warning'
            cand -A 'Silence a check'
            cand --allow 'Silence a check'
            cand -D 'Make a check an error'
            cand --deny 'Make a check an error'
            cand --format 'How to print diagnostics (on stderr); `svg` draws the memory map instead of the text'
            cand --color 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never'
            cand --deny-warnings 'Treat every warning as an error'
            cand --memory 'Also print each host''s memory map: RAM, reservations, static memory, shared memory and passthrough MMIO, labelled with their owners, overlaps marked'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'xencfg;import'= {
            cand --color 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never'
            cand -h 'Print help'
            cand --help 'Print help'
            cand imagebuilder 'Read an ImageBuilder config (as data; it is never run) and write the equivalent xen.cfg in section form. Settings with no EFI or cfg equivalent are reported, and kept as comments where Xen still needs them'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'xencfg;import;imagebuilder'= {
            cand -o 'Write the cfg here instead of to stdout (nothing is written when there are errors)'
            cand --out 'Write the cfg here instead of to stdout (nothing is written when there are errors)'
            cand --color 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'xencfg;import;help'= {
            cand imagebuilder 'Read an ImageBuilder config (as data; it is never run) and write the equivalent xen.cfg in section form. Settings with no EFI or cfg equivalent are reported, and kept as comments where Xen still needs them'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'xencfg;import;help;imagebuilder'= {
        }
        &'xencfg;import;help;help'= {
        }
        &'xencfg;dts'= {
            cand -o 'Write the DTS here instead of to stdout'
            cand --out 'Write the DTS here instead of to stdout'
            cand --color 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'xencfg;checks'= {
            cand --color 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'xencfg;completions'= {
            cand --color 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'xencfg;man'= {
            cand --color 'When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'xencfg;help'= {
            cand build 'Compile CFG into an output directory (the directory of Xen on the ESP)'
            cand check 'Run every check `build` runs; write nothing'
            cand explain 'Show what Xen will read, per boot section: its command line, dom0, the guests with their domids, the files its EFI loader loads, the lines it ignores, and the /chosen that `build` writes'
            cand import 'Convert another tool''s configuration into a xen.cfg'
            cand dts 'Decompile a DTB to DTS'
            cand checks 'List the checks, or explain one'
            cand completions 'Print the completion script for SHELL on stdout (also in completions/ of the source)'
            cand man 'Write the man pages (xencfg.1, one per command, xencfg.cfg.5) into DIR'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'xencfg;help;build'= {
        }
        &'xencfg;help;check'= {
        }
        &'xencfg;help;explain'= {
        }
        &'xencfg;help;import'= {
            cand imagebuilder 'Read an ImageBuilder config (as data; it is never run) and write the equivalent xen.cfg in section form. Settings with no EFI or cfg equivalent are reported, and kept as comments where Xen still needs them'
        }
        &'xencfg;help;import;imagebuilder'= {
        }
        &'xencfg;help;dts'= {
        }
        &'xencfg;help;checks'= {
        }
        &'xencfg;help;completions'= {
        }
        &'xencfg;help;man'= {
        }
        &'xencfg;help;help'= {
        }
    ]
    $completions[$command]
}
