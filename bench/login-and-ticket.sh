#!/usr/bin/env bash
# Part of scripts/bench, run inside scripts/with-keyring: login round trips and time against the same requests
# made by the curl CLI, and `gkpass ticket` against `secret-tool lookup` and `cat` for the same item.
#   bench/login-and-ticket.sh BIN_DIR SANDBOX_STATE WORK_DIR  -> markdown on stdout
set -euo pipefail
bin="$1" state="$2" work="$3"
export GKPASS_SANDBOX_STATE="$state" XDG_STATE_HOME="$work/state" GKPASS_CONFIG="$work/config.toml"
ca="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ca_file"])' "$state/endpoints.json")"
endpoint() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$state/endpoints.json" "$1"; }
nexus="$(endpoint nexus_url)" post="$(endpoint web_login_url)" chat="$(endpoint chat_site_url)"
cat >"$GKPASS_CONFIG" <<TOML
[networks.tw]
flow = "tweener"
nexus_url = "$nexus"
chat_room_url = "$chat?rm=TheLobby"
ca_file = "$ca"
TOML
umask 077
printf 'sandbox-demo\n' >"$work/password"
printf 'login=demo%%40passport.test&passwd=sandbox-demo&id=2260&ru=%s&sec=0&mspp_shared=0' \
    "$(python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1], safe=""))' "$chat?rm=TheLobby")" >"$work/form"

count() { grep -cE '^gkpass: > (GET|POST) '; }
web_requests="$("$bin/gkpass" login demo@passport.test --network sandbox --password-file "$work/password" --store file -v 2>&1 | count)"
rm -f "$state/../nexus" "$XDG_STATE_HOME/gkpass/cache/nexus-tw"
tw_first="$("$bin/gkpass" login demo@passport.test --network tw --password-file "$work/password" --store file -v 2>&1 | count)"
tw_cached="$("$bin/gkpass" login demo@passport.test --network tw --password-file "$work/password" --store file -v 2>&1 | count)"
curl_requests="$(curl -s -o /dev/null --cacert "$ca" -c "$work/jar" -b "$work/jar" -L --max-redirs 10 -d "@$work/form" \
    -w '%{num_redirects}' "$post")"
curl_requests=$((curl_requests + 1))

hyperfine -N --warmup 5 --runs 100 --export-markdown "$work/login.md" \
    -n "gkpass login (web flow + chat site, file store)" \
    "$bin/gkpass login demo@passport.test --network sandbox --password-file $work/password --store file" \
    -n "curl: the same requests, one process, cookie jar" \
    "curl -s -o /dev/null --cacert $ca -c $work/jar -b $work/jar -L --max-redirs 10 -d @$work/form $post" >/dev/null 2>&1

# Ticket reads. The Secret Service item under a second name so both stores hold one.
"$bin/gkpass" login bench@passport.test --network sandbox --password-file "$work/password" --store secret-service >/dev/null 2>&1 || true
"$bin/gkpass" login demo@passport.test --network sandbox --password-file "$work/password" --store secret-service 2>/dev/null
"$bin/gkpass" login file@passport.test --network sandbox --password-file "$work/password" --store file 2>/dev/null || true
# Interleaved rounds (bench/rounds.py): 12 hyperfine runs of 25 reads each, the order of the commands rotated every
# round, so that the machine's changing load meets all three alike.
names=("gkpass ticket --format blob (Secret Service)" "gkpass ticket --format json (Secret Service)" "secret-tool lookup (same item)")
commands=("$bin/gkpass ticket demo@passport.test --format blob" "$bin/gkpass ticket demo@passport.test --format json"
    "secret-tool lookup service gkpass account demo@passport.test kind ticket")
hyperfine -N --warmup 20 --runs 5 "${commands[@]}" >/dev/null 2>&1
for round in $(seq 12); do
    arguments=()
    for i in 0 1 2; do
        k=$(((i + round) % 3))
        arguments+=(-n "${names[$k]}" "${commands[$k]}")
    done
    hyperfine -N --warmup 3 --runs 25 --export-json "$work/ticket-ss-$round.json" "${arguments[@]}" >/dev/null 2>&1
done
python3 "$(dirname "$0")/rounds.py" "secret-tool lookup (same item)" "$work"/ticket-ss-*.json >"$work/ticket-ss.md"
"$bin/gkpass" logout demo@passport.test >/dev/null 2>&1
"$bin/gkpass" login demo@passport.test --network sandbox --password-file "$work/password" --store file 2>/dev/null
hyperfine -N --warmup 10 --runs 300 --export-markdown "$work/ticket-file.md" \
    -n "gkpass ticket --format blob (file store)" "$bin/gkpass ticket demo@passport.test --format blob" \
    -n "cat (the same item file)" "cat $XDG_STATE_HOME/gkpass/items/demo@passport.test.ticket.json" >/dev/null 2>&1

clean() { sed "s|$work/||g; s|$bin/||g; s|$post|POST_URL|g; s|$ca|CA|g"; }
echo "## \`gkpass login\` against the same requests made by the curl CLI"
echo
echo "| flow | HTTPS requests |"
echo "|---|---|"
echo "| web: post.srf, return to the room page, msnredir, control page (gkpass) | $web_requests |"
echo "| the same hops, followed by \`curl -L\` | $curl_requests |"
echo "| tweener, first login: nexus, DA, room page, msnredir, control page | $tw_first |"
echo "| tweener, nexus cached (\`~/.local/state/gkpass/cache\`) | $tw_cached |"
echo
clean <"$work/login.md"
echo
echo "Both keep one TLS connection for every hop. gkpass also parses every cookie and PARAM, fsyncs the ticket file"
echo "and its directory, and takes the account lock; curl only writes its cookie jar."
echo
echo "## \`gkpass ticket\` against \`secret-tool lookup\` and \`cat\`"
echo
clean <"$work/ticket-ss.md"
echo
echo "Both read the same item through libsecret and GDBus, over the same encrypted session"
echo "(dh-ietf1024-sha256-aes128-cbc-pkcs7), in the same round trips: SearchItems, then GetSecret of the item's path."
echo "gkpass also finds the account's store record, checks who runs the session bus (its socket, directories and"
echo "SO_PEERCRED), decodes the ticket document and builds the blob; it loads libsecret and GLib only when a command"
echo "needs them."
echo
clean <"$work/ticket-file.md"
