#!/usr/bin/env bash
# Benchmark: `clawctl migrate` on a ~50 KB version-0 config with every operation of
# migrations/0001 pending (12 ops: renames, wrap, provider-id maps, secrets moved to
# credentials.toml, set_if_missing, stamp). Target: ≤ 20 ms per whole process.
#
#   bench/migrate.sh            # builds --release, uses hyperfine when installed
#   CLAWCTL_BIN=path bench/migrate.sh
#   KB=100 bench/migrate.sh     # another size
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
kb="${KB:-50}"
if [[ -z "${CLAWCTL_BIN:-}" ]]; then
  (cd "$here" && cargo build --release --quiet)
  CLAWCTL_BIN="${CARGO_TARGET_DIR:-$here/target}/release/clawctl"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
home="$work/home"
cfg_dir="$home/.config/clawctl"
mkdir -p "$cfg_dir"

# A version-0 file in the shape of tests/common realistic_config(), written the old
# way: no [meta], model as a string under an old provider id, the gateway token at
# `gateway.token` as a literal, camelCase provider keys, a few literal API keys.
v0="$work/v0.toml"
{
  printf '# Gateway config for the team box (written before layout versions).\n\n'
  printf '# Default model for every agent\n[agents.defaults]\nmodel = "kimi-code/kimi-for-coding" # switched from glm\n\n'
  printf '[agents.defaults.models]\nkimi = "moonshotai/kimi-k2.5"\nglm = "z-ai/glm-4.6"\n\n'
  printf '[gateway]\nport = 18789\nbind = "loopback"\ntoken = "gw-0123456789abcdefghijklmnopqrstuv"\n\n'
  printf '[models.providers.kimi-code]\nbaseUrl = "https://api.kimi.com/coding/" # global\napiKey = "sk-kimi-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH"\n\n'
  printf '[env.shellEnv]\nenabled = true\ntimeoutMs = 5000\n'
  i=0
  while :; do
    if (( i < 3 )); then key="sk-proxy$i-0123456789abcdefghijklmnopqr"; else key="\${PROXY${i}_API_KEY}"; fi
    printf '\n# proxy number %d\n[models.providers.proxy%d]\nbaseUrl = "https://proxy%d.example.com/v1"\napi = "openai-completions"\napiKey = "%s"\nmodels = ["m-%d-a", "m-%d-b"]\n\n[models.providers.proxy%d.headers]\nX-Team = "team-%d"\n' \
      "$i" "$i" "$i" "$key" "$i" "$i" "$i" "$i"
    i=$((i + 1))
    if (( i * 250 >= kb * 1024 )); then break; fi
  done
} > "$v0"
echo "config: $(wc -c < "$v0") bytes, $(grep -cE "^\[models\.providers\.[a-z0-9-]+\]$" "$v0") providers"

run() { env -i HOME="$home" PATH=/usr/bin:/bin "$CLAWCTL_BIN" "$@"; }
reset="cp $v0 $cfg_dir/config.toml && rm -rf $cfg_dir/credentials.toml $cfg_dir/backups"

# Sanity: the migration applies and validates.
eval "$reset"
run migrate > /dev/null
run config validate > /dev/null
echo "migrated and valid: $(grep -c 'cred:' "$cfg_dir/config.toml") secrets moved"

if command -v hyperfine > /dev/null; then
  hyperfine --warmup 3 --runs "${RUNS:-30}" -N \
    --prepare "sh -c '$reset'" \
    --command-name "migrate (write, 50 KB, 12 ops)" \
    "env -i HOME=$home PATH=/usr/bin:/bin $CLAWCTL_BIN migrate" \
    --command-name "migrate --dry-run" \
    "env -i HOME=$home PATH=/usr/bin:/bin $CLAWCTL_BIN migrate --dry-run"
  eval "$reset"; run migrate > /dev/null
  hyperfine --warmup 3 --runs "${RUNS:-30}" -N \
    --command-name "migrate (nothing to migrate)" \
    "env -i HOME=$home PATH=/usr/bin:/bin $CLAWCTL_BIN migrate"
else
  echo "hyperfine not found (apt-get install -y hyperfine); timing 20 runs with date"
  total=0
  for _ in $(seq 20); do
    eval "$reset"
    s=$(date +%s%N); run migrate > /dev/null; e=$(date +%s%N)
    total=$((total + e - s))
  done
  echo "migrate: mean $((total / 20 / 1000)) µs per process"
fi
