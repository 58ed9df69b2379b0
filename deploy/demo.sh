#!/usr/bin/env bash
# make demo: a 3-server raftcron cluster and 2 workers on this machine run a
# real report every 10 seconds; the leader is killed mid-way and no tick is
# missed. It runs as production should: mutual TLS on every port and ACL
# tokens, with a CA and certificates made here for the demo. Everything
# started here is stopped when the demo ends or is interrupted. Works with only Go; uses Docker when a daemon answers
# (DEMO_RUNTIME=exec forces plain processes).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/bin/raftcron
BASE=${DEMO_PORT_BASE:-17100}
RUN_FOR=${DEMO_SECONDS:-35}
WORK=$(mktemp -d /tmp/raftcron-demo.XXXXXX)
PIDS=()
SERVERS="127.0.0.1:$((BASE+11)),127.0.0.1:$((BASE+12)),127.0.0.1:$((BASE+13))"
export RAFTCRON_ADDR=$SERVERS

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "${RUNTIME:-}" = docker ]; then
    for w in a b; do
      docker ps -aq --filter "label=raftcron.io/worker=demo-worker-$w" 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1 || true
    done
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$BIN" ] || make build >/dev/null
CGO_ENABLED=0 go build -o "$WORK/nightly-report" ./examples/nightly-report

if [ "${DEMO_RUNTIME:-}" != exec ] && docker info >/dev/null 2>&1; then
  RUNTIME=docker
  cp examples/nightly-report/Dockerfile examples/nightly-report/orders.csv "$WORK/"
  docker build -q -t raftcron/nightly-report:demo "$WORK" >/dev/null
  MANIFEST=examples/nightly-report.yaml
  echo "Docker Engine answers: workers use the docker runtime (image raftcron/nightly-report:demo, built FROM scratch here)."
else
  RUNTIME=exec
  MANIFEST=$WORK/nightly-report-exec.yaml
  # Exec workers take only Jobs that ask for the exec runtime.
  sed -e "s#imagePullPolicy: Never#imagePullPolicy: Never\n            command: [$WORK/nightly-report, -in, $ROOT/examples/nightly-report/orders.csv]#" \
    -e "s#restartPolicy: Never#restartPolicy: Never\n          nodeSelector: {raftcron.io/runtime: exec}#" \
    examples/nightly-report.yaml > "$MANIFEST"
  echo "Workers use the exec runtime (plain processes): no Docker Engine answers, or DEMO_RUNTIME=exec."
fi

say "Making a cluster CA and certificates (mutual TLS on every port)"
TLS=$WORK/tls
"$BIN" tls ca create --out "$TLS/ca"
for i in 1 2 3; do "$BIN" tls cert create --ca "$TLS/ca" --server --name "s$i" --out "$TLS/s$i"; done
for w in a b; do "$BIN" tls cert create --ca "$TLS/ca" --worker --name "demo-worker-$w" --out "$TLS/demo-worker-$w"; done
"$BIN" tls cert create --ca "$TLS/ca" --client --name demo-user --out "$TLS/demo-user"
export RAFTCRON_CACERT=$TLS/ca/ca.pem RAFTCRON_CLIENT_CERT=$TLS/demo-user/demo-user.pem RAFTCRON_CLIENT_KEY=$TLS/demo-user/demo-user-key.pem
unset RAFTCRON_INSECURE RAFTCRON_TOKEN
tlsflags() { echo --tls-ca "$TLS/ca/ca.pem" --tls-cert "$TLS/$1/$1.pem" --tls-key "$TLS/$1/$1-key.pem"; }

say "Starting 3 servers (gRPC $SERVERS)"
for i in 1 2 3; do
  args=(server --node-id "s$i" --data-dir "$WORK/s$i" --raft-addr "127.0.0.1:$((BASE+i))"
        --grpc-addr "127.0.0.1:$((BASE+10+i))" --http-addr "127.0.0.1:$((BASE+20+i))"
        --worker-ttl 2s --lease-ttl 4s --log-level warn $(tlsflags "s$i"))
  if [ "$i" = 1 ]; then args+=(--bootstrap); else args+=(--join "127.0.0.1:$((BASE+11))"); fi
  "$BIN" "${args[@]}" >"$WORK/s$i.log" 2>&1 &
  PIDS+=($!); eval "SPID$i=$!"
done
say "Bootstrapping ACLs: the management token is printed once"
for _ in $(seq 150); do
  "$BIN" acl bootstrap >"$WORK/bootstrap.txt" 2>"$WORK/bootstrap.err" && break; sleep 0.2
done
sed 's/\(SecretID: *rcs_.\{6\}\).*/\1... (hidden in this demo)/' "$WORK/bootstrap.txt"
export RAFTCRON_TOKEN=$(awk '/SecretID/{print $2}' "$WORK/bootstrap.txt")
[ -n "$RAFTCRON_TOKEN" ] || { cat "$WORK/bootstrap.err"; exit 1; }
for _ in $(seq 150); do
  [ "$("$BIN" cluster members 2>/dev/null | grep -ci true)" -ge 3 ] && break; sleep 0.2
done
"$BIN" cluster members
UITOKEN=$("$BIN" acl token create --name dashboard --namespace '*' --verbs read,write,trigger,logs | awk '/SecretID/{print $2}')
say "Dashboard (while the demo runs): https://127.0.0.1:$((BASE+21))/ui/ (every server serves it over HTTPS with its server certificate, from the demo's CA $TLS/ca/ca.pem; log in with $UITOKEN)"
"$BIN" healthcheck --tls-ca "$TLS/ca/ca.pem" "https://127.0.0.1:$((BASE+21))/readyz"

say "Refused: no token, a token of another namespace, plaintext"
RAFTCRON_TOKEN= "$BIN" get cronjobs 2>&1 | sed 's/^/  no token:        /' || true
TEAM=$("$BIN" acl token create --name team-a-ci --namespace team-a --verbs read,write | awk '/SecretID/{print $2}')
"$BIN" apply -f "$MANIFEST" --token "$TEAM" 2>&1 | sed 's/^/  team-a token:    /' || true
RAFTCRON_TOKEN= "$BIN" get cronjobs --insecure --timeout 2s 2>&1 | sed 's/^/  plaintext:       /' || true

say "Starting 2 workers ($RUNTIME runtime)"
for w in a b; do
  "$BIN" worker --servers "$SERVERS" --id "demo-worker-$w" --slots 2 --labels "zone=$w" \
    --data-dir "$WORK/worker-$w" --runtime "$RUNTIME" --allow-exec --log-level warn $(tlsflags "demo-worker-$w") >"$WORK/worker-$w.log" 2>&1 &
  PIDS+=($!)
done
for _ in $(seq 100); do [ "$("$BIN" get workers 2>/dev/null | grep -c Ready)" -ge 2 ] && break; sleep 0.2; done
"$BIN" get workers

say "Applying $MANIFEST (every 10 seconds, Forbid, catchUp All)"
"$BIN" apply -f "$MANIFEST"
START=$(date +%s)

say "Letting it run for ${RUN_FOR}s"
sleep "$RUN_FOR"
"$BIN" get jobs --cronjob nightly-report
LAST=$("$BIN" get jobs --cronjob nightly-report 2>/dev/null | awk 'NR>1 && $2=="Complete"{n=$1} END{print n}')
if [ -n "$LAST" ]; then
  say "The report of $LAST (raftcron logs job/$LAST)"
  "$BIN" logs "job/$LAST"
fi

LEADER=$("$BIN" cluster members | awk 'NR>1 && tolower($5)=="true"{print $1}')
say "Killing the leader ($LEADER) with SIGKILL"
eval "kill -9 \$SPID${LEADER#s}"
KILLED=$(date +%s.%N)
export RAFTCRON_ADDR=$(echo "$SERVERS" | tr ',' '\n' | grep -v ":$((BASE+10+${LEADER#s}))\$" | paste -sd,)
for _ in $(seq 100); do
  NEW=$("$BIN" cluster members 2>/dev/null | awk 'NR>1 && tolower($5)=="true"{print $1}')
  [ -n "$NEW" ] && [ "$NEW" != "$LEADER" ] && break; sleep 0.1
done
printf 'new leader %s elected %.1fs after the kill\n' "$NEW" "$(awk -v a="$(date +%s.%N)" -v b="$KILLED" 'BEGIN{print a-b}')"
"$BIN" cluster members || true

say "Running for another ${RUN_FOR}s without it"
sleep "$RUN_FOR"
"$BIN" get jobs --cronjob nightly-report

say "Every tick accounted for?"
"$BIN" get jobs --cronjob nightly-report 2>/dev/null | awk -v start="$START" '
  NR>1 { split($1, p, "-"); t=p[length(p)]; if (t+0 >= start) { seen[t]=1; if (min==""||t<min) min=t; if (t>max) max=t; n++ } }
  END {
    missed=0; for (t=min; t<=max; t+=10) if (!(t in seen)) missed++;
    printf "ticks from %s to %s: %d expected, %d Jobs, %d missed\n", strftime("%H:%M:%S", min), strftime("%H:%M:%S", max), (max-min)/10+1, n, missed
    exit (missed > 0)
  }'
"$BIN" describe cronjob nightly-report | sed -n '/Scheduling Decisions/,$p' | tail -n 10

say "Where to look next"
cat <<EOT
  (while it ran: export RAFTCRON_ADDR=$SERVERS RAFTCRON_CACERT=... RAFTCRON_CLIENT_CERT=... RAFTCRON_CLIENT_KEY=... RAFTCRON_TOKEN=...)
  raftcron dev                                  # your own one-process cluster; prints a file to source for TLS and the token
  raftcron get cronjobs | get jobs | get attempts --job JOB | get workers
  raftcron describe cronjob nightly-report     # decisions: why each tick ran or was skipped
  raftcron logs job/JOB                          # a run's output
  raftcron trigger cronjob/nightly-report       # run it now
  raftcron schedule simulate --schedule '0 3 * * *' --tz Europe/Berlin --last 2026-10-24T00:00:00Z --now 2026-10-26T12:00:00Z
  dashboard: https://127.0.0.1:$((BASE+21))/ui/ on any server's --http-addr (HTTPS, the cluster CA; log in with an ACL token)
  metrics: https://127.0.0.1:$((BASE+21))/metrics (raftcron_schedule_decisions_total, raftcron_runs_finished_total, raftcron_run_start_delay_seconds)
The demo stops everything it started now.
EOT
