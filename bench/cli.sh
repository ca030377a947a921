#!/usr/bin/env bash
# Whole-process timings of the release binary (hyperfine), against `git config` on
# a file of the same size, plus peak RSS (/usr/bin/time). Prints a markdown table.
#   bench/cli.sh            # needs hyperfine and GNU time (apt-get install hyperfine time)
#   CLAWCTL_BIN=path/to/clawctl bench/cli.sh   # measure an already built binary
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${CLAWCTL_BIN:-}" ] || cargo build --release --quiet
BIN="${CLAWCTL_BIN:-$PWD/target/release/clawctl}"
[ -x "$BIN" ] || BIN="${CARGO_TARGET_DIR:-target}/release/clawctl"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export HOME="$WORK/home" CLAWCTL_HOME="$WORK/home/.config/clawctl"
mkdir -p "$CLAWCTL_HOME"

python3 - "$CLAWCTL_HOME/config.toml" "$WORK/git.cfg" <<'PY'
import sys
kb = 50
s = ('#:schema ./config.schema.json\n[meta]\nversion = 1\n\n[agents.defaults.model]\nprimary = "moonshot/kimi-k2.5" # main\n'
     'fallbacks = ["zai/glm-5"]\n\n[gateway]\nport = 18789\n\n[models.providers.moonshot]\nbase_url = "https://api.moonshot.ai/v1"\napi_key = "cred:moonshot:default"\n')
i = 0
while len(s) < kb * 1024:
    s += (f'\n# proxy {i}\n[models.providers.proxy{i}]\nbase_url = "https://proxy{i}.example.com/v1"\napi = "openai-completions"\n'
          f'api_key = "${{PROXY{i}_API_KEY}}"\nmodels = ["m-{i}-a", "m-{i}-b"]\n\n[models.providers.proxy{i}.headers]\nX-Team = "team-{i}"\n')
    i += 1
open(sys.argv[1], "w").write(s)
g = "[gateway]\n\tport = 18789\n"
i = 0
while len(g) < kb * 1024:
    g += f'[provider "proxy{i}"]\n\tbaseurl = https://proxy{i}.example.com/v1\n\tapi = openai-completions\n\tmodel = m-{i}-a\n\tmodel = m-{i}-b\n\tteam = team-{i}\n'
    i += 1
open(sys.argv[2], "w").write(g)
PY
echo "config.toml: $(wc -c < "$CLAWCTL_HOME/config.toml") bytes; git config file: $(wc -c < "$WORK/git.cfg") bytes"

hyperfine -N -i --warmup 5 --runs 50 --export-markdown "$WORK/t.md" \
  "$BIN config get gateway.port" \
  "git config --file $WORK/git.cfg --get gateway.port" \
  "$BIN config validate" \
  "$BIN status" \
  "$BIN doctor" >/dev/null
cat "$WORK/t.md"
# A real write each run (the prepare step sets the other value back, unmeasured).
hyperfine -N --warmup 3 --runs 40 --prepare "$BIN config set gateway.port 18789" \
  --export-markdown "$WORK/s.md" "$BIN config set gateway.port 18790" >/dev/null
tail -1 "$WORK/s.md"
for cmd in "config get gateway.port" "config validate" "config set gateway.port 18791"; do
  rss=$(/usr/bin/time -f "%M" $BIN $cmd 2>&1 >/dev/null | tail -1)
  echo "peak RSS, clawctl $cmd: ${rss} KiB"
done
