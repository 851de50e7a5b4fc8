#!/usr/bin/env bash
# Installs (once) the infrastructure linters that `npm run lint:infra` runs over the packaged
# CloudFormation template: cfn-lint and checkov, both from PyPI. Like moto in build.sh, each
# lives in its own venv OUTSIDE the repo, keyed by its pinned version, under
#   ${AAS_CACHE:-$HOME/.cache/aws-auth-syncer}/venv/
# so a warm machine returns at once. Two venvs, not one: checkov pins many libraries and the two
# tools must not fight over versions. build.sh calls this; it also runs on its own.
#
# Usage: test/stack/lint-tools.sh [--print-env]
#   --print-env  print `export AAS_CFN_LINT=… AAS_CHECKOV=…` lines
set -euo pipefail

# ---- pinned versions -------------------------------------------------------
CFN_LINT_VERSION=1.58.0
CHECKOV_VERSION=3.3.30
# ----------------------------------------------------------------------------

CACHE="${AAS_CACHE:-$HOME/.cache/aws-auth-syncer}"
LOGS="${AAS_BUILD_LOG_DIR:-$CACHE/logs}"
CFN_LINT_VENV="$CACHE/venv/cfn-lint-$CFN_LINT_VERSION"
CHECKOV_VENV="$CACHE/venv/checkov-$CHECKOV_VERSION"

log() { echo "[lint-tools.sh] $*" >&2; }

# ready VENV TOOL SPEC: the venv finished installing exactly SPEC (the marker is written last).
ready() { [[ -x "$1/bin/$2" && "$(cat "$1/.aas-complete" 2>/dev/null)" == "$3" ]]; }

# install VENV TOOL SPEC
install() {
  local venv="$1" tool="$2" spec="$3" logfile="$LOGS/$2-pip.log" t0=$SECONDS
  ready "$venv" "$tool" "$spec" && return 0
  log "installing $spec into $venv (log: $logfile)"
  rm -rf "$venv"
  if ! { python3 -m venv "$venv" && "$venv/bin/pip" install --disable-pip-version-check -q "$spec"; } >"$logfile" 2>&1; then
    tail -n 40 "$logfile" >&2 || true
    log "ERROR: pip install $spec failed"
    exit 1
  fi
  "$venv/bin/$tool" --version >/dev/null || { log "ERROR: $tool does not run after install"; exit 1; }
  echo "$spec" >"$venv/.aas-complete"
  log "$spec installed in $((SECONDS - t0))s"
}

if ! { ready "$CFN_LINT_VENV" cfn-lint "cfn-lint==$CFN_LINT_VERSION" && ready "$CHECKOV_VENV" checkov "checkov==$CHECKOV_VERSION"; }; then
  mkdir -p "$LOGS" "$CACHE/venv"
  # Serialise concurrent installs (CI and a developer's `npm test` on one machine).
  exec 8>"$CACHE/.lint-tools.lock"
  command -v flock >/dev/null 2>&1 && flock 8
  install "$CFN_LINT_VENV" cfn-lint "cfn-lint==$CFN_LINT_VERSION"
  install "$CHECKOV_VENV" checkov "checkov==$CHECKOV_VERSION"
fi

if [[ "${1:-}" == "--print-env" ]]; then
  echo "export AAS_CFN_LINT='$CFN_LINT_VENV/bin/cfn-lint'"
  echo "export AAS_CHECKOV='$CHECKOV_VENV/bin/checkov'"
fi
exit 0
