#!/usr/bin/env bash
# The model gateway beside its peers, on loopback only: the same fast upstream (nginx
# answering a fixed OpenAI chat completion, and a fixed SSE stream) called directly, through
# `clawctl gateway run`, through the LiteLLM proxy (PyPI `litellm[proxy]`) and through
# Portkey's gateway (npm `@portkey-ai/gateway`); the same requests, non-streamed and
# streamed, at concurrency 1, 64 and 256, with `hey`.
#
# Reports per gateway and case: requests per second, p50/p99 latency, the p50/p99 added over
# calling the upstream directly, time to the first streamed byte (p50 over 200 sequential
# curl requests), and the peak RSS of the gateway's processes over the whole run.
#
# Usage: BIN=target/release/clawctl bash bench/gateway.sh
#   LITELLM=path/to/venv/bin/litellm   (default: litellm on PATH; skipped if missing)
#   PORTKEY=path/to/node_modules/@portkey-ai/gateway/build/start-server.js (skipped if missing)
#   DURATION=5 (seconds per measurement)
# Needs: nginx, hey, curl, python3. Install the peers with
#   python3 -m venv v && v/bin/pip install 'litellm[proxy]'; npm install @portkey-ai/gateway
set -euo pipefail
BIN=$(realpath "${BIN:?set BIN to a release clawctl}")
DURATION=${DURATION:-5}
LITELLM=${LITELLM:-$(command -v litellm || true)}
PORTKEY=${PORTKEY:-}
for t in nginx hey curl python3; do command -v $t >/dev/null || { echo "needs $t"; exit 2; }; done

W=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.3; rm -rf "$W"; }
trap cleanup EXIT
free_port() { python3 -c 's=__import__("socket").socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 300); do curl -s -o /dev/null -m 1 "$1" && return 0; sleep 0.1; done; echo "not up: $1"; return 1; }

# --- the upstream ---------------------------------------------------------------------
UP=$(free_port)
COMPLETION='{"id":"chatcmpl-b","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}'
C1='{"id":"chatcmpl-b","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}'
C2='{"id":"chatcmpl-b","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}'
mkdir -p "$W/nginx"
cat > "$W/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $W/nginx/nginx.pid;
error_log $W/nginx/error.log;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $W/nginx/body;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$UP;
    location = /v1/chat/completions { default_type application/json; return 200 '$COMPLETION'; }
    location = /s/v1/chat/completions { default_type text/event-stream; return 200 'data: $C1\n\ndata: $C2\n\ndata: [DONE]\n\n'; }
  }
}
EOF
nginx -c "$W/nginx/nginx.conf" -p "$W/nginx" & PIDS+=($!)
sleep 0.3

# --- clawctl ----------------------------------------------------------------------------
CP=$(free_port)
mkdir -p "$W/claw"
cat > "$W/claw/config.toml" <<EOF
[meta]
version = 1
[agents.defaults.model]
primary = "fast/m"
[models.providers.fast]
base_url = "http://127.0.0.1:$UP/v1"
api = "openai-completions"
api_key = "\${BENCH_KEY}"
[models.providers.faststream]
base_url = "http://127.0.0.1:$UP/s/v1"
api = "openai-completions"
api_key = "\${BENCH_KEY}"
[gateway]
port = $CP
[gateway.auth]
mode = "token"
token = "\${CLAWCTL_GATEWAY_TOKEN}"
EOF
env -i PATH=/usr/bin:/bin HOME="$W/claw-home" CLAWCTL_HOME="$W/claw" BENCH_KEY=sk-bench-0123456789 \
  CLAWCTL_GATEWAY_TOKEN=tok-bench "$BIN" gateway run 2>"$W/claw.log" & PIDS+=($!); CLAW_PID=$!
wait_http "http://127.0.0.1:$CP/healthz"

# --- LiteLLM ----------------------------------------------------------------------------
LL_PID=""
if [ -n "$LITELLM" ] && [ -x "$LITELLM" ]; then
  LP=$(free_port)
  cat > "$W/litellm.yaml" <<EOF
model_list:
  - model_name: fast/m
    litellm_params: {model: openai/m, api_base: "http://127.0.0.1:$UP/v1", api_key: sk-bench}
  - model_name: faststream/m
    litellm_params: {model: openai/m, api_base: "http://127.0.0.1:$UP/s/v1", api_key: sk-bench}
general_settings: {master_key: tok-bench}
EOF
  env -i PATH="$(dirname "$LITELLM"):/usr/bin:/bin" HOME="$W" LITELLM_LOG=ERROR \
    "$LITELLM" --config "$W/litellm.yaml" --host 127.0.0.1 --port "$LP" --num_workers 1 >"$W/litellm.log" 2>&1 & PIDS+=($!); LL_PID=$!
  wait_http "http://127.0.0.1:$LP/health/liveliness" || LL_PID=""
fi

# --- Portkey ----------------------------------------------------------------------------
PK_PID=""
if [ -n "$PORTKEY" ] && [ -f "$PORTKEY" ]; then
  PP=$(free_port)
  env -i PATH=/usr/bin:/bin HOME="$W" NODE_ENV=production node "$PORTKEY" --port="$PP" --headless >"$W/portkey.log" 2>&1 & PIDS+=($!); PK_PID=$!
  wait_http "http://127.0.0.1:$PP/" || PK_PID=""
fi

# --- measuring --------------------------------------------------------------------------
body() { printf '{"model":"%s","messages":[{"role":"user","content":"hi"}],"stream":%s}' "$1" "$2" > "$W/body.json"; }
# rss_tree PID: the peak RSS (VmHWM) of PID and its descendants, in MiB.
rss_tree() {
  local total=0 p
  for p in $1 $(pgrep -P "$1" 2>/dev/null) $(for c in $(pgrep -P "$1" 2>/dev/null); do pgrep -P "$c"; done); do
    total=$((total + $(awk '/VmHWM/{print $2}' /proc/$p/status 2>/dev/null || echo 0)))
  done
  echo $((total / 1024))
}
# run NAME URL MODEL STREAM C -> "rps p50_ms p99_ms"
run() {
  local url=$2 model=$3 stream=$4 c=$5; shift 5
  body "$model" "$stream"
  hey -z "${DURATION}s" -c "$c" -m POST -T application/json -D "$W/body.json" "$@" "$url" > "$W/hey.txt" 2>&1 || true
  awk '/Requests\/sec/{r=$2} /  50% in/{p50=$3*1000} /  99% in/{p99=$3*1000} /\[200\]/{ok=$2} END{printf "%.0f %.2f %.2f %s\n", r, p50, p99, ok+0}' "$W/hey.txt"
}
ttfb() {
  local url=$1 model=$2; shift 2
  body "$model" true
  for _ in $(seq 200); do
    curl -s -o /dev/null -w '%{time_starttransfer}\n' -X POST -H 'Content-Type: application/json' "$@" --data @"$W/body.json" "$url"
  done | sort -n | awk '{a[NR]=$1} END{printf "%.2f\n", a[int(NR/2)+1]*1000}'
}

printf '%-9s %-10s %4s %9s %8s %8s %10s %10s\n' gateway case c req/s p50_ms p99_ms +p50_ms +p99_ms
declare -A BASE50 BASE99
targets=("direct|http://127.0.0.1:$UP/v1/chat/completions|http://127.0.0.1:$UP/s/v1/chat/completions|")
targets+=("clawctl|http://127.0.0.1:$CP/v1/chat/completions||Authorization: Bearer tok-bench")
[ -n "$LL_PID" ] && targets+=("litellm|http://127.0.0.1:$LP/v1/chat/completions||Authorization: Bearer tok-bench")
[ -n "$PK_PID" ] && targets+=("portkey|http://127.0.0.1:$PP/v1/chat/completions||Authorization: Bearer sk-bench")
for t in "${targets[@]}"; do
  IFS='|' read -r name url surl auth <<<"$t"
  hdr=()
  [ -n "$auth" ] && hdr=(-H "$auth")
  [ "$name" = portkey ] && hdr+=(-H "x-portkey-provider: openai")
  for mode in non-stream stream; do
    model=fast/m stream=false u=$url extra=()
    if [ "$mode" = stream ]; then model=faststream/m stream=true; [ -n "$surl" ] && u=$surl; fi
    if [ "$name" = portkey ]; then
      model=m
      base="http://127.0.0.1:$UP/v1"; [ "$mode" = stream ] && base="http://127.0.0.1:$UP/s/v1"
      extra=(-H "x-portkey-custom-host: $base")
    fi
    for c in 1 64 256; do
      read -r rps p50 p99 ok <<<"$(run "$name" "$u" "$model" "$stream" "$c" "${hdr[@]}" "${extra[@]}")"
      key="$mode/$c"
      if [ "$name" = direct ]; then BASE50[$key]=$p50; BASE99[$key]=$p99; a50=-; a99=-; else
        a50=$(echo "$p50 - ${BASE50[$key]}" | bc); a99=$(echo "$p99 - ${BASE99[$key]}" | bc); fi
      printf '%-9s %-10s %4s %9s %8s %8s %10s %10s  (200s: %s)\n' "$name" "$mode" "$c" "$rps" "$p50" "$p99" "$a50" "$a99" "$ok"
    done
  done
  if [ "$name" != direct ]; then
    tf=$(ttfb "$u" "$model" "${hdr[@]}" "${extra[@]}")
    pid=$CLAW_PID; [ "$name" = litellm ] && pid=$LL_PID; [ "$name" = portkey ] && pid=$PK_PID
    echo "$name: time to first streamed byte p50 ${tf} ms; peak RSS $(rss_tree "$pid") MiB"
  else
    echo "direct: time to first streamed byte p50 $(ttfb "$surl" faststream/m) ms"
  fi
done
