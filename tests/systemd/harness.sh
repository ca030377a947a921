#!/usr/bin/env bash
# The real `systemd --user`, end to end: run as root inside
#   unshare --fork --pid --mount-proc --mount bash harness.sh CLAWCTL_BIN
# A tmpfs on /run/systemd/system makes systemd believe it was booted with systemd, so
# `systemd --user` starts as a user manager in this private pid + mount namespace;
# `systemctl --user` reaches it through $XDG_RUNTIME_DIR/systemd/private (no D-Bus).
# Steps: service install -> started by systemd -> status/doctor see the live process ->
# the key rotated in the unit's EnvironmentFile -> restart needed -> gateway restart
# goes through systemd -> the receipt matches the new key; then a drop-in pointing
# the unit at another home is seen as "the service reads another config".
# Exit 0: every step held; 1: a step failed (its output is shown); 2: cannot run here.
set -u
BIN=${1:?usage: harness.sh CLAWCTL_BIN}
SD=/lib/systemd/systemd
[ -x "$SD" ] || { echo "SKIP: $SD is missing (apt-get install systemd)"; exit 2; }
[ "$$" = 1 ] || { echo "SKIP: not pid 1 of a private pid namespace (run under unshare --fork --pid --mount-proc --mount)"; exit 2; }
mkdir -p /run/systemd/system && mount -t tmpfs tmpfs /run/systemd/system \
  || { echo "SKIP: cannot mount a tmpfs on /run/systemd/system"; exit 2; }

T=$(mktemp -d); export HOME=$T/home XDG_RUNTIME_DIR=$T/xdg PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8
export USER=root LOGNAME=root
mkdir -p "$HOME" && mkdir -m 700 "$XDG_RUNTIME_DIR"
C=$HOME/.config/clawctl; mkdir -p "$C"; chmod 700 "$C"
"$SD" --user --log-target=console --log-level=warning >"$T/systemd.log" 2>&1 &
SDPID=$!
trap 'kill $SDPID 2>/dev/null; wait $SDPID 2>/dev/null; umount /run/systemd/system 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 100); do [ -S "$XDG_RUNTIME_DIR/systemd/private" ] && break; sleep 0.05; done
[ -S "$XDG_RUNTIME_DIR/systemd/private" ] || { echo "SKIP: systemd --user did not start:"; cat "$T/systemd.log"; exit 2; }

step() { echo "== $*"; }
fail() { echo "FAIL: $*"; echo "-- systemd log:"; tail -20 "$T/systemd.log"; journal; exit 1; }
journal() { systemctl --user status clawctl-gateway.service --no-pager 2>&1 | tail -15; }
cc() { "$BIN" "$@"; }
KEY_A=sk-proj-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
KEY_B=sk-proj-BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB
PORT=$((20000 + RANDOM % 20000))
cat >"$C/config.toml" <<TOML
[meta]
version = 1
[agents.defaults.model]
primary = "openai/gpt-5"
[gateway]
port = $PORT
[gateway.auth]
mode = "none"
TOML
chmod 600 "$C/config.toml"
# The key lives in a file of its own that the unit reads (EnvironmentFile=, in a drop-in).
printf 'OPENAI_API_KEY=%s\n' "$KEY_A" >"$HOME/gateway.env"; chmod 600 "$HOME/gateway.env"
U=$HOME/.config/systemd/user
mkdir -p "$U/clawctl-gateway.service.d"
printf '[Service]\nEnvironmentFile=%%h/gateway.env\n' >"$U/clawctl-gateway.service.d/10-key.conf"
fp() { printf '%s' "$1" | sha256sum | cut -c1-8; }

step "service install (systemd starts it)"
out=$(cc service install --platform systemd 2>&1) || fail "service install: $out"
echo "$out" | sed 's/^/   /'
for _ in $(seq 100); do [ -f "$C/run/gateway.json" ] && break; sleep 0.1; done
[ "$(systemctl --user is-active clawctl-gateway.service)" = active ] || fail "the unit is not active"
MAIN=$(systemctl --user show -p MainPID --value clawctl-gateway.service)
[ -f "$C/run/gateway.json" ] || fail "no receipt"
grep -q "\"pid\": *$MAIN" "$C/run/gateway.json" || fail "the receipt's pid is not systemd's MainPID $MAIN: $(cat "$C/run/gateway.json")"

step "status and doctor see the live process (pid $MAIN) and its key"
st=$(cc status 2>&1); echo "$st" | sed 's/^/   /'
echo "$st" | grep -q "running (pid $MAIN)" || fail "status does not show the running process"
echo "$st" | grep -q "sha256:$(fp "$KEY_A")" || fail "status does not show the service's key"
dr=$(cc doctor 2>&1); echo "$dr" | sed 's/^/   /'
echo "$dr" | grep -qi "restart" && fail "doctor asks for a restart before anything changed"
echo "$st$dr" | grep -q "AAAAAAAA" && fail "a key value was printed"

step "rotate the key in the EnvironmentFile: restart needed"
sleep 2.1  # newer than the process start by more than its precision (1 s)
printf 'OPENAI_API_KEY=%s\n' "$KEY_B" >"$HOME/gateway.env"
dr=$(cc doctor 2>&1); echo "$dr" | sed 's/^/   /'
echo "$dr" | grep -qi "restart" || fail "doctor does not say the gateway must be restarted"

step "gateway restart goes through systemd; the receipt matches"
rs=$(cc gateway restart 2>&1) || fail "gateway restart: $rs"
echo "$rs" | sed 's/^/   /'
echo "$rs" | grep -q "systemctl --user restart" || fail "gateway restart did not go through systemd"
for _ in $(seq 100); do
  NEW=$(systemctl --user show -p MainPID --value clawctl-gateway.service)
  [ "$NEW" != "$MAIN" ] && [ "$NEW" != 0 ] && grep -q "\"pid\": *$NEW" "$C/run/gateway.json" 2>/dev/null && break
  sleep 0.1
done
[ "$NEW" != "$MAIN" ] || fail "systemd's MainPID did not change"
grep -q "\"pid\": *$NEW" "$C/run/gateway.json" || fail "the receipt is not the new process's"
grep -q "$(fp "$KEY_B")" "$C/run/gateway.json" || fail "the receipt does not hold the new key's fingerprint: $(cat "$C/run/gateway.json")"
dr=$(cc doctor 2>&1); echo "$dr" | sed 's/^/   /'
echo "$dr" | grep -qi "restart-needed\|must be restarted\|restart needed" && fail "doctor still asks for a restart"

step "a drop-in points the unit at another home: the service reads another config"
O=$T/other; mkdir -p "$O"; chmod 700 "$O"
printf '[meta]\nversion = 1\n[gateway]\nport = %s\n[gateway.auth]\nmode = "none"\n' $((PORT + 1)) >"$O/config.toml"
printf '[Service]\nEnvironment=CLAWCTL_HOME=%s\n' "$O" >"$U/clawctl-gateway.service.d/20-home.conf"
systemctl --user daemon-reload && systemctl --user restart clawctl-gateway.service || fail "restart with the other home"
for _ in $(seq 100); do [ -f "$O/run/gateway.json" ] && break; sleep 0.1; done
[ -f "$O/run/gateway.json" ] || fail "the gateway did not write its receipt in the other home"
dr=$(cc doctor 2>&1); echo "$dr" | sed 's/^/   /'
echo "$dr" | grep -q "the service reads $O/config.toml" || fail "doctor does not say the service reads the other home's config"
echo "PASS: real systemd --user, end to end"
