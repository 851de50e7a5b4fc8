#!/usr/bin/env bash
# Local integration-test stack: etcd + kube-apiserver + moto (IAM, STS, S3, KMS) + ministack (EKS:
# clusters and access entries) + EKS rewrite proxy, and the
# EKS authentication chain (aws-iam-authenticator as the apiserver's token webhook, reading
# the access entries rendered from ministack first (DynamicFile), then kube-system/aws-auth,
# verifying tokens through the STS gateway against moto),
# all on 127.0.0.1, all state in one directory. TEST INFRASTRUCTURE.
#
#   stack.sh up     <state-dir>   build (if cold) and start everything, write
#                                 <state-dir>/stack.json and <state-dir>/stack.env
#   stack.sh down   <state-dir>   stop everything started there (safe to repeat)
#   stack.sh status <state-dir>   exit 0 if every process is alive and healthy
#
# Env: AAS_CACHE (binary cache, see build.sh), AAS_UP_TIMEOUT (seconds per health wait, default 90)
#      AAS_EKS_AUTH=0   start without the EKS auth chain (no authenticator, no STS gateway,
#                       no webhook): needed to run a second stack at the same time, since
#                       aws-iam-authenticator's health port 21363 is fixed (v0.7.18 too)
#      AAS_STS_ENFORCE_X_AMZ_EXPIRES=1  the STS gateway also refuses X-Amz-Date + X-Amz-Expires
#                       < now (real STS only enforces 15 min from X-Amz-Date)
#      AAS_CLUSTERS=2   also start a second etcd + kube-apiserver and create the EKS cluster
#                       aas-local-2 in moto (the EKS proxy maps it to that apiserver): many
#                       clusters from one deployment. The second cluster has no token webhook
#                       (aws-iam-authenticator serves one cluster id, and only one can run):
#                       its clients use the static tokens (admin, syncer)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
REGION=us-east-1
UP_TIMEOUT="${AAS_UP_TIMEOUT:-90}"
CLUSTER=aas-local            # EKS cluster created in moto at `up`; = the authenticator's cluster ID
CLUSTER2=aas-local-2         # with AAS_CLUSTERS=2: the second cluster (static tokens only)
# aws-iam-authenticator's health/metrics port: `:21363` (all interfaces). v0.7.18 has a
# Config.HealthPort field, but no flag or config-file key sets it, so it is still fixed.
AUTH_HEALTH_PORT=21363
# STS host names the gateway serves (cert SANs, CONNECT allow-list). `sts.amazonaws.com`
# is the global endpoint (scope region us-east-1); the syncer uses the regional one.
STS_REGIONS=(us-east-1 us-east-2 us-west-1 us-west-2 eu-west-1 eu-central-1)
STS_HOSTS=(sts.amazonaws.com)
for r in "${STS_REGIONS[@]}"; do STS_HOSTS+=("sts.$r.amazonaws.com"); done
# Start order; `down` stops in reverse.
CHAIN_PROCS=(sts-gateway entries-renderer aws-iam-authenticator)
SECOND_PROCS=(etcd-2 kube-apiserver-2)
PROCS=(etcd kube-apiserver "${SECOND_PROCS[@]}" moto ministack eks-proxy "${CHAIN_PROCS[@]}")
# The account ministack files every request under (moto's default; the syncer's keys are moto's,
# which ministack does not know, so without this it would use 000000000000).
ACCOUNT=123456789012

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
      # aws-iam-authenticator (v0.6.13 and v0.7.18) only closes its mappers on the first SIGTERM and keeps
      # serving; a second one makes it exit (k8s signal handler), as it does under kubelet.
      if [[ $i == 5 && "$name" == aws-iam-authenticator ]]; then kill -TERM "$pid" 2>/dev/null || true; fi
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
# port_owner PORT -> pid of the process listening on TCP PORT (any address), or nothing.
port_owner() {
  ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n1
}

do_status() {
  local ok=0 name pid chain=1 clusters=1
  if [[ -f "$S/stack.env" ]]; then
    # shellcheck disable=SC1091
    source "$S/stack.env"
    chain="${AAS_EKS_AUTH:-1}"
    clusters="${AAS_CLUSTERS:-1}"
  fi
  for name in "${PROCS[@]}"; do
    if [[ "$chain" == 0 && " ${CHAIN_PROCS[*]} " == *" $name "* ]]; then
      echo "$name: disabled (AAS_EKS_AUTH=0)"; continue
    fi
    if [[ "$clusters" == 1 && " ${SECOND_PROCS[*]} " == *" $name "* ]]; then
      echo "$name: not started (AAS_CLUSTERS=1)"; continue
    fi
    pid="$(pid_of "$name")"
    if alive "$pid" && owned "$pid"; then echo "$name: running (pid $pid)"; else echo "$name: not running"; ok=1; fi
  done
  if [[ -f "$S/stack.env" ]]; then
    if curl -sf -o /dev/null --cacert "$AAS_CA_FILE" -H "Authorization: Bearer $AAS_ADMIN_TOKEN" \
         "$AAS_KUBE_ENDPOINT/readyz"; then echo "kube-apiserver: ready"; else echo "kube-apiserver: NOT ready"; ok=1; fi
    if [[ "$clusters" == 2 ]]; then
      if curl -sf -o /dev/null --cacert "$AAS_CA_FILE" -H "Authorization: Bearer $AAS_ADMIN_TOKEN" \
           "$AAS_KUBE_ENDPOINT_2/readyz"; then echo "kube-apiserver-2: ready"; else echo "kube-apiserver-2: NOT ready"; ok=1; fi
    fi
    if curl -s -o /dev/null "$AAS_MOTO_ENDPOINT/moto-api/"; then echo "moto: reachable"; else echo "moto: NOT reachable"; ok=1; fi
    if curl -sf -o /dev/null "$AAS_MINISTACK_ENDPOINT/_ministack/health"; then echo "ministack: reachable"; else echo "ministack: NOT reachable"; ok=1; fi
    if curl -sf -o /dev/null "$AAS_MOTO_KEYS_ENDPOINT/healthz"; then echo "moto access-key lookup: reachable"
    else echo "moto access-key lookup: NOT reachable"; ok=1; fi
    if [[ "$chain" != 0 ]]; then
      if curl -sf -o /dev/null "$AAS_STS_GATEWAY_URL/healthz"; then echo "sts-gateway: healthy"
      else echo "sts-gateway: NOT healthy ($AAS_STS_GATEWAY_URL/healthz)"; ok=1; fi
      local owner; owner="$(port_owner "$AAS_AUTHENTICATOR_HEALTH_PORT")"
      if [[ "$owner" != "$AAS_PID_AWS_IAM_AUTHENTICATOR" ]]; then
        echo "aws-iam-authenticator: health port $AAS_AUTHENTICATOR_HEALTH_PORT is held by pid ${owner:-none}, not by pid $AAS_PID_AWS_IAM_AUTHENTICATOR"; ok=1
      elif curl -sf -o /dev/null "http://127.0.0.1:$AAS_AUTHENTICATOR_HEALTH_PORT/healthz" \
         && curl -sf -o /dev/null --cacert "$AAS_CA_FILE" "https://127.0.0.1:$AAS_AUTHENTICATOR_PORT/healthz"; then
        echo "aws-iam-authenticator: healthy (:$AAS_AUTHENTICATOR_HEALTH_PORT/healthz, webhook $AAS_AUTHENTICATOR_ENDPOINT)"
      else
        echo "aws-iam-authenticator: NOT healthy"; ok=1
      fi
    fi
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
    # aws-iam-authenticator's webhook serving cert (it loads cert.pem/key.pem from its state dir
    # instead of making a self-signed one) and the STS gateway's cert for the STS host names.
    local name san
    for name in authenticator sts; do
      if [[ $name == authenticator ]]; then san="IP:127.0.0.1"
      else san="$(printf 'DNS:%s,' "${STS_HOSTS[@]}")"; san="${san%,}"; fi
      openssl ecparam -name prime256v1 -genkey -noout -out "$name.key"
      openssl req -new -key "$name.key" -subj "/CN=aas-$name" -out "$name.csr"
      printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
        "extendedKeyUsage=serverAuth" "subjectAltName=$san" >"$name.ext"
      openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -sha256 \
        -extfile "$name.ext" -out "$name.crt"
    done
    rm -f apiserver.csr apiserver.ext authenticator.csr authenticator.ext sts.csr sts.ext ca.srl
  ) >"$LOGD/pki.log" 2>&1 || die "certificates (openssl)" "see $LOGD/pki.log" pki
}

# aws-iam-authenticator (v0.7.18, as v0.6.13) serves /healthz on a hard-coded `:21363` (all
# interfaces) and ignores the error if that port is taken, so check it's free first.
check_health_port_free() {
  local owner
  owner="$(port_owner "$AUTH_HEALTH_PORT")"
  if [[ -n "$owner" ]] || ! python3 -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("", int(sys.argv[1])))' "$AUTH_HEALTH_PORT" 2>/dev/null; then
    local what="unknown process"
    [[ -n "$owner" ]] && what="pid $owner: $(tr '\0' ' ' <"/proc/$owner/cmdline" 2>/dev/null | cut -c1-200)"
    log "ERROR in step 'aws-iam-authenticator health port': port $AUTH_HEALTH_PORT is in use ($what)."
    log "  aws-iam-authenticator $AAS_IAM_AUTH_VERSION hard-codes its health listener on :$AUTH_HEALTH_PORT, so only one"
    log "  stack with the EKS auth chain can run at a time: 'stack.sh down' the other stack, or start"
    log "  this one with AAS_EKS_AUTH=0 (no authenticator/STS gateway/webhook)."
    exit 1
  fi
}

# authenticator_healthy: its health port is held by our process and both /healthz answer.
authenticator_healthy() {
  [[ "$(port_owner "$AUTH_HEALTH_PORT")" == "$AUTH_PID" ]] \
    && curl -sf -o /dev/null "http://127.0.0.1:$AUTH_HEALTH_PORT/healthz" \
    && curl -sf -o /dev/null --cacert "$PKI/ca.crt" "https://127.0.0.1:$AUTH_PORT/healthz"
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

  local chain="${AAS_EKS_AUTH:-1}"
  [[ "$chain" == 0 || "$chain" == 1 ]] || { log "ERROR: AAS_EKS_AUTH must be 0 or 1, not '$chain'"; exit 1; }
  local clusters="${AAS_CLUSTERS:-1}"
  [[ "$clusters" == 1 || "$clusters" == 2 ]] || { log "ERROR: AAS_CLUSTERS must be 1 or 2, not '$clusters'"; exit 1; }
  if [[ "$chain" == 1 ]]; then check_health_port_free; fi

  trap on_up_exit EXIT
  rm -rf "$PIDS" "$LOGD" "$PKI" "$S/etcd-data" "$S/etcd-2-data" "$S/moto-recording.jsonl" "$S/tokens.csv" "$S/stack.json" "$S/stack.env" \
         "$S"/*.token "$S"/*.kubeconfig "$S/authenticator"
  mkdir -p "$PIDS" "$LOGD"
  make_pki

  local ports etcd_port etcd_peer_port api_port moto_port proxy_port gw_port auth_port keys_port ms_port
  local etcd2_port etcd2_peer_port api2_port
  ports="$(free_ports 12)" || die "pick ports" "python3 failed"
  read -r etcd_port etcd_peer_port api_port moto_port proxy_port gw_port auth_port keys_port ms_port \
    etcd2_port etcd2_peer_port api2_port <<<"$ports"

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
  # moto (starts in parallel with the apiserver; waited for below): moto's own server entry
  # point, plus the access-key lookup the STS gateway verifies signatures with.
  # moto's request recorder (/moto-api/recorder, used to count calls) writes into the state dir.
  start moto env MOTO_RECORDER_FILEPATH="$S/moto-recording.jsonl" "$AAS_MOTO_VENV/bin/python" "$HERE/moto_with_keys.py" --keys-port "$keys_port" \
    -H 127.0.0.1 -p "$moto_port"
  # ministack: EKS (DescribeCluster with accessConfig, the access-entry APIs) on loopback through
  # hypercorn (ministack's own entry point binds 0.0.0.0). Its working directory is its own.
  mkdir -p "$S/ministack"
  start ministack env -C "$S/ministack" MINISTACK_ACCOUNT_ID="$ACCOUNT" MINISTACK_REGION="$REGION" \
    "$AAS_MINISTACK_PYTHON" -m hypercorn ministack.app:app --bind "127.0.0.1:$ms_port"

  local kube="https://127.0.0.1:$api_port"
  local webhook_args=() auth_dir="$S/authenticator"
  if [[ "$chain" == 1 ]]; then
    # STS gateway: needs moto only when a request comes in.
    local gw_extra=()
    [[ "${AAS_STS_ENFORCE_X_AMZ_EXPIRES:-0}" == 1 ]] && gw_extra+=(--enforce-x-amz-expires)
    start sts-gateway "$AAS_MOTO_VENV/bin/python" "$HERE/sts_gateway.py" --listen-port "$gw_port" \
      --moto-url "http://127.0.0.1:$moto_port" --keys-url "http://127.0.0.1:$keys_port" \
      --cert "$PKI/sts.crt" --key "$PKI/sts.key" \
      --hosts "$(IFS=,; echo "${STS_HOSTS[*]}")" "${gw_extra[@]}"
    # The authenticator's state dir holds its serving cert (ours, signed by the stack CA), and
    # the webhook kubeconfig the apiserver reads is written here (the authenticator runs with
    # --kubeconfig-pregenerated, so the apiserver can start before it).
    mkdir -p "$auth_dir"; chmod 700 "$auth_dir"
    cp "$PKI/authenticator.crt" "$auth_dir/cert.pem"; cp "$PKI/authenticator.key" "$auth_dir/key.pem"
    cat >"$auth_dir/webhook.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: aws-iam-authenticator
  cluster:
    certificate-authority: $PKI/ca.crt
    server: https://127.0.0.1:$auth_port/authenticate
users:
- name: apiserver
contexts:
- name: webhook
  context: {cluster: aws-iam-authenticator, user: apiserver}
current-context: webhook
EOF
    webhook_args=(--authentication-token-webhook-config-file "$auth_dir/webhook.kubeconfig"
                  --authentication-token-webhook-cache-ttl 0s
                  --authentication-token-webhook-version v1beta1)
  fi
  wait_for "etcd health" etcd curl -sf "http://127.0.0.1:$etcd_port/health"

  start kube-apiserver "$AAS_KUBE_APISERVER" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --endpoint-reconciler-type none \
    --secure-port "$api_port" \
    --cert-dir "$PKI" --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" \
    --service-cluster-ip-range 10.0.0.0/24 \
    --service-account-issuer "$kube" \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --authorization-mode RBAC --token-auth-file "$S/tokens.csv" "${webhook_args[@]}" \
    --allow-privileged=true --profiling=false --v=1
  wait_for "moto reachable" moto curl -s -o /dev/null "http://127.0.0.1:$moto_port/moto-api/"
  wait_for "moto access-key lookup reachable" moto curl -sf -o /dev/null "http://127.0.0.1:$keys_port/healthz"
  wait_for "kube-apiserver /readyz" kube-apiserver \
    curl -sf --cacert "$PKI/ca.crt" -H "Authorization: Bearer $admin_token" "$kube/readyz"
  wait_for "namespace kube-system exists" kube-apiserver \
    curl -sf --cacert "$PKI/ca.crt" -H "Authorization: Bearer $admin_token" "$kube/api/v1/namespaces/kube-system"

  # The second cluster (AAS_CLUSTERS=2): its own etcd and apiserver, the same CA, serving cert
  # (127.0.0.1) and static tokens, no token webhook, the same RBAC for the syncer.
  local kube2="" proxy_extra=()
  if [[ "$clusters" == 2 ]]; then
    kube2="https://127.0.0.1:$api2_port"
    start etcd-2 "$AAS_ETCD" --name aas2 --data-dir "$S/etcd-2-data" \
      --listen-client-urls "http://127.0.0.1:$etcd2_port" --advertise-client-urls "http://127.0.0.1:$etcd2_port" \
      --listen-peer-urls "http://127.0.0.1:$etcd2_peer_port" \
      --initial-advertise-peer-urls "http://127.0.0.1:$etcd2_peer_port" \
      --initial-cluster "aas2=http://127.0.0.1:$etcd2_peer_port" \
      --unsafe-no-fsync --log-level warn
    wait_for "etcd-2 health" etcd-2 curl -sf "http://127.0.0.1:$etcd2_port/health"
    start kube-apiserver-2 "$AAS_KUBE_APISERVER" \
      --etcd-servers "http://127.0.0.1:$etcd2_port" \
      --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --endpoint-reconciler-type none \
      --secure-port "$api2_port" \
      --cert-dir "$PKI" --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
      --client-ca-file "$PKI/ca.crt" \
      --service-cluster-ip-range 10.0.0.0/24 \
      --service-account-issuer "$kube2" \
      --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
      --authorization-mode RBAC --token-auth-file "$S/tokens.csv" \
      --allow-privileged=true --profiling=false --v=1
    wait_for "kube-apiserver-2 /readyz" kube-apiserver-2 \
      curl -sf --cacert "$PKI/ca.crt" -H "Authorization: Bearer $admin_token" "$kube2/readyz"
    wait_for "namespace kube-system exists on kube-apiserver-2" kube-apiserver-2 \
      curl -sf --cacert "$PKI/ca.crt" -H "Authorization: Bearer $admin_token" "$kube2/api/v1/namespaces/kube-system"
    python3 "$HERE/kube_apply.py" --server "$kube2" --ca-file "$PKI/ca.crt" --token-file "$S/admin.token" \
      "$REPO/deploy/rbac.yaml" >"$LOGD/apply-rbac-2.log" 2>&1 \
      || die "apply deploy/rbac.yaml on kube-apiserver-2" "kube_apply.py failed" apply-rbac-2
    proxy_extra=(--cluster "$CLUSTER2=$kube2")
  fi

  python3 "$HERE/kube_apply.py" --server "$kube" --ca-file "$PKI/ca.crt" --token-file "$S/admin.token" \
    "$REPO/deploy/rbac.yaml" "$HERE/access-policies-rbac.yaml" >"$LOGD/apply-rbac.log" 2>&1 \
    || die "apply deploy/rbac.yaml" "kube_apply.py failed" apply-rbac
  cat "$LOGD/apply-rbac.log" >&2

  wait_for "ministack reachable" ministack curl -sf -o /dev/null "http://127.0.0.1:$ms_port/_ministack/health"
  start eks-proxy python3 "$HERE/eks_proxy.py" --listen-port "$proxy_port" \
    --upstream-url "http://127.0.0.1:$ms_port" --kube-endpoint "$kube" --ca-file "$PKI/ca.crt" "${proxy_extra[@]}"
  wait_for "eks proxy reachable" eks-proxy curl -s -o /dev/null "http://127.0.0.1:$proxy_port/moto-api/"

  # The EKS cluster in ministack (through the proxy, as the syncer will see it); in the background
  # while the authenticator starts, waited for before stack.json is written.
  "$AAS_MOTO_VENV/bin/python" - "http://127.0.0.1:$proxy_port" "$CLUSTER" "$REGION" "$kube" \
      >"$LOGD/create-cluster.out" 2>"$LOGD/create-cluster.log" <<'EOF' &
import sys, boto3
url, name, region, kube = sys.argv[1:]
eks = boto3.client("eks", endpoint_url=url, region_name=region,
                   aws_access_key_id="testing", aws_secret_access_key="testing")
c = eks.create_cluster(name=name, roleArn="arn:aws:iam::123456789012:role/aas-local-eks-cluster",
                       resourcesVpcConfig={"subnetIds": ["subnet-aas-local"]},
                       accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})["cluster"]
d = eks.describe_cluster(name=name)["cluster"]
assert d["endpoint"] == kube and d["accessConfig"]["authenticationMode"] == "API_AND_CONFIG_MAP", d
print(c["arn"])
EOF
  local cluster_job=$!
  local cluster2_job=""
  if [[ "$clusters" == 2 ]]; then
    "$AAS_MOTO_VENV/bin/python" - "http://127.0.0.1:$proxy_port" "$CLUSTER2" "$REGION" "$kube2" \
        >"$LOGD/create-cluster-2.out" 2>"$LOGD/create-cluster-2.log" <<'EOF' &
import sys, boto3
url, name, region, kube = sys.argv[1:]
eks = boto3.client("eks", endpoint_url=url, region_name=region,
                   aws_access_key_id="testing", aws_secret_access_key="testing")
c = eks.create_cluster(name=name, roleArn="arn:aws:iam::123456789012:role/aas-local-eks-cluster",
                       resourcesVpcConfig={"subnetIds": ["subnet-aas-local"]})["cluster"]
assert eks.describe_cluster(name=name)["cluster"]["endpoint"] == kube
print(c["arn"])
EOF
    cluster2_job=$!
  fi

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

  local started=(etcd kube-apiserver)
  [[ "$clusters" == 2 ]] && started+=("${SECOND_PROCS[@]}")
  started+=(moto ministack eks-proxy)
  if [[ "$chain" == 1 ]]; then
    started+=("${CHAIN_PROCS[@]}")
    # aws-iam-authenticator, after the apiserver is ready (so its aws-auth watch starts at
    # once; it retries only every 5 s). It reads aws-auth with the admin kubeconfig
    # (control-plane infrastructure). Environment: only what it needs; HTTPS goes through
    # the STS gateway, which it trusts through SSL_CERT_FILE = the stack CA.
    wait_for "sts gateway healthy" sts-gateway curl -sf "http://127.0.0.1:$gw_port/healthz"
    # The access entries, rendered from ministack into the file the authenticator's DynamicFile
    # backend reads (the shape EKS serves them in); the file exists before the authenticator starts.
    start entries-renderer "$AAS_MOTO_VENV/bin/python" "$HERE/entries_renderer.py" \
      --eks-url "http://127.0.0.1:$ms_port" --iam-url "http://127.0.0.1:$moto_port" \
      --cluster "$CLUSTER" --region "$REGION" --out "$auth_dir/access-entries.json"
    wait_for "access entries rendered" entries-renderer test -s "$auth_dir/access-entries.json"
    cat >"$auth_dir/config.yaml" <<EOF
# aws-iam-authenticator server config (only what flags cannot set): the DynamicFile backend,
# keyed by the principal's unique id as EKS runs it.
server:
  dynamicfilepath: $auth_dir/access-entries.json
  dynamicfileUserIDStrict: true
EOF
    check_health_port_free
    start aws-iam-authenticator env -i AAS_STACK_OWNER="$S" PATH=/usr/bin:/bin HOME="$auth_dir" \
      AWS_EC2_METADATA_DISABLED=true \
      HTTPS_PROXY="http://127.0.0.1:$gw_port" NO_PROXY=127.0.0.1,localhost SSL_CERT_FILE="$PKI/ca.crt" \
      "$AAS_IAM_AUTHENTICATOR" server \
      --config "$auth_dir/config.yaml" \
      --cluster-id "$CLUSTER" --backend-mode DynamicFile,EKSConfigMap --kubeconfig "$S/admin.kubeconfig" \
      --state-dir "$auth_dir" --generate-kubeconfig "$auth_dir/webhook.kubeconfig" --kubeconfig-pregenerated=true \
      --address 127.0.0.1 --port "$auth_port"
    AUTH_PID="$(pid_of aws-iam-authenticator)" AUTH_PORT="$auth_port" \
      wait_for "aws-iam-authenticator healthy (:$AUTH_HEALTH_PORT and https://127.0.0.1:$auth_port/healthz)" \
      aws-iam-authenticator authenticator_healthy
  else
    log "AAS_EKS_AUTH=0: no aws-iam-authenticator, no STS gateway, no token webhook"
  fi

  wait "$cluster_job" || die "create EKS cluster $CLUSTER in ministack" "see $LOGD/create-cluster.log" create-cluster
  local cluster_arn; cluster_arn="$(cat "$LOGD/create-cluster.out")"
  local cluster2_arn=""
  if [[ -n "$cluster2_job" ]]; then
    wait "$cluster2_job" || die "create EKS cluster $CLUSTER2 in ministack" "see $LOGD/create-cluster-2.log" create-cluster-2
    cluster2_arn="$(cat "$LOGD/create-cluster-2.out")"
  fi

  # stack.json / stack.env
  STACK_DIR="$S" KUBE="$kube" CA_DATA="$ca_data" ADMIN="$admin_token" SYNCER="$syncer_token" \
  MOTO="http://127.0.0.1:$moto_port" EKS="http://127.0.0.1:$proxy_port" REGION="$REGION" \
  MINISTACK="http://127.0.0.1:$ms_port" \
  CLUSTER="$CLUSTER" CLUSTER_ARN="$cluster_arn" CHAIN="$chain" GW_PORT="$gw_port" AUTH_PORT="$auth_port" \
  KEYS="http://127.0.0.1:$keys_port" \
  AUTH_HEALTH_PORT="$AUTH_HEALTH_PORT" STS_HOSTS="${STS_HOSTS[*]}" \
  STRICT_EXPIRES="${AAS_STS_ENFORCE_X_AMZ_EXPIRES:-0}" \
  CLUSTERS="$clusters" CLUSTER2="$CLUSTER2" CLUSTER2_ARN="$cluster2_arn" KUBE2="$kube2" \
  python3 - "${started[@]}" <<'EOF'
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
    "motoKeysEndpoint": e["KEYS"],
    "eksEndpoint": e["EKS"],
    "ministackEndpoint": e["MINISTACK"],
    "region": e["REGION"],
    "stateDir": s,
    "pids": {p: int(open(os.path.join(s, "pids", p + ".pid")).read()) for p in procs},
    "logs": {p: os.path.join(s, "logs", p + ".log") for p in procs},
    "versions": {"kubernetes": e["AAS_K8S_VERSION"], "etcd": e["AAS_ETCD_VERSION"],
                 "awsIamAuthenticator": e["AAS_IAM_AUTH_VERSION"], "moto": e["AAS_MOTO_VERSION"],
                 "ministack": e["AAS_MINISTACK_PYTHON"].split("/ministack-")[1].split("/")[0]},
    "bin": {"kubeApiserver": e["AAS_KUBE_APISERVER"], "etcd": e["AAS_ETCD"],
            "awsIamAuthenticator": e["AAS_IAM_AUTHENTICATOR"],
            "motoPython": os.path.join(e["AAS_MOTO_VENV"], "bin", "python")},
    "cluster": e["CLUSTER"],
    "clusterArn": e["CLUSTER_ARN"],
    "eksAuth": e["CHAIN"] == "1",
    "clusters": int(e["CLUSTERS"]),
}
if e["CLUSTERS"] == "2":
    # The second cluster: its own apiserver (same CA, same static tokens), no token webhook.
    doc["secondCluster"] = {"name": e["CLUSTER2"], "arn": e["CLUSTER2_ARN"], "kubeEndpoint": e["KUBE2"]}
if e["CHAIN"] == "1":
    region = e["REGION"]
    doc["stsHost"] = "sts.%s.amazonaws.com" % region
    doc["authenticator"] = {
        "clusterId": e["CLUSTER"],
        "backendMode": "DynamicFile,EKSConfigMap",
        "dynamicFile": os.path.join(s, "authenticator", "access-entries.json"),
        "endpoint": "https://127.0.0.1:%s/authenticate" % e["AUTH_PORT"],
        "port": int(e["AUTH_PORT"]),
        "healthPort": int(e["AUTH_HEALTH_PORT"]),
        "webhookKubeconfig": os.path.join(s, "authenticator", "webhook.kubeconfig"),
        "stateDir": os.path.join(s, "authenticator"),
        "webhookCacheTtl": "0s",
    }
    doc["stsGateway"] = {
        "url": "http://127.0.0.1:%s" % e["GW_PORT"],
        "port": int(e["GW_PORT"]),
        "hosts": e["STS_HOSTS"].split(),
        "certFile": os.path.join(s, "pki", "sts.crt"),
        "enforceXAmzExpires": e["STRICT_EXPIRES"] == "1",
    }
with open(os.path.join(s, "stack.json"), "w") as f:
    json.dump(doc, f, indent=2); f.write("\n")
env = {
    "AAS_STACK_DIR": s, "AAS_KUBE_ENDPOINT": doc["kubeEndpoint"], "AAS_CA_FILE": doc["caFile"],
    "AAS_CA_DATA": doc["caData"], "AAS_ADMIN_TOKEN": doc["adminToken"],
    "AAS_SYNCER_TOKEN": doc["syncerToken"], "AAS_ADMIN_KUBECONFIG": doc["adminKubeconfig"],
    "AAS_SYNCER_KUBECONFIG": doc["syncerKubeconfig"], "AAS_MOTO_ENDPOINT": doc["motoEndpoint"],
    "AAS_EKS_ENDPOINT": doc["eksEndpoint"], "AAS_REGION": doc["region"],
    "AAS_MINISTACK_ENDPOINT": doc["ministackEndpoint"],
    "AAS_MOTO_PYTHON": doc["bin"]["motoPython"],
    "AAS_IAM_AUTHENTICATOR": doc["bin"]["awsIamAuthenticator"],
    "AAS_CLUSTER": doc["cluster"], "AAS_CLUSTER_ARN": doc["clusterArn"],
    "AAS_MOTO_KEYS_ENDPOINT": doc["motoKeysEndpoint"],
    "AAS_EKS_AUTH": "1" if doc["eksAuth"] else "0",
    "AAS_CLUSTERS": str(doc["clusters"]),
}
if "secondCluster" in doc:
    c2 = doc["secondCluster"]
    env.update({"AAS_CLUSTER_2": c2["name"], "AAS_CLUSTER_2_ARN": c2["arn"], "AAS_KUBE_ENDPOINT_2": c2["kubeEndpoint"]})
if doc["eksAuth"]:
    a, g = doc["authenticator"], doc["stsGateway"]
    env.update({
        "AAS_STS_HOST": doc["stsHost"],
        "AAS_AUTHENTICATOR_ENDPOINT": a["endpoint"], "AAS_AUTHENTICATOR_PORT": str(a["port"]),
        "AAS_AUTHENTICATOR_HEALTH_PORT": str(a["healthPort"]),
        "AAS_AUTHENTICATOR_WEBHOOK_KUBECONFIG": a["webhookKubeconfig"],
        "AAS_ENTRIES_FILE": a["dynamicFile"],
        "AAS_STS_GATEWAY_URL": g["url"], "AAS_STS_GATEWAY_PORT": str(g["port"]),
    })
for p in procs:
    k = p.upper().replace("-", "_")
    env["AAS_PID_" + k] = str(doc["pids"][p]); env["AAS_LOG_" + k] = doc["logs"][p]
with open(os.path.join(s, "stack.env"), "w") as f:
    for k, v in env.items():
        f.write("export %s=%s\n" % (k, shlex.quote(v)))
EOF
  chmod 600 "$S/stack.json" "$S/stack.env"
  trap - EXIT
  log "stack up in $((SECONDS - T0))s: kube $kube, moto http://127.0.0.1:$moto_port, ministack http://127.0.0.1:$ms_port, eks proxy http://127.0.0.1:$proxy_port, cluster $CLUSTER"
  [[ "$clusters" == 2 ]] && log "second cluster $CLUSTER2: kube $kube2 (static tokens, no token webhook)"
  [[ "$chain" == 1 ]] && log "EKS auth chain: aws-iam-authenticator https://127.0.0.1:$auth_port (health :$AUTH_HEALTH_PORT), STS gateway http://127.0.0.1:$gw_port"
  log "wrote $S/stack.json and $S/stack.env"
}

case "$CMD" in
  up) do_up ;;
  down) do_down; log "down: $S" ;;
  status) do_status ;;
  *) usage ;;
esac
