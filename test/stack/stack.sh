#!/usr/bin/env bash
# Local integration-test stack: etcd + kube-apiserver + moto + EKS rewrite proxy,
# all on 127.0.0.1, all state in one directory. TEST INFRASTRUCTURE.
#
#   stack.sh up     <state-dir>   build (if cold) and start everything, write
#                                 <state-dir>/stack.json and <state-dir>/stack.env
#   stack.sh down   <state-dir>   stop everything started there (safe to repeat)
#   stack.sh status <state-dir>   exit 0 if every process is alive and healthy
#
# Env: AAS_CACHE (binary cache, see build.sh), AAS_UP_TIMEOUT (seconds per health wait, default 90)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
REGION=us-east-1
UP_TIMEOUT="${AAS_UP_TIMEOUT:-90}"
# Start order; `down` stops in reverse.
PROCS=(etcd kube-apiserver moto eks-proxy)

log() { echo "[stack.sh] $*" >&2; }
usage() { echo "usage: $0 {up|down|status} <state-dir>" >&2; exit 2; }

[[ $# -eq 2 ]] || usage
CMD="$1"
mkdir -p "$2"
S="$(cd "$2" && pwd)"
PIDS="$S/pids"; LOGD="$S/logs"; PKI="$S/pki"

pid_of() { [[ -f "$PIDS/$1.pid" ]] && cat "$PIDS/$1.pid" || true; }
# alive PID: running and not a zombie (PID 1 here may reap orphans only every few seconds).
alive() {
  [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null || return 1
  local st; st="$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)"
  [[ -n "$st" && "$st" != Z ]]
}
# owned PID: started by this script for this state dir (guards against pid reuse).
owned() { grep -Fxzq "AAS_STACK_OWNER=$S" "/proc/$1/environ" 2>/dev/null; }

# ---- down ------------------------------------------------------------------------
stop_one() {
  local name="$1" pid
  pid="$(pid_of "$name")"
  [[ -n "$pid" ]] || return 0
  if alive "$pid" && ! owned "$pid"; then
    log "$name: pid $pid is not a process of this stack (pid reused?); not signalling it"
    rm -f "$PIDS/$name.pid"; return 0
  fi
  if alive "$pid"; then
    # Each process was started as leader of its own session/process group.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    local i
    for i in $(seq 1 100); do  # up to 10 s
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      log "$name (pid $pid) did not stop on SIGTERM; SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      for i in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
    fi
  fi
  # Stragglers left in the group (children whose leader has gone).
  local p
  for p in $(pgrep -g "$pid" 2>/dev/null); do
    owned "$p" && kill -KILL "$p" 2>/dev/null || true
  done
  rm -f "$PIDS/$name.pid"
}

do_down() {
  local i
  for ((i = ${#PROCS[@]} - 1; i >= 0; i--)); do stop_one "${PROCS[$i]}"; done
  rm -f "$S/stack.json" "$S/stack.env"
}

# ---- status ----------------------------------------------------------------------
do_status() {
  local ok=0 name pid
  for name in "${PROCS[@]}"; do
    pid="$(pid_of "$name")"
    if alive "$pid" && owned "$pid"; then echo "$name: running (pid $pid)"; else echo "$name: not running"; ok=1; fi
  done
  if [[ -f "$S/stack.env" ]]; then
    # shellcheck disable=SC1091
    source "$S/stack.env"
    if curl -sf -o /dev/null --cacert "$AAS_CA_FILE" -H "Authorization: Bearer $AAS_ADMIN_TOKEN" \
         "$AAS_KUBE_ENDPOINT/readyz"; then echo "kube-apiserver: ready"; else echo "kube-apiserver: NOT ready"; ok=1; fi
    if curl -s -o /dev/null "$AAS_MOTO_ENDPOINT/moto-api/"; then echo "moto: reachable"; else echo "moto: NOT reachable"; ok=1; fi
  else
    echo "no $S/stack.env"; ok=1
  fi
  return $ok
}

# ---- up --------------------------------------------------------------------------
# start NAME CMD...: start CMD in its own session (so `down` can signal the group).
start() {
  local name="$1"; shift
  setsid env AAS_STACK_OWNER="$S" bash -c 'echo $$ >"$0"; exec "$@"' "$PIDS/$name.pid" "$@" \
    </dev/null >"$LOGD/$name.log" 2>&1 &
  local i
  for i in $(seq 1 50); do [[ -s "$PIDS/$name.pid" ]] && break; sleep 0.05; done
  [[ -s "$PIDS/$name.pid" ]] || die "start $name" "no pid file written"
  log "started $name (pid $(cat "$PIDS/$name.pid"), log $LOGD/$name.log)"
}

die() {
  local step="$1" msg="$2" name="${3:-}"
  log "ERROR in step '$step': $msg"
  if [[ -n "$name" && -f "$LOGD/$name.log" ]]; then
    echo "----- last 30 lines of $LOGD/$name.log -----" >&2
    tail -n 30 "$LOGD/$name.log" >&2 || true
  fi
  exit 1
}

# wait_for STEP NAME CMD...: poll CMD until it succeeds, NAME's process must stay alive.
wait_for() {
  local step="$1" name="$2"; shift 2
  local deadline=$((SECONDS + UP_TIMEOUT))
  while ! "$@" >/dev/null 2>&1; do
    alive "$(pid_of "$name")" || die "$step" "$name exited" "$name"
    ((SECONDS < deadline)) || die "$step" "timed out after ${UP_TIMEOUT}s" "$name"
    sleep 0.2
  done
}

free_ports() {  # free_ports N -> N distinct free TCP ports on 127.0.0.1
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks: s.close()
EOF
}

make_pki() {
  mkdir -p "$PKI"; chmod 700 "$PKI"
  (
    cd "$PKI"
    openssl ecparam -name prime256v1 -genkey -noout -out ca.key
    openssl req -x509 -new -key ca.key -sha256 -days 30 -subj "/CN=aws-auth-syncer-test-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -out ca.crt
    openssl ecparam -name prime256v1 -genkey -noout -out apiserver.key
    openssl req -new -key apiserver.key -subj "/CN=kube-apiserver" -out apiserver.csr
    printf '%s\n' \
      "basicConstraints=CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=serverAuth" \
      "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.0.0.1" \
      >apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -sha256 \
      -extfile apiserver.ext -out apiserver.crt
    openssl genrsa -out sa.key 2048
    openssl rsa -in sa.key -pubout -out sa.pub
    rm -f apiserver.csr apiserver.ext ca.srl
  ) >"$LOGD/pki.log" 2>&1 || die "certificates (openssl)" "see $LOGD/pki.log" pki
}

on_up_exit() {
  local rc=$?
  if [[ $rc -ne 0 ]]; then
    log "up failed (exit $rc); tearing down what was started in $S"
    do_down
  fi
}

do_up() {
  local pid n
  for n in "${PROCS[@]}"; do
    pid="$(pid_of "$n")"
    if alive "$pid" && owned "$pid"; then
      log "ERROR: $n is already running from $S (pid $pid); run '$0 down $S' first"; exit 1
    fi
  done
  local T0=$SECONDS
  local envs
  envs="$("$HERE/build.sh" --print-env)" || { log "ERROR in step 'build.sh' (see its output above)"; exit 1; }
  eval "$envs"

  trap on_up_exit EXIT
  rm -rf "$PIDS" "$LOGD" "$PKI" "$S/etcd-data" "$S/tokens.csv" "$S/stack.json" "$S/stack.env" \
         "$S"/*.token "$S"/*.kubeconfig
  mkdir -p "$PIDS" "$LOGD"
  make_pki

  local ports etcd_port etcd_peer_port api_port moto_port proxy_port
  ports="$(free_ports 5)" || die "pick ports" "python3 failed"
  read -r etcd_port etcd_peer_port api_port moto_port proxy_port <<<"$ports"

  local admin_token syncer_token
  admin_token="$(openssl rand -hex 32)"; syncer_token="$(openssl rand -hex 32)"
  umask 077
  printf '%s\n' "$admin_token" >"$S/admin.token"
  printf '%s\n' "$syncer_token" >"$S/syncer.token"
  {
    echo "$admin_token,admin,admin-uid,\"system:masters\""
    echo "$syncer_token,aws-auth-syncer,aws-auth-syncer-uid,\"aws-auth-syncer\""
  } >"$S/tokens.csv"
  umask 022

  # etcd
  start etcd "$AAS_ETCD" --name aas --data-dir "$S/etcd-data" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-cluster "aas=http://127.0.0.1:$etcd_peer_port" \
    --unsafe-no-fsync --log-level warn
  # moto (starts in parallel with the apiserver; waited for below)
  start moto "$AAS_MOTO_VENV/bin/moto_server" -H 127.0.0.1 -p "$moto_port"
  wait_for "etcd health" etcd curl -sf "http://127.0.0.1:$etcd_port/health"

  local kube="https://127.0.0.1:$api_port"
  start kube-apiserver "$AAS_KUBE_APISERVER" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --endpoint-reconciler-type none \
    --secure-port "$api_port" \
    --cert-dir "$PKI" --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" \
    --service-cluster-ip-range 10.0.0.0/24 \
    --service-account-issuer "$kube" \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --authorization-mode RBAC --token-auth-file "$S/tokens.csv" \
    --allow-privileged=true --profiling=false --v=1
  wait_for "moto reachable" moto curl -s -o /dev/null "http://127.0.0.1:$moto_port/moto-api/"
  wait_for "kube-apiserver /readyz" kube-apiserver \
    curl -sf --cacert "$PKI/ca.crt" -H "Authorization: Bearer $admin_token" "$kube/readyz"
  wait_for "namespace kube-system exists" kube-apiserver \
    curl -sf --cacert "$PKI/ca.crt" -H "Authorization: Bearer $admin_token" "$kube/api/v1/namespaces/kube-system"

  python3 "$HERE/kube_apply.py" --server "$kube" --ca-file "$PKI/ca.crt" --token-file "$S/admin.token" \
    "$REPO/deploy/rbac.yaml" >"$LOGD/apply-rbac.log" 2>&1 \
    || die "apply deploy/rbac.yaml" "kube_apply.py failed" apply-rbac
  cat "$LOGD/apply-rbac.log" >&2

  start eks-proxy python3 "$HERE/eks_proxy.py" --listen-port "$proxy_port" \
    --moto-url "http://127.0.0.1:$moto_port" --kube-endpoint "$kube" --ca-file "$PKI/ca.crt"
  wait_for "eks proxy reachable" eks-proxy curl -s -o /dev/null "http://127.0.0.1:$proxy_port/moto-api/"

  local ca_data
  ca_data="$(base64 -w0 "$PKI/ca.crt")"
  for who in admin syncer; do
    local tok; tok="$(cat "$S/$who.token")"
    cat >"$S/$who.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: $kube
    certificate-authority-data: $ca_data
users:
- name: $who
  user:
    token: $tok
contexts:
- name: $who
  context: {cluster: local, user: $who}
current-context: $who
EOF
    chmod 600 "$S/$who.kubeconfig"
  done

  # stack.json / stack.env
  STACK_DIR="$S" KUBE="$kube" CA_DATA="$ca_data" ADMIN="$admin_token" SYNCER="$syncer_token" \
  MOTO="http://127.0.0.1:$moto_port" EKS="http://127.0.0.1:$proxy_port" REGION="$REGION" \
  python3 - "${PROCS[@]}" <<'EOF'
import json, os, shlex, sys
e = os.environ; s = e["STACK_DIR"]
procs = sys.argv[1:]
doc = {
    "kubeEndpoint": e["KUBE"],
    "caFile": os.path.join(s, "pki", "ca.crt"),
    "caData": e["CA_DATA"],
    "adminToken": e["ADMIN"],
    "syncerToken": e["SYNCER"],
    "adminKubeconfig": os.path.join(s, "admin.kubeconfig"),
    "syncerKubeconfig": os.path.join(s, "syncer.kubeconfig"),
    "motoEndpoint": e["MOTO"],
    "eksEndpoint": e["EKS"],
    "region": e["REGION"],
    "stateDir": s,
    "pids": {p: int(open(os.path.join(s, "pids", p + ".pid")).read()) for p in procs},
    "logs": {p: os.path.join(s, "logs", p + ".log") for p in procs},
    "versions": {"kubernetes": e["AAS_K8S_VERSION"], "etcd": e["AAS_ETCD_VERSION"],
                 "awsIamAuthenticator": e["AAS_IAM_AUTH_VERSION"], "moto": e["AAS_MOTO_VERSION"]},
    "bin": {"kubeApiserver": e["AAS_KUBE_APISERVER"], "etcd": e["AAS_ETCD"],
            "awsIamAuthenticator": e["AAS_IAM_AUTHENTICATOR"],
            "motoPython": os.path.join(e["AAS_MOTO_VENV"], "bin", "python")},
}
with open(os.path.join(s, "stack.json"), "w") as f:
    json.dump(doc, f, indent=2); f.write("\n")
env = {
    "AAS_STACK_DIR": s, "AAS_KUBE_ENDPOINT": doc["kubeEndpoint"], "AAS_CA_FILE": doc["caFile"],
    "AAS_CA_DATA": doc["caData"], "AAS_ADMIN_TOKEN": doc["adminToken"],
    "AAS_SYNCER_TOKEN": doc["syncerToken"], "AAS_ADMIN_KUBECONFIG": doc["adminKubeconfig"],
    "AAS_SYNCER_KUBECONFIG": doc["syncerKubeconfig"], "AAS_MOTO_ENDPOINT": doc["motoEndpoint"],
    "AAS_EKS_ENDPOINT": doc["eksEndpoint"], "AAS_REGION": doc["region"],
    "AAS_MOTO_PYTHON": doc["bin"]["motoPython"],
    "AAS_IAM_AUTHENTICATOR": doc["bin"]["awsIamAuthenticator"],
}
for p in procs:
    k = p.upper().replace("-", "_")
    env["AAS_PID_" + k] = str(doc["pids"][p]); env["AAS_LOG_" + k] = doc["logs"][p]
with open(os.path.join(s, "stack.env"), "w") as f:
    for k, v in env.items():
        f.write("export %s=%s\n" % (k, shlex.quote(v)))
EOF
  chmod 600 "$S/stack.json" "$S/stack.env"
  trap - EXIT
  log "stack up in $((SECONDS - T0))s: kube $kube, moto http://127.0.0.1:$moto_port, eks proxy http://127.0.0.1:$proxy_port"
  log "wrote $S/stack.json and $S/stack.env"
}

case "$CMD" in
  up) do_up ;;
  down) do_down; log "down: $S" ;;
  status) do_status ;;
  *) usage ;;
esac
