#!/usr/bin/env bash
# Builds (once) and caches the binaries of the local integration-test stack:
#   kube-apiserver, etcd, aws-iam-authenticator  (Go, through the Go module proxy)
#   moto server                                  (PyPI, in a venv)
#   cfn-lint, checkov                            (PyPI, own venvs: lint-tools.sh)
# and the authenticator oracles (test/oracle: aws-iam-authenticator's own aws-auth parsing and
# mapping code at v0.6.13 and v0.7.18, one small binary per version).
# Everything lives OUTSIDE the repo, keyed by version, under
#   ${AAS_CACHE:-$HOME/.cache/aws-auth-syncer}
# so a warm machine returns in about a second and a fresh one builds once
# (cold: 10-20+ minutes on 2 cores).
#
# Usage: test/stack/build.sh [--print-env] [--oracle-only] [--no-build]
#   --print-env    print shell `export` lines naming the cached tools (for stack.sh)
#   --oracle-only  build/check only the oracle binaries (no stack tools; `npm run test:oracle`)
#   --no-build     with --print-env: only print where the tools are (or would be), build nothing
# Env:   AAS_CACHE  cache root (default $HOME/.cache/aws-auth-syncer)
#        AAS_BUILD_LOG_DIR  where per-step build logs go (default $AAS_CACHE/logs)
set -euo pipefail

# ---- pinned versions -------------------------------------------------------
K8S_VERSION=v1.37.2          # k8s.io/kubernetes; staging modules pinned to v0.37.2
ETCD_VERSION=v3.6.16         # go.etcd.io/etcd/server/v3
IAM_AUTH_VERSION=v0.7.18     # sigs.k8s.io/aws-iam-authenticator (the stack's webhook; not in
                             # `go list -m -versions`, but the proxy serves it)
ORACLE_AUTH_VERSIONS=(v0.6.13 v0.7.18)  # authenticator versions the oracle is built against
MOTO_VERSION=5.2.5           # moto[server] on PyPI
BOTO3_VERSION=1.44.5         # for the stack's own checks (tests may use it too)
BOTOCORE_VERSION=1.44.8
MOTO_PIP_SPEC="moto[server]==$MOTO_VERSION boto3==$BOTO3_VERSION botocore==$BOTOCORE_VERSION"
# ----------------------------------------------------------------------------

CACHE="${AAS_CACHE:-$HOME/.cache/aws-auth-syncer}"
BIN="$CACHE/bin"
LOGS="${AAS_BUILD_LOG_DIR:-$CACHE/logs}"
KUBE_APISERVER="$BIN/kube-apiserver-$K8S_VERSION"
ETCD="$BIN/etcd-$ETCD_VERSION"
IAM_AUTH="$BIN/aws-iam-authenticator-$IAM_AUTH_VERSION"
MOTO_VENV="$CACHE/venv/moto-$MOTO_VERSION"

# Oracle binaries are keyed by authenticator version AND a hash of the oracle's source (its
# non-test .go files, and this recipe's revision), so an edit to test/oracle rebuilds, and
# worktrees with different oracle sources do not overwrite each other's binaries.
ORACLE_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../oracle" && pwd)"
ORACLE_RECIPE=1
oracle_hash() {
  local f
  {
    echo "recipe $ORACLE_RECIPE"
    for f in $(cd "$ORACLE_SRC" && ls -- *.go | grep -v '_test\.go$' | LC_ALL=C sort); do
      echo "file $f"; cat "$ORACLE_SRC/$f"
    done
  } | sha256sum | cut -c1-12
}
ORACLE_HASH="$(oracle_hash)"
oracle_bin() { echo "$BIN/aas-oracle-$1-$ORACLE_HASH"; }
oracle_env_name() { local v="${1#v}"; echo "AAS_ORACLE_V${v//./_}"; }

print_env() {
  cat <<EOF
export AAS_KUBE_APISERVER='$KUBE_APISERVER'
export AAS_ETCD='$ETCD'
export AAS_IAM_AUTHENTICATOR='$IAM_AUTH'
export AAS_MOTO_VENV='$MOTO_VENV'
export AAS_K8S_VERSION='$K8S_VERSION'
export AAS_ETCD_VERSION='$ETCD_VERSION'
export AAS_IAM_AUTH_VERSION='$IAM_AUTH_VERSION'
export AAS_MOTO_VERSION='$MOTO_VERSION'
export AAS_MINISTACK_PYTHON='$(bash "$(dirname "${BASH_SOURCE[0]}")/ministack.sh" --print-path)'
EOF
  print_oracle_env
}

print_oracle_env() {
  local v
  for v in "${ORACLE_AUTH_VERSIONS[@]}"; do echo "export $(oracle_env_name "$v")='$(oracle_bin "$v")'"; done
}

oracles_ready() {
  local v
  for v in "${ORACLE_AUTH_VERSIONS[@]}"; do [[ -x "$(oracle_bin "$v")" ]] || return 1; done
}

log() { echo "[build.sh] $*" >&2; }
fail() { log "ERROR in step '$1': $2"; exit 1; }

# run_step NAME LOGFILE CMD...: run a step, on failure print the log tail and exit.
run_step() {
  local name="$1" logfile="$2"; shift 2
  log "step '$name' (log: $logfile)"
  local t0=$SECONDS
  if ! "$@" >"$logfile" 2>&1; then
    echo "----- last 40 lines of $logfile -----" >&2
    tail -n 40 "$logfile" >&2 || true
    fail "$name" "command failed: $*"
  fi
  log "step '$name' done in $((SECONDS - t0))s"
}

PRINT_ENV=0 ORACLE_ONLY=0 NO_BUILD=0
for arg in "$@"; do
  case "$arg" in
    --print-env) PRINT_ENV=1 ;;
    --oracle-only) ORACLE_ONLY=1 ;;
    --no-build) NO_BUILD=1 ;;
    *) echo "usage: $0 [--print-env] [--oracle-only] [--no-build]" >&2; exit 2 ;;
  esac
done
if [[ $NO_BUILD == 1 ]]; then
  [[ $PRINT_ENV == 1 ]] || { echo "$0: --no-build needs --print-env" >&2; exit 2; }
  if [[ $ORACLE_ONLY == 1 ]]; then print_oracle_env; else print_env; fi
  exit 0
fi

# The IAM policy linter (parliament, PyPI) for test/unit/deploy/policies.test.ts: its own script,
# venv and lock under the same cache; returns at once when warm.
bash "$(dirname "${BASH_SOURCE[0]}")/parliament.sh" >/dev/null
# The infrastructure linters (npm run lint:infra, cfn-lint and checkov): the same, in their own venvs.
bash "$(dirname "${BASH_SOURCE[0]}")/lint-tools.sh" >/dev/null
# The AWS emulator ministack (PyPI) that serves EKS access entries to the stack: its own script,
# venv and lock too (test/stack/ministack.sh); returns at once when warm.
[[ $ORACLE_ONLY == 1 ]] || bash "$(dirname "${BASH_SOURCE[0]}")/ministack.sh" >/dev/null

all_ready() {
  [[ -x "$KUBE_APISERVER" && -x "$ETCD" && -x "$IAM_AUTH" && -x "$MOTO_VENV/bin/moto_server" \
     && "$(cat "$MOTO_VENV/.aas-complete" 2>/dev/null)" == "$MOTO_PIP_SPEC" ]] && oracles_ready
}

if { [[ $ORACLE_ONLY == 1 ]] && oracles_ready; } || { [[ $ORACLE_ONLY == 0 ]] && all_ready; }; then
  if [[ $PRINT_ENV == 1 ]]; then if [[ $ORACLE_ONLY == 1 ]]; then print_oracle_env; else print_env; fi; fi
  exit 0
fi

mkdir -p "$BIN" "$LOGS" "$CACHE/src"

# Serialise concurrent builds (two `stack.sh up` at once on a cold machine). The oracles have
# their own lock (taken in build_oracles), so `--oracle-only` need not wait for a stack build.
if [[ $ORACLE_ONLY == 0 ]]; then
  exec 9>"$CACHE/.build.lock"
  if command -v flock >/dev/null 2>&1; then
    log "waiting for build lock $CACHE/.build.lock" ; flock 9
  fi
fi

# ---- Debian packages (only if missing) -------------------------------------
need_pkgs=()
if [[ $ORACLE_ONLY == 0 ]]; then
command -v openssl >/dev/null || need_pkgs+=(openssl)
command -v curl    >/dev/null || need_pkgs+=(curl)
command -v ss      >/dev/null || need_pkgs+=(iproute2)
command -v pgrep   >/dev/null || need_pkgs+=(procps)
command -v flock   >/dev/null || need_pkgs+=(util-linux)
command -v python3 >/dev/null || need_pkgs+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || need_pkgs+=(python3-venv)
fi
command -v go      >/dev/null || fail "toolchain" "go is not installed (need go >= 1.26)"
if ((${#need_pkgs[@]})); then
  SUDO=""; [[ $(id -u) != 0 ]] && SUDO="sudo"
  run_step "apt-get update" "$LOGS/apt-update.log" $SUDO apt-get update
  run_step "apt-get install ${need_pkgs[*]}" "$LOGS/apt-install.log" \
    env DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${need_pkgs[@]}"
fi

# ---- Go environment: caches under $CACHE, the machine's own toolchain --------
export GOMODCACHE="$CACHE/go/mod"
export GOCACHE="$CACHE/go/build"
export GOTOOLCHAIN=local
export GOFLAGS=-buildvcs=false
export CGO_ENABLED=0
export GOWORK=off
unset GOBIN
GO_LDFLAGS_BASE="-s -w"

gover=$(go env GOVERSION)
log "using $gover, GOPROXY=$(go env GOPROXY) GOSUMDB=$(go env GOSUMDB) GONOSUMDB=$(go env GONOSUMDB)"

# ---- kube-apiserver -----------------------------------------------------------
build_kube_apiserver() {
  local dir="$CACHE/src/kube-apiserver-$K8S_VERSION"
  local minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  local staging_ver="v0.${K8S_VERSION#v1.}"
  rm -rf "$dir"; mkdir -p "$dir"
  cd "$dir"
  # Read the staging replaces from the .mod that the proxy serves.
  run_step "kube-apiserver: download k8s.io/kubernetes@$K8S_VERSION .mod" "$LOGS/kube-mod.log" \
    go mod download -json "k8s.io/kubernetes@$K8S_VERSION"
  local modfile
  modfile=$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p' "$LOGS/kube-mod.log" | head -n1)
  [[ -f "$modfile" ]] || fail "kube-apiserver: locate .mod" "no GoMod path in $LOGS/kube-mod.log"
  local staging
  staging=$(sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\)[[:space:]]*=>[[:space:]]*\./staging/src/.*#\1#p' "$modfile")
  [[ -n "$staging" ]] || fail "kube-apiserver: read staging list" "no '=> ./staging/' lines in $modfile"
  {
    echo "module aas.local/kube-apiserver-build"
    echo
    echo "go $(sed -n 's/^go \([0-9.]*\).*/\1/p' "$modfile")"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    for m in $staging; do echo "	$m => $m $staging_ver"; done
    echo ")"
  } >go.mod
  run_step "kube-apiserver: go get k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION" "$LOGS/kube-get.log" \
    go get "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION"
  local ldf="$GO_LDFLAGS_BASE"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ldf+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  run_step "kube-apiserver: go build" "$LOGS/kube-build.log" \
    go build -trimpath -ldflags="$ldf" -o "$KUBE_APISERVER.tmp" k8s.io/kubernetes/cmd/kube-apiserver
  mv -f "$KUBE_APISERVER.tmp" "$KUBE_APISERVER"
}

# ---- etcd -----------------------------------------------------------------------
build_etcd() {
  local dir="$CACHE/src/etcd-$ETCD_VERSION"
  rm -rf "$dir"; mkdir -p "$dir"
  cd "$dir"
  printf 'module aas.local/etcd-build\n\ngo 1.26.0\n' >go.mod
  run_step "etcd: go get go.etcd.io/etcd/server/v3@$ETCD_VERSION" "$LOGS/etcd-get.log" \
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  run_step "etcd: go build" "$LOGS/etcd-build.log" \
    go build -trimpath -ldflags="$GO_LDFLAGS_BASE" -o "$ETCD.tmp" go.etcd.io/etcd/server/v3
  mv -f "$ETCD.tmp" "$ETCD"
}

# ---- aws-iam-authenticator ----------------------------------------------------------
build_iam_auth() {
  local dir="$CACHE/src/aws-iam-authenticator-$IAM_AUTH_VERSION"
  rm -rf "$dir"; mkdir -p "$dir"
  cd "$dir"
  printf 'module aas.local/aws-iam-authenticator-build\n\ngo 1.21\n' >go.mod
  run_step "aws-iam-authenticator: go get @$IAM_AUTH_VERSION" "$LOGS/iam-auth-get.log" \
    go get "sigs.k8s.io/aws-iam-authenticator/cmd/aws-iam-authenticator@$IAM_AUTH_VERSION"
  local ldf="$GO_LDFLAGS_BASE -X sigs.k8s.io/aws-iam-authenticator/pkg.Version=$IAM_AUTH_VERSION"
  run_step "aws-iam-authenticator: go build" "$LOGS/iam-auth-build.log" \
    go build -trimpath -ldflags="$ldf" -o "$IAM_AUTH.tmp" sigs.k8s.io/aws-iam-authenticator/cmd/aws-iam-authenticator
  mv -f "$IAM_AUTH.tmp" "$IAM_AUTH"
}

# ---- authenticator oracles (test/oracle) ----------------------------------------------
# One throw-away module per authenticator version that requires exactly that version (so the
# oracle links the go-yaml, sigs.k8s.io/yaml and apimachinery that version's go.mod pins; `go mod
# tidy` adds nothing newer), built with the tag that selects the version's small adapter file.
build_oracle() {
  local v="$1" out; out="$(oracle_bin "$v")"
  [[ -x "$out" ]] && return 0
  local dir="$CACHE/src/aas-oracle-$v-$ORACLE_HASH" f
  rm -rf "$dir"; mkdir -p "$dir"
  cd "$dir"
  for f in $(cd "$ORACLE_SRC" && ls -- *.go | grep -v '_test\.go$'); do cp "$ORACLE_SRC/$f" .; done
  printf 'module aas.local/aas-oracle\n\ngo 1.21\n' >go.mod
  run_step "oracle $v: go get sigs.k8s.io/aws-iam-authenticator@$v + go mod tidy" "$LOGS/oracle-$v-mod.log" \
    bash -c "go get sigs.k8s.io/aws-iam-authenticator@$v && go mod tidy"
  grep -q "sigs.k8s.io/aws-iam-authenticator $v\$" go.mod \
    || fail "oracle $v: go.mod" "go.mod does not require sigs.k8s.io/aws-iam-authenticator $v"
  run_step "oracle $v: go build" "$LOGS/oracle-$v-build.log" \
    go build -trimpath -ldflags="$GO_LDFLAGS_BASE" -tags "aas_auth_${v//./_}" -o "$out.tmp" .
  [[ "$("$out.tmp" --version)" == "$v" ]] || fail "oracle $v: check" "$out.tmp --version is not $v"
  mv -f "$out.tmp" "$out"
}

build_oracles() {
  exec 8>"$CACHE/.oracle-build.lock"
  if command -v flock >/dev/null 2>&1; then flock 8; fi
  local v
  for v in "${ORACLE_AUTH_VERSIONS[@]}"; do build_oracle "$v"; done
  exec 8>&-
}

# ---- moto -----------------------------------------------------------------------------
build_moto() {
  rm -rf "$MOTO_VENV"
  run_step "moto: python3 -m venv $MOTO_VENV" "$LOGS/moto-venv.log" python3 -m venv "$MOTO_VENV"
  # shellcheck disable=SC2086
  run_step "moto: pip install $MOTO_PIP_SPEC" "$LOGS/moto-pip.log" \
    "$MOTO_VENV/bin/pip" install --disable-pip-version-check -q $MOTO_PIP_SPEC
  "$MOTO_VENV/bin/python" -c 'import moto, boto3' || fail "moto: import check" "moto/boto3 do not import"
  echo "$MOTO_PIP_SPEC" >"$MOTO_VENV/.aas-complete"
}

T0=$SECONDS
if [[ $ORACLE_ONLY == 1 ]]; then
  build_oracles
  log "oracles ready in $((SECONDS - T0))s under $BIN"
  [[ $PRINT_ENV == 1 ]] && print_oracle_env
  exit 0
fi
[[ -x "$ETCD" ]] || build_etcd
[[ -x "$MOTO_VENV/bin/moto_server" && "$(cat "$MOTO_VENV/.aas-complete" 2>/dev/null)" == "$MOTO_PIP_SPEC" ]] \
  || build_moto
[[ -x "$KUBE_APISERVER" ]] || build_kube_apiserver
[[ -x "$IAM_AUTH" ]] || build_iam_auth
# After the authenticator: the v0.7.18 oracle then reuses most of its compiled packages.
oracles_ready || build_oracles
# Sources of throw-away modules are small; GOMODCACHE/GOCACHE are kept for rebuilds.
log "all tools ready in $((SECONDS - T0))s under $CACHE"
[[ $PRINT_ENV == 1 ]] && print_env
exit 0
