function __gkpass_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __gkpass_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __gkpass_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __gkpass_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __gkpass_parse_tokens -S
    set -l unparsed_tokens (__gkpass_tokens -pc)
    switch $unparsed_tokens[1]
    case 'gkpass'
        __gkpass_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'login'
            __gkpass_parse_subcommand 1 'network=' 'password-stdin' 'password-fd=' 'password-file=' 'remember-password' 'store=' 'v/verbose' 'version' 'h/help'
        case 'logout'
            __gkpass_parse_subcommand 1 'all' 'forget-password' 'version' 'h/help'
        case 'list'
            __gkpass_parse_subcommand 0 'json' 'version' 'h/help'
        case 'check'
            __gkpass_parse_subcommand 1 'min-remaining=' 'version' 'h/help'
        case 'ticket'
            __gkpass_parse_subcommand 1 'format=' 'version' 'h/help'
        case 'switch'
            __gkpass_parse_subcommand 1 'version' 'h/help'
        case 'gatekeeper'
            __gkpass_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'init'
                __gkpass_parse_subcommand 0 'package=' 'version=' 'version' 'h/help'
            case 'respond'
                __gkpass_parse_subcommand 0 'package=' 'host=' 'guid=' 'no-truncate' 'version' 'h/help'
            end
        case 'help'
            __gkpass_parse_subcommand -r 1 'version'
        end
    end
end

function __gkpass_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __gkpass_parse_subcommand -S -a positional_count
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

function __gkpass_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __gkpass_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__gkpass_tokens -p)
    if test -z "$(__gkpass_tokens -t)"
        set -l index (count (__gkpass_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'gkpass' -f
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass" version' -l 'version' -d 'Show the version.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_positional "gkpass" -eq 1' -fa 'login' -d 'Sign in to Passport and store the chat tickets.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_positional "gkpass" -eq 1' -fa 'logout' -d 'Remove the stored tickets of an account, or of every account with --all.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_positional "gkpass" -eq 1' -fa 'list' -d 'List the accounts with stored tickets: network, store, expiry, default marker. No secrets.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_positional "gkpass" -eq 1' -fa 'check' -d 'Exit 0 when the account has a ticket that stays valid long enough; print nothing.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_positional "gkpass" -eq 1' -fa 'ticket' -d 'Print the stored Passport tickets for another program.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_positional "gkpass" -eq 1' -fa 'switch' -d 'Make ACCOUNT the default for commands that take an optional account.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_positional "gkpass" -eq 1' -fa 'gatekeeper' -d 'Speak the client side of AUTH GateKeeper and GateKeeperPassport, one line at a time.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_positional "gkpass" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass login" network' -l 'network' -d 'The network to sign in to.' -rfka ''
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass login" password-stdin' -l 'password-stdin' -d 'Read the password from the first line of standard input.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass login" password-fd' -l 'password-fd' -d 'Read the password from the first line of this open file descriptor.' -rfka ''
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass login" password-file' -l 'password-file' -d 'Read the password from the first line of this file (mode 600).' -rfka ''
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass login" remember-password' -l 'remember-password' -d 'Also store the password (in the same store, as a separate item) so gkpass refresh can sign in unattended.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass login" store' -l 'store' -d 'Where to store the tickets.' -rfka 'auto secret-service file'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass login" v verbose' -l 'verbose' -s 'v' -d 'Trace each request and response on stderr, with every secret replaced by a fingerprint.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass login" version' -l 'version' -d 'Show the version.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass login" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass logout" all' -l 'all' -d 'Log out every account gkpass knows.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass logout" forget-password' -l 'forget-password' -d 'Also remove the password remembered with --remember-password.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass logout" version' -l 'version' -d 'Show the version.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass logout" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass list" json' -l 'json' -d 'Print a JSON array instead of a table.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass list" version' -l 'version' -d 'Show the version.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass check" min-remaining' -l 'min-remaining' -d 'How long the ticket must still be valid: 90, 90s, 30m, 2h or 1d.' -rfka ''
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass check" version' -l 'version' -d 'Show the version.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass check" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass ticket" format' -l 'format' -d 'What to print.' -rfka 'blob auth ticket profile json env'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass ticket" version' -l 'version' -d 'Show the version.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass ticket" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass switch" version' -l 'version' -d 'Show the version.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass switch" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass gatekeeper" version' -l 'version' -d 'Show the version.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass gatekeeper" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_positional "gkpass gatekeeper" -eq 1' -fa 'init' -d 'Print the client\'s first AUTH line (GKSSP sequence 1).'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_positional "gkpass gatekeeper" -eq 1' -fa 'respond' -d 'Answer a server\'s GateKeeper challenge read from standard input.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass gatekeeper init" package' -l 'package' -d 'The security package to start.' -rfka 'GateKeeper GateKeeperPassport'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass gatekeeper init" version' -l 'version' -d 'The GateKeeper version to offer (the server\'s challenge decides the answer\'s version).' -rfka '1 2 3'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass gatekeeper init" version' -l 'version' -d 'Show the version.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass gatekeeper init" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass gatekeeper respond" package' -l 'package' -d 'Answer only a challenge for this package (default: the package the server named).' -rfka 'GateKeeper GateKeeperPassport'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass gatekeeper respond" host' -l 'host' -d 'The server host name or IP you connected to, without the port (hashed by version 3).' -rfka ''
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass gatekeeper respond" guid' -l 'guid' -d 'The guest GUID, as D6976AC3-D30A-4249-B168-07102BBA1896 (braces allowed) or 32 hex digits.' -rfka ''
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass gatekeeper respond" no-truncate' -l 'no-truncate' -d 'Hash the whole host name instead of its first 15 bytes (for servers that do not truncate).'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass gatekeeper respond" version' -l 'version' -d 'Show the version.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass gatekeeper respond" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass help" version' -l 'version' -d 'Show the version.'
