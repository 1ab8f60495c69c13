#!/usr/bin/env bash
# Part of scripts/bench: `gkpass refresh --all` for N sandbox accounts, sequential (--jobs 1) against concurrent.
#   bench/refresh-bench.sh BIN_DIR SANDBOX_STATE WORK_DIR N SANDBOX_LOG  -> markdown on stdout
# Each run must make exactly N logins, counted in the sandbox's log; anything else stops the benchmark.
set -euo pipefail
shopt -s inherit_errexit
bin="$1" state="$2" work="$3" n="$4" sandbox_log="$5"
export GKPASS_SANDBOX_STATE="$state" XDG_STATE_HOME="$work/state" GKPASS_CONFIG="$work/none.toml"
unset DBUS_SESSION_BUS_ADDRESS
umask 077
# Every account logs in once with --remember-password (8 at a time), into the file store.
seq 1 "$n" | xargs -P 8 -I{} sh -c 'printf "password-%s\n" {} | "$0" login user{}@passport.test --network sandbox --password-stdin --store file --remember-password 2>/dev/null' "$bin/gkpass"
logins() { grep -c 'http web member=user.*result=success' "$sandbox_log" || true; }
time_run() {
    local start end before after
    before=$(logins)
    start=$(date +%s.%N)
    "$bin/gkpass" refresh --all --quiet --if-expiring-within 2d --jobs "$1" >&2
    end=$(date +%s.%N)
    after=$(logins)
    if [ $((after - before)) -ne "$n" ]; then
        echo "refresh --jobs $1 made $((after - before)) logins, not $n" >&2
        exit 1
    fi
    echo "$end - $start" | bc
}
sequential="$(time_run 1)"
concurrent8="$(time_run 8)"
concurrent32="$(time_run 32)"
echo "## \`gkpass refresh --all\` for $n accounts"
echo
echo "| run | wall time | logins/s | speed-up |"
echo "|---|---|---|---|"
for row in "sequential (--jobs 1):$sequential" "concurrent (--jobs 8, the default):$concurrent8" "concurrent (--jobs 32):$concurrent32"; do
    name="${row%%:*}" secs="${row##*:}"
    printf '| %s | %.1f s | %.0f | %.1fx |\n' "$name" "$secs" "$(echo "$n / $secs" | bc -l)" "$(echo "$sequential / $secs" | bc -l)"
done
echo
echo "Each run signs every account in again (web flow and chat-site step, 4 HTTPS requests over one TLS connection),"
echo "takes each account's lock and stores the new ticket with fsync. The sandbox runs on the same cores."
