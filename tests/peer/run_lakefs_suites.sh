#!/usr/bin/env bash
# Run lakeFS's own client test suites against fresh embedded servers (a compatibility check
# to repeat after server changes; not part of `make test`: the suites live in their repos).
#
#   tests/peer/run_lakefs_suites.sh LAKEFS_CHECKOUT LAKEFS_SPEC_CHECKOUT [SUITE...]
#
# LAKEFS_CHECKOUT: a checkout of treeverse/lakeFS (its clients/python-wrapper integration
# tests, without test_import.py, which needs cloud object stores; and api/swagger.yml).
# LAKEFS_SPEC_CHECKOUT: a checkout of aai-institute/lakefs-spec (its tests/); the package
# itself comes from PyPI. SUITE: wrapper, lakefs-spec, schemathesis (default: all three).
# Peer-only tools go into $PEER_VENV (default .venv-peer), never into the project's venv.
# lakefs-spec's tests have localhost:8000 and lakeFS's quickstart keys built in, so that
# suite's server listens on 127.0.0.1:8000: the port must be free.
set -uo pipefail

if [ $# -lt 2 ]; then
  sed -n '4,14p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LAKEFS="$(cd "$1" && pwd)" || exit 2
SPEC="$(cd "$2" && pwd)" || exit 2
shift 2
SUITES=("$@")
[ ${#SUITES[@]} -eq 0 ] && SUITES=(wrapper lakefs-spec schemathesis)
PEER_VENV="${PEER_VENV:-$ROOT/.venv-peer}"
PEER_PACKAGES=(
  lakefs-spec==0.15.1 schemathesis==4.32.5 pytest-datafiles==3.0.1 pytest-asyncio==1.5.0
  pandas==3.1.1 pyarrow==26.0.1 pillow==13.0.0 polars==2.1.0 duckdb==2.0.1
)

for need in "$LAKEFS/clients/python-wrapper/tests/integration" "$LAKEFS/api/swagger.yml" \
            "$SPEC/tests"; do
  [ -e "$need" ] || { echo "error: $need not found: is that the right checkout?" >&2; exit 2; }
done

if [ ! -x "$PEER_VENV/bin/python" ]; then
  python3 -m venv "$PEER_VENV" || exit 1
fi
"$PEER_VENV/bin/python" -m pip install -q -c "$ROOT/constraints.txt" -e "$ROOT" pytest \
  "${PEER_PACKAGES[@]}" || { echo "error: installing the peer tools failed" >&2; exit 1; }

PY="$PEER_VENV/bin/python"
SERVE=("$PY" "$ROOT/tests/peer/with_server.py")
export PATH="$PEER_VENV/bin:$PATH"
status=0
summary=""
SCRATCH="$(mktemp -d)"  # schemathesis keeps a cache in its working directory
trap 'rm -rf "$SCRATCH"' EXIT

run_suite() {  # name, directory, then the command
  local name=$1 dir=$2 rc; shift 2
  echo "=== $name (in $dir): $*"
  (cd "$dir" && "$@")
  rc=$?
  summary+="$name: exit $rc"$'\n'
  [ $rc -eq 0 ] || status=1
}

for suite in "${SUITES[@]}"; do
  case "$suite" in
    wrapper)
      run_suite wrapper "$LAKEFS/clients/python-wrapper" "${SERVE[@]}" -- \
        "$PY" -m pytest -p no:cacheprovider -q -rfs tests/integration \
        --ignore=tests/integration/test_import.py
      ;;
    lakefs-spec)
      run_suite lakefs-spec "$SPEC" "${SERVE[@]}" --port 8000 --quickstart-credentials \
        --no-env --sample-repo lakefs-spec-tests -- "$PY" -m pytest -p no:cacheprovider -q -rfs tests
      ;;
    schemathesis)
      # Twice: names as generated (mostly 404s and 400s), then against a populated repository.
      run_suite schemathesis "$SCRATCH" "${SERVE[@]}" -- "$PY" "$ROOT/tests/peer/api_fuzz.py" \
        "$LAKEFS/api/swagger.yml" --max-examples 10
      run_suite schemathesis-repository "$SCRATCH" "${SERVE[@]}" --sample-repo fuzz-sample -- \
        "$PY" "$ROOT/tests/peer/api_fuzz.py" "$LAKEFS/api/swagger.yml" --repository fuzz-sample \
        --max-examples 30
      ;;
    *) echo "error: unknown suite $suite (use wrapper, lakefs-spec, schemathesis)" >&2; exit 2 ;;
  esac
done
printf '=== summary\n%s' "$summary"
exit $status
