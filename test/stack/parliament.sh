#!/usr/bin/env bash
# Installs (once) the IAM policy linter `parliament` (PyPI) into a venv under the tool cache,
# keyed by version, and prints the path of its executable:
#   ${AAS_CACHE:-$HOME/.cache/aws-auth-syncer}/venv/parliament-<version>/bin/parliament
# test/unit/deploy-policies.test.ts lints deploy/*.json with it; build.sh calls this script so
# a fresh machine (and CI) has it before the tests run. Warm: returns at once.
#
# Usage: test/stack/parliament.sh            # install if needed, print the executable's path
set -euo pipefail

# ---- pinned versions ---------------------------------------------------------
PARLIAMENT_VERSION=1.6.4
# ------------------------------------------------------------------------------

CACHE="${AAS_CACHE:-$HOME/.cache/aws-auth-syncer}"
VENV="$CACHE/venv/parliament-$PARLIAMENT_VERSION"
EXE="$VENV/bin/parliament"
SPEC="parliament==$PARLIAMENT_VERSION"

ready() { [[ -x "$EXE" && "$(cat "$VENV/.aas-complete" 2>/dev/null)" == "$SPEC" ]]; }

if ! ready; then
  mkdir -p "$CACHE/venv" "$CACHE/logs"
  # Own lock (not build.sh's): build.sh holds its lock while it calls this script.
  exec 8>"$CACHE/.parliament.lock"
  flock 8
  if ! ready; then
    log="$CACHE/logs/parliament-pip.log"
    echo "[parliament.sh] installing $SPEC into $VENV (log: $log)" >&2
    rm -rf "$VENV"
    if ! { python3 -m venv "$VENV" && "$VENV/bin/pip" install --disable-pip-version-check -q "$SPEC"; } >"$log" 2>&1; then
      tail -n 30 "$log" >&2
      echo "[parliament.sh] ERROR: could not install $SPEC" >&2
      exit 1
    fi
    "$EXE" --help >/dev/null || { echo "[parliament.sh] ERROR: $EXE does not run" >&2; exit 1; }
    echo "$SPEC" >"$VENV/.aas-complete"
  fi
fi
echo "$EXE"
