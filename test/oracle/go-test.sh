#!/usr/bin/env bash
# Runs the oracle's Go tests (oracle_test.go: facts.json, map-order ambiguity against the real
# Map, protocol/panic/timeout handling) once per authenticator version, each in a temporary copy
# of the throw-away module that build.sh made for that version (same go.mod/go.sum, so the test
# links exactly what the binary links). Builds the oracles first if needed (build.sh --oracle-only).
#   bash test/oracle/go-test.sh [go test flags, e.g. -run TestFacts -v]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
envs="$(bash "$REPO/test/stack/build.sh" --oracle-only --print-env)"
eval "$envs"
CACHE="${AAS_CACHE:-$HOME/.cache/aws-auth-syncer}"
# The Go environment of build.sh (shared module and build caches, the machine's toolchain).
export GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" GOTOOLCHAIN=local GOFLAGS=-buildvcs=false \
  CGO_ENABLED=0 GOWORK=off

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
rc=0
for v in v0.6.13 v0.7.18; do
  var="AAS_ORACLE_V${v#v}"; var="${var//./_}"
  mod="$CACHE/src/$(basename "${!var}")"
  [[ -f "$mod/go.mod" ]] || { echo "go-test.sh: no module $mod (run bash test/stack/build.sh --oracle-only)" >&2; exit 1; }
  rm -rf "${tmp:?}"/*
  cp "$mod/go.mod" "$mod/go.sum" "$HERE"/*.go "$HERE/facts.json" "$tmp/"
  echo "== go test ($v)"
  (cd "$tmp" && go test -trimpath -count=1 -tags "aas_auth_${v//./_}" "$@" .) || rc=1
done
exit $rc
