function __gkpass-sandbox_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __gkpass-sandbox_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __gkpass-sandbox_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __gkpass-sandbox_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __gkpass-sandbox_parse_tokens -S
    set -l unparsed_tokens (__gkpass-sandbox_tokens -pc)
    switch $unparsed_tokens[1]
    case 'gkpass-sandbox'
        __gkpass-sandbox_parse_subcommand 0 'state-dir=' 'listen=' 'https-port=' 'ircx-port=' 'accounts=' 'generated-accounts=' 'fault=+' 'slow-seconds=' 'blob-layout=' 'passport-slices=' 'passport-dialect=' 'ticket-lifetime=' 'server-name=' 'no-truncate' 'secret-file=' 'clock-offset=' 'room-server=' 'chat-servers=' 'room=+' 'event-loops=' 'stdin-commands' 'h/help'
        switch $unparsed_tokens[1]
        case 'help'
            __gkpass-sandbox_parse_subcommand -r 1 
        end
    end
end

function __gkpass-sandbox_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __gkpass-sandbox_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __gkpass-sandbox_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __gkpass-sandbox_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__gkpass-sandbox_tokens -p)
    if test -z "$(__gkpass-sandbox_tokens -t)"
        set -l index (count (__gkpass-sandbox_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'gkpass-sandbox' -f
complete -c 'gkpass-sandbox' -n '__gkpass-sandbox_should_offer_completions_for_flags_or_options "gkpass-sandbox" state-dir' -l 'state-dir' -d 'The state directory (CA, certificates, endpoints.json).' -rfka ''
complete -c 'gkpass-sandbox' -n '__gkpass-sandbox_should_offer_completions_for_flags_or_options "gkpass-sandbox" listen' -l 'listen' -d 'The address to listen on. Anything but loopback exposes the sandbox.' -rfka ''
complete -c 'gkpass-sandbox' -n '__gkpass-sandbox_should_offer_completions_for_flags_or_options "gkpass-sandbox" https-port' -l 'https-port' -d 'The HTTPS port (0: chosen by the system).' -rfka ''
complete -c 'gkpass-sandbox' -n '__gkpass-sandbox_should_offer_completions_for_flags_or_options "gkpass-sandbox" ircx-port' -l 'ircx-port' -d 'The IRCX port (0: chosen by the system).' -rfka ''
complete -c 'gkpass-sandbox' -n '__gkpass-sandbox_should_offer_completions_for_flags_or_options "gkpass-sandbox" accounts' -l 'accounts' -d 'A JSON accounts file: member, password, nickname and puid required, the rest optional (see above); the demo account is added unless it names one.' -rfka ''
complete -c 'gkpass-sandbox' -n '__gkpass-sandbox_should_offer_completions_for_flags_or_options "gkpass-sandbox" generated-accounts' -l 'generated-accounts' -d 'Also create N accounts user1@passport.test ... with passwords password-1 ... (load tests).' -rfka ''
complete -c 'gkpass-sandbox' -n '__gkpass-sandbox_should_offer_completions_for_flags_or_options "gkpass-sandbox"' -l 'fault' -d 'Switch on a fault (repeatable).' -rfka 'slow http-5xx drop malformed-headers redirect-loop expired-tickets wrong-challenge malformed-challenge truncated-headers huge-header expired-certificate wrong-host-certificate da-offsite-redirect da-plain-redirect stall-reading'
complete -c 'gkpass-sandbox' -n '__gkpass-sandbox_should_offer_completions_for_flags_or_options "gkpass-sandbox" slow-seconds' -l 'slow-seconds' -d 'Seconds the slow fault waits, and the stall-reading fault stops reading.' -rfka ''
complete -c 'gkpass-sandbox' -n '__gkpass-sandbox_should_offer_completions_for_flags_or_options "gkpass-sandbox" blob-layout' -l 'blob-layout' -d 'The Passport blob layout the IRCX server requires.' -rfka 'ticket-profile profile-nickname'
complete -c 'gkpass-sandbox' -n '__gkpass-sandbox_should_offer_completions_for_flags_or_options "gkpass-sandbox" passport-slices' -l 'passport-slices' -d 'How the IRCX server takes the Passport blob: ocx (480-byte slices, each answered with S :OK) or one-line.' -rfka 'ocx one-line'
complete -c 'gkpass-sandbox' -n '__gkpass-sandbox_should_offer_completions_for_flags_or_options "gkpass-sandbox" passport-dialect' -l 'passport-dialect' -d 'How the Tweener DA words success, and whether the network has profiles at all (see above).' -rfka 'msn2003 bare-token t-only'
complete -c 'gkpass-sandbox' -n '__gkpass-sandbox_should_offer_completions_for_flags_or_options "gkpass-sandbox" ticket-lifetime' -l 'ticket-lifetime' -d 'Lifetime of issued tickets in seconds (0: never expire).' -rfka ''
complete -c 'gkpass-sandbox' -n '__gkpass-sandbox_should_offer_completions_for_flags_or_options "gkpass-sandbox" server-name' -l 'server-name' -d 'The IRCX server name that version 3 answers must hash (default: the listen address).' -rfka ''
complete -c 'gkpass-sandbox' -n '__gkpass-sandbox_should_offer_completions_for_flags_or_options "gkpass-sandbox" no-truncate' -l 'no-truncate' -d 'Check version 3 answers against the whole server name instead of its first 15 bytes.'
complete -c 'gkpass-sandbox' -n '__gkpass-sandbox_should_offer_completions_for_flags_or_options "gkpass-sandbox" secret-file' -l 'secret-file' -d 'A file holding the PassportV4 secret (default: irc7\'s default, mysecret).' -rfka ''
complete -c 'gkpass-sandbox' -n '__gkpass-sandbox_should_offer_completions_for_flags_or_options "gkpass-sandbox" clock-offset' -l 'clock-offset' -d 'Skew the HTTP Date header by this many seconds (a server with a wrong clock).' -rfka ''
complete -c 'gkpass-sandbox' -n '__gkpass-sandbox_should_offer_completions_for_flags_or_options "gkpass-sandbox" room-server' -l 'room-server' -d 'Answer FINDS with this chat server (613) instead of this sandbox, to put rooms on another sandbox.' -rfka ''
complete -c 'gkpass-sandbox' -n '__gkpass-sandbox_should_offer_completions_for_flags_or_options "gkpass-sandbox" chat-servers' -l 'chat-servers' -d 'Run N IRCX chat servers (1 to 16), each on its own port; the directory spreads rooms across them.' -rfka ''
complete -c 'gkpass-sandbox' -n '__gkpass-sandbox_should_offer_completions_for_flags_or_options "gkpass-sandbox"' -l 'room' -d 'Put ROOM on chat server INDEX (0 to N-1) instead of where the hash puts it (repeatable).' -rfka ''
complete -c 'gkpass-sandbox' -n '__gkpass-sandbox_should_offer_completions_for_flags_or_options "gkpass-sandbox" event-loops' -l 'event-loops' -d 'Serve every connection on N event-loop threads (default: one per core).' -rfka ''
complete -c 'gkpass-sandbox' -n '__gkpass-sandbox_should_offer_completions_for_flags_or_options "gkpass-sandbox" stdin-commands' -l 'stdin-commands' -d 'Take commands on stdin, one a line: restart-chat INDEX [SECONDS] (see above).'
complete -c 'gkpass-sandbox' -n '__gkpass-sandbox_should_offer_completions_for_flags_or_options "gkpass-sandbox" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gkpass-sandbox' -n '__gkpass-sandbox_should_offer_completions_for_positional "gkpass-sandbox" -eq 1' -fa 'help' -d 'Show subcommand help information.'
