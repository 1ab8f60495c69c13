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
            __gkpass_parse_subcommand -r 2 'network=' 'cacert=' 'timeout=' 'password-stdin' 'password-fd=' 'password-file=' 'remember-password' 'store=' 'v/verbose' 'version' 'h/help'
        case 'logout'
            __gkpass_parse_subcommand 1 'all' 'forget-password' 'version' 'h/help'
        case 'list'
            __gkpass_parse_subcommand 0 'json' 'version' 'h/help'
        case 'status'
            __gkpass_parse_subcommand 1 'json' 'version' 'h/help'
        case 'check'
            __gkpass_parse_subcommand 1 'min-remaining=' 'version' 'h/help'
        case 'ticket'
            __gkpass_parse_subcommand 1 'format=' 'version' 'h/help'
        case 'export'
            __gkpass_parse_subcommand 1 'format=' 'version' 'h/help'
        case 'refresh'
            __gkpass_parse_subcommand -r 2 'all' 'if-expiring-within=' 'lock-timeout=' 'retries=' 'jobs=' 'timeout=' 'password-stdin' 'password-fd=' 'password-file=' 'q/quiet' 'v/verbose' 'version' 'h/help'
        case 'switch'
            __gkpass_parse_subcommand 1 'version' 'h/help'
        case 'connect'
            __gkpass_parse_subcommand 1 'network=' 'server=' 'room=' 'guest' 'nick=' 'timeout=' 'json' 'v/verbose' 'version' 'h/help'
        case 'proxy'
            __gkpass_parse_subcommand 1 'listen=' 'network=' 'allow-remote' 'password-file=' 'max-clients=' 'timeout=' 'v/verbose' 'version' 'h/help'
        case 'doctor'
            __gkpass_parse_subcommand 0 'json' 'timeout=' 'version' 'h/help'
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
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_positional "gkpass" -eq 1' -fa 'status' -d 'Show one account\'s tickets in detail: network, store, times, what was collected. No secret values.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_positional "gkpass" -eq 1' -fa 'check' -d 'Exit 0 when the account has a ticket that stays valid long enough; print nothing.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_positional "gkpass" -eq 1' -fa 'ticket' -d 'Print the stored Passport tickets for another program.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_positional "gkpass" -eq 1' -fa 'export' -d 'Print the stored cookies in a format another client reads.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_positional "gkpass" -eq 1' -fa 'refresh' -d 'Sign in again when a ticket is about to expire (for cron and systemd timers).'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_positional "gkpass" -eq 1' -fa 'switch' -d 'Make ACCOUNT the default for commands that take an optional account.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_positional "gkpass" -eq 1' -fa 'connect' -d 'Prove a stored ticket by logging in to the network\'s IRCX chat server, then disconnect.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_positional "gkpass" -eq 1' -fa 'proxy' -d 'Let an ordinary IRC client chat on an MSN Chat network: a local IRC endpoint that logs in for it.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_positional "gkpass" -eq 1' -fa 'doctor' -d 'Check the keyring, the file store, the config, each network and each account; print the fix for what fails.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_positional "gkpass" -eq 1' -fa 'gatekeeper' -d 'Speak the client side of AUTH GateKeeper and GateKeeperPassport, one line at a time.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_positional "gkpass" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass login" network' -l 'network' -d 'The network to sign in to.' -rfka ''
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass login" cacert' -l 'cacert' -d 'Trust the CA certificates in this PEM file instead of the network\'s ca_file or the system\'s.' -rfka ''
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass login" timeout' -l 'timeout' -d 'Give up on a request after this many seconds (1 to 300).' -rfka ''
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
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass status" json' -l 'json' -d 'Print a JSON object instead of text.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass status" version' -l 'version' -d 'Show the version.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass status" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass check" min-remaining' -l 'min-remaining' -d 'How long the ticket must still be valid: 90, 90s, 30m, 2h or 1d.' -rfka ''
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass check" version' -l 'version' -d 'Show the version.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass check" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass ticket" format' -l 'format' -d 'What to print.' -rfka 'blob auth ticket profile json env'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass ticket" version' -l 'version' -d 'Show the version.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass ticket" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass export" format' -l 'format' -d 'What to print.' -rfka 'env json netscape cookie-header'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass export" version' -l 'version' -d 'Show the version.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass export" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass refresh" all' -l 'all' -d 'Refresh every account that has a ticket or a remembered password.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass refresh" if-expiring-within' -l 'if-expiring-within' -d 'Refresh only tickets with less than this left: 90s, 30m, 2h, 1d.' -rfka ''
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass refresh" lock-timeout' -l 'lock-timeout' -d 'Wait at most this long for another gkpass holding an account.' -rfka ''
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass refresh" retries' -l 'retries' -d 'Retries after a network error (0 to 10).' -rfka ''
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass refresh" jobs' -l 'jobs' -d 'With --all, sign in this many accounts at once (1 to 64).' -rfka ''
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass refresh" timeout' -l 'timeout' -d 'Give up on a request after this many seconds (1 to 300).' -rfka ''
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass refresh" password-stdin' -l 'password-stdin' -d 'Read the password from the first line of standard input.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass refresh" password-fd' -l 'password-fd' -d 'Read the password from the first line of this open file descriptor.' -rfka ''
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass refresh" password-file' -l 'password-file' -d 'Read the password from the first line of this file (mode 600).' -rfka ''
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass refresh" q quiet' -l 'quiet' -s 'q' -d 'Print nothing when every account is fine.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass refresh" v verbose' -l 'verbose' -s 'v' -d 'Trace each request, with secrets replaced by fingerprints.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass refresh" version' -l 'version' -d 'Show the version.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass refresh" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass switch" version' -l 'version' -d 'Show the version.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass switch" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass connect" network' -l 'network' -d 'The network (default: the one the ticket is for).' -rfka ''
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass connect" server' -l 'server' -d 'Connect to this server instead of the network\'s (no directory).' -rfka ''
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass connect" room' -l 'room' -d 'Join this room, e.g. %#TheLobby.' -rfka ''
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass connect" guest' -l 'guest' -d 'Connect as a guest with AUTH GateKeeper (no ticket needed).'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass connect" nick' -l 'nick' -d 'The guest nickname (guests\' start with >; default >Guest and four digits).' -rfka ''
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass connect" timeout' -l 'timeout' -d 'Give up on each connection after this many seconds (1 to 300).' -rfka ''
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass connect" json' -l 'json' -d 'Print the result as a JSON object.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass connect" v verbose' -l 'verbose' -s 'v' -d 'Trace each IRCX line on stderr, with the Passport blob and cookies replaced by fingerprints.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass connect" version' -l 'version' -d 'Show the version.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass connect" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass proxy" listen' -l 'listen' -d 'Where to listen: HOST:PORT (port 0: chosen by the system) or unix:PATH.' -rfka ''
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass proxy" network' -l 'network' -d 'The network (default: the one each ticket is for).' -rfka ''
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass proxy" allow-remote' -l 'allow-remote' -d 'Allow a listen address other than loopback (needs --password-file).'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass proxy" password-file' -l 'password-file' -d 'With --allow-remote: a file (mode 600) whose first line every client must send as PASS.' -rfka ''
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass proxy" max-clients' -l 'max-clients' -d 'The most clients at once (1 to 1024).' -rfka ''
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass proxy" timeout' -l 'timeout' -d 'Seconds for each upstream login (1 to 300).' -rfka ''
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass proxy" v verbose' -l 'verbose' -s 'v' -d 'Also log each login, room placement, refresh, reconnection and keep-alive on stderr.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass proxy" version' -l 'version' -d 'Show the version.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass proxy" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass doctor" json' -l 'json' -d 'Print a JSON array of {name, status, detail, fix} instead of text.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass doctor" timeout' -l 'timeout' -d 'Seconds for each network probe (1 to 60).' -rfka ''
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass doctor" version' -l 'version' -d 'Show the version.'
complete -c 'gkpass' -n '__gkpass_should_offer_completions_for_flags_or_options "gkpass doctor" h help' -s 'h' -l 'help' -d 'Show help information.'
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
