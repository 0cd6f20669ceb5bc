#!/usr/bin/env bash
# Start or stop the Neo4j of deploy/neo4j for one actorgraph home (`make neo4j-up|neo4j-down`).
#
#   deploy/neo4j/neo4j.sh up      build the launcher if needed, start Neo4j for $ACTORGRAPH_HOME
#                                 (default ./.actorgraph), wait until Bolt answers, print the env
#   deploy/neo4j/neo4j.sh down    stop it (SIGTERM: a clean shutdown), wait until it has exited
#   deploy/neo4j/neo4j.sh env     print the path of its neo4j.env (exit 1 when it is not running)
#
# Everything lives under $ACTORGRAPH_HOME/neo4j: data/, logs/, password, neo4j.pid, launcher.log
# and, while the server runs, neo4j.env (NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD). Settings:
# NEO4J_PORT (default 0: a free port), NEO4J_JAVA_OPTS (default a heap of 256 MB growing to 2 GB:
# Neo4j holds a whole transaction in memory, and one ingest bundle of up to 200,000 rows is one
# transaction; 1 GB ran out at a 30,000-indicator world's training bundle),
# NEO4J_START_TIMEOUT (seconds, default 240), PYTHON (to check the store through actorgraph).
set -euo pipefail

action=${1:?usage: neo4j.sh up|down|env}
here=$(cd "$(dirname "$0")" && pwd)
jar=$here/target/actorgraph-neo4j.jar
home=${ACTORGRAPH_HOME:-.actorgraph}
mkdir -p "$home/neo4j"
dir=$(cd "$home/neo4j" && pwd)
pidfile=$dir/neo4j.pid
envfile=$dir/neo4j.env
log=$dir/launcher.log

say() { echo "neo4j: $*"; }
fail() {
  echo "neo4j: ERROR: $*" >&2
  exit 1
}

# The launcher's pid, when that process is alive and is this launcher (pids get reused).
live_pid() {
  [[ -f $pidfile ]] || return 1
  local pid
  pid=$(cat "$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q actorgraph-neo4j.jar || return 1
  echo "$pid"
}

build() {
  local stale
  stale=$(find "$here/pom.xml" "$here/src" -newer "$jar" -print -quit 2>/dev/null || echo missing)
  if [[ -f $jar && -d $here/target/lib && -z $stale ]]; then
    return 0
  fi
  command -v mvn >/dev/null || fail "Maven (mvn) is not installed; it builds deploy/neo4j"
  say "building deploy/neo4j (Neo4j Community from Maven Central; offline once fetched)"
  # Offline first (repeatable without a network once ~/.m2 holds the artefacts), then online.
  mvn -q -B -o -f "$here/pom.xml" package >/dev/null 2>&1 ||
    mvn -q -B -f "$here/pom.xml" package ||
    fail "mvn -q -B -f $here/pom.xml package failed (is Maven Central reachable?)"
}

up() {
  local pid
  if pid=$(live_pid) && [[ -f $envfile ]]; then
    say "already running (pid $pid): $(grep NEO4J_URI "$envfile")"
    say "env: $envfile"
    return 0
  fi
  [[ -n ${pid:-} ]] || {
    rm -f "$envfile" "$pidfile"
    build
    command -v java >/dev/null || fail "java is not installed (Neo4j 5.26 needs Java 17 or 21)"
    # shellcheck disable=SC2086  # NEO4J_JAVA_OPTS is a list of options
    nohup setsid java ${NEO4J_JAVA_OPTS:--Xms256m -Xmx2g -XX:+ExitOnOutOfMemoryError} \
      -jar "$jar" "$dir" "${NEO4J_PORT:-0}" >>"$log" 2>&1 </dev/null &
    say "starting (log $log)"
  }
  local waited=0 limit=${NEO4J_START_TIMEOUT:-240}
  while [[ ! -f $envfile ]]; do
    if ((waited > 2)) && ! live_pid >/dev/null; then
      tail -n 30 "$log" >&2 || true
      fail "Neo4j exited during start; see $log and $dir/logs/debug.log"
    fi
    ((waited < limit)) || {
      tail -n 30 "$log" >&2 || true
      fail "Neo4j did not answer within ${limit} s; see $log"
    }
    sleep 1
    waited=$((waited + 1))
  done
  if [[ -n ${PYTHON:-} && -x ${PYTHON} ]]; then
    # Bolt answers: check it the way every command will use it (schema applied and checked).
    (
      set -a
      # shellcheck disable=SC1090
      . "$envfile"
      set +a
      "$PYTHON" -m actorgraph.cli --home "$home" store start >/dev/null
    ) || fail "Neo4j runs but actorgraph cannot use it (see the error above)"
  fi
  tail -n 1 "$log"
  say "env: $envfile   (use it: set -a; . $envfile; set +a)"
}

down() {
  local pid halves=0
  if ! pid=$(live_pid); then
    rm -f "$envfile" "$pidfile"
    say "not running"
    return 0
  fi
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null; do
    if ((halves >= 240)); then
      say "no clean stop after 120 s: killing pid $pid"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.5
    halves=$((halves + 1))
  done
  rm -f "$envfile" "$pidfile"
  say "stopped (pid $pid)"
}

case $action in
up) up ;;
down) down ;;
env)
  live_pid >/dev/null && [[ -f $envfile ]] || exit 1
  echo "$envfile"
  ;;
*) fail "unknown action $action (up, down or env)" ;;
esac
