#!/usr/bin/env bash
# Joins an MSN Chat (IRCX) room as a guest, with gkpass writing the GateKeeper AUTH lines.
#
#   gatekeeper-guest.sh HOST PORT ROOM NICK [MESSAGE]
#
# A complete client in a page of bash: connect, AUTH GateKeeper v3 (the answer hashes HOST, the name we connected
# to), register a guest nickname (guests' nicknames start with >), join ROOM, then say MESSAGE and quit, or, with
# no MESSAGE, print the room's messages until the first one arrives and quit.
# Set GKPASS to the gkpass binary if it is not on PATH. Exit 4 when the server refuses the answer (910).
set -euo pipefail
[ "$#" -ge 4 ] || { echo "usage: $0 HOST PORT ROOM NICK [MESSAGE]" >&2; exit 2; }
host=$1 port=$2 room=$3 nick=$4 message=${5:-}
gkpass=${GKPASS:-gkpass}

exec 3<>"/dev/tcp/$host/$port"
"$gkpass" gatekeeper init --version 3 >&3
# IFS= read -r keeps every byte of the escaped token (escaping leaves no NUL, CR or LF inside a line).
while IFS= read -r -t 30 line <&3; do
    line=${line%$'\r'}
    case $line in
    "AUTH GateKeeper S :"*)
        printf '%s\r\n' "$line" | "$gkpass" gatekeeper respond --host "$host" >&3 ;;
    "AUTH GateKeeper * "*)
        echo "authenticated as ${line#AUTH GateKeeper \* }"
        printf 'NICK >%s\r\nUSER guest 0 * :%s\r\n' "$nick" "$nick" >&3 ;;
    *" 376 "* | *" 422 "*)
        printf 'JOIN %s\r\n' "$room" >&3 ;;
    *" 366 "*)
        echo "joined $room"
        if [ -n "$message" ]; then
            printf 'PRIVMSG %s :%s\r\n' "$room" "$message" >&3
            echo "said: $message"
            printf 'QUIT :bye\r\n' >&3
        fi ;;
    ":"*" PRIVMSG "*)
        from=${line#:}; from=${from%%!*}
        echo "<$from> ${line#* :}"
        [ -z "$message" ] && printf 'QUIT :bye\r\n' >&3 ;;
    *" 910 "*)
        echo "the server refused the GateKeeper answer: $line" >&2
        exit 4 ;;
    "ERROR "*)
        break ;;
    esac
done
