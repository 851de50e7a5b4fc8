#!/usr/bin/env bash
# Installs (once) the AWS emulator `ministack` (PyPI) into a venv under the tool cache, keyed by
# version, and prints the path of the venv's python. The stack (stack.sh) serves its EKS
# access-entry APIs on 127.0.0.1 with `python -m hypercorn ministack.app:app --bind 127.0.0.1:P`
# (ministack's own entry point binds 0.0.0.0). build.sh calls this script so a fresh machine
# (and CI) has it before the tests run. Warm: returns at once. TEST INFRASTRUCTURE.
#
# Usage: test/stack/ministack.sh               # install if needed, print the venv's python
#        test/stack/ministack.sh --print-path  # only print where it is (or will be)
set -euo pipefail

# ---- pinned versions ---------------------------------------------------------
MINISTACK_VERSION=1.5.33
# ------------------------------------------------------------------------------

CACHE="${AAS_CACHE:-$HOME/.cache/aws-auth-syncer}"
VENV="$CACHE/venv/ministack-$MINISTACK_VERSION"
PY="$VENV/bin/python"
SPEC="ministack==$MINISTACK_VERSION"

if [[ "${1:-}" == --print-path ]]; then echo "$PY"; exit 0; fi

ready() { [[ -x "$PY" && "$(cat "$VENV/.aas-complete" 2>/dev/null)" == "$SPEC" ]]; }

if ! ready; then
  mkdir -p "$CACHE/venv" "$CACHE/logs"
  # Own lock (not build.sh's): build.sh holds its lock while it calls this script.
  exec 8>"$CACHE/.ministack.lock"
  flock 8
  if ! ready; then
    log="$CACHE/logs/ministack-pip.log"
    echo "[ministack.sh] installing $SPEC into $VENV (log: $log)" >&2
    rm -rf "$VENV"
    if ! { python3 -m venv "$VENV" && "$VENV/bin/pip" install --disable-pip-version-check -q "$SPEC"; } >"$log" 2>&1; then
      tail -n 30 "$log" >&2
      echo "[ministack.sh] ERROR: could not install $SPEC" >&2
      exit 1
    fi
    "$PY" -c 'import ministack.app, hypercorn' || { echo "[ministack.sh] ERROR: $SPEC does not import (ministack.app, hypercorn)" >&2; exit 1; }
    echo "$SPEC" >"$VENV/.aas-complete"
  fi
fi
echo "$PY"
