#!/usr/bin/env bash
# A fleet of N simulated members (default 1,000) on one single-node etcd: their records
# and published local layers are written straight to etcd (no gateways run), then
#   clawctl fleet status           (reads every record, computes drift)
#   clawctl fleet set --dry-run    (validates the change under every member's local layers)
# are timed (hyperfine when present, else 5 runs of `date`) and their peak RSS measured.
#   bench/fleet.sh [N]             # needs etcd + etcdctl (Debian: etcd-server etcd-client), GNU time
# PROFILE=release bench/fleet.sh   # default: the debug build (the shared CI machine's rule)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
PROFILE=${PROFILE:-debug}
if [ "$PROFILE" = release ]; then cargo build --release --quiet; else cargo build --quiet; fi
BIN="${CARGO_TARGET_DIR:-target}/$PROFILE/clawctl"
WORK=$(mktemp -d)
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
CP=$(port); PP=$(port)
EP="http://127.0.0.1:$CP"
etcd --name b --data-dir "$WORK/data" --listen-client-urls "$EP" --advertise-client-urls "$EP" \
  --listen-peer-urls "http://127.0.0.1:$PP" --initial-advertise-peer-urls "http://127.0.0.1:$PP" \
  --initial-cluster "b=http://127.0.0.1:$PP" >"$WORK/etcd.log" 2>&1 &
ETCD=$!
trap 'kill $ETCD 2>/dev/null; wait $ETCD 2>/dev/null; rm -rf "$WORK"' EXIT
export ETCDCTL_API=3
for _ in $(seq 100); do etcdctl --endpoints "$EP" endpoint health >/dev/null 2>&1 && break; sleep 0.1; done

export HOME="$WORK/home" CLAWCTL_HOME="$WORK/home/.config/clawctl" CLAWCTL_FLEET=bench CLAWCTL_FLEET_ETCD="$EP"
mkdir -p "$CLAWCTL_HOME"
"$BIN" fleet set agents.defaults.model.primary moonshot/kimi-k2.5 >/dev/null
"$BIN" fleet set models.providers.myproxy.base_url https://proxy.example.com/v1 >/dev/null

# N records: every member's local layer differs (its own port, and every tenth its own
# model alias and a proxy of its own), so dry-run grouping cannot hide the cost.
python3 - "$N" "$WORK/members" <<'PY'
import json, sys, os
n, out = int(sys.argv[1]), sys.argv[2]
os.makedirs(out)
for i in range(n):
    host = f"gw{i:05d}"
    local = {"meta": {"version": 1}, "gateway": {"port": 18000 + i, "auth": {"token": "${CLAWCTL_FLEET_REDACTED}"}},
             "models": {"providers": {"moonshot": {"api_key": "cred:moonshot:default"}}}}
    if i % 10 == 0:
        local["agents"] = {"defaults": {"models": {f"a{i}": "moonshot/kimi-k2.5"}}}
        local["models"]["providers"]["myproxy"] = {"api": "openai-completions", "models": [f"m{i}"]}
    rec = {"id": f"{host}-18789", "host": host, "port": 18789, "pid": 1000 + i, "started_unix": 1760000000,
           "started_at": "2026-11-30T00:00:00Z", "version": "0.1.0", "config_sha256": f"{i:064x}",
           "config_current": i % 97 != 0, "fleet_revision": 3, "fleet_cached": False,
           "default_model": "moonshot/kimi-k2.5",
           "providers": {"moonshot": {"source": "credentials.toml profile moonshot:default",
                                      "fingerprint": "sha256:3f9a1c2e" if i % 50 else "sha256:0badf00d",
                                      "shape": "sk-…", "length": 51}},
           "local": local, "refused": None, "updated_unix": 1760000000}
    with open(os.path.join(out, f"{host}-18789"), "w") as f:
        json.dump(rec, f)
PY
t0=$(date +%s.%N)
ls "$WORK/members" | xargs -P 4 -I{} sh -c 'etcdctl --endpoints "$0" put "/clawctl/bench/members/{}" < "$1/{}" >/dev/null' "$EP" "$WORK/members"
t1=$(date +%s.%N)
echo "wrote $N member records in $(python3 -c "print(round($t1-$t0,1))") s ($(du -sh "$WORK/members" | cut -f1) of JSON)"

measure() {
  local label=$1; shift
  if command -v hyperfine >/dev/null 2>&1; then
    hyperfine -N --warmup 1 --runs 5 -i "$*" --export-json "$WORK/h.json" >/dev/null 2>&1
    med=$(python3 -c "import json;print(round(json.load(open('$WORK/h.json'))['results'][0]['median']*1000))")
  else
    best=999999
    for _ in 1 2 3 4 5; do
      s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N)
      ms=$(( (e - s) / 1000000 )); [ $ms -lt $best ] && best=$ms
    done
    med="$best (best of 5)"
  fi
  /usr/bin/time -o "$WORK/rss" -f '%M' "$@" >/dev/null 2>&1 || true
  rss=$(tail -1 "$WORK/rss")
  printf '| %s | %s ms | %s MiB |\n' "$label" "$med" "$(python3 -c "print(round($rss/1024,1))")"
}
echo "| command ($N members, $PROFILE build) | time | peak RSS |"
echo "|---|---:|---:|"
measure "fleet status" "$BIN" fleet status
measure "fleet status --json" "$BIN" fleet status --json
measure "fleet set --dry-run gateway.bind lan" "$BIN" fleet set --dry-run gateway.bind lan
measure "fleet unset --dry-run (refused: breaks $((N / 10)) members)" "$BIN" fleet unset --dry-run models.providers.myproxy.base_url
measure "config get gateway.port (fleet layer read)" "$BIN" config get gateway.port
