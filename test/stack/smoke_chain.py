"""EKS auth chain half of smoke.sh -- TEST INFRASTRUCTURE.

Runs in the moto venv (boto3), reads AAS_* from stack.env. Proves, end to end:
token (the syncer's own createEksToken from dist/, via eks_token.mjs) -> kube-apiserver
token webhook -> aws-iam-authenticator (EKSConfigMap: kube-system/aws-auth) -> STS gateway
-> moto -> mapping -> RBAC. Also checks the STS gateway directly. Prints one `ok   ...` or
`FAIL ...` line per check; exit status = number of failures (capped at 100).
"""
import base64
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import boto3
import botocore.session

env = os.environ
HERE = os.path.dirname(os.path.abspath(__file__))
REGION, CLUSTER = env["AAS_REGION"], env["AAS_CLUSTER"]
KUBE, CA = env["AAS_KUBE_ENDPOINT"], env["AAS_CA_FILE"]
ADMIN = env["AAS_ADMIN_TOKEN"]
GW_PORT = int(env["AAS_STS_GATEWAY_PORT"])
STS_HOST = env["AAS_STS_HOST"]
CM = "/api/v1/namespaces/kube-system/configmaps"
SSR = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
PROPAGATION_S = 10  # aws-auth changes reach the authenticator by watch; poll up to this long

creds = dict(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION,
             endpoint_url=env["AAS_MOTO_ENDPOINT"])
iam = boto3.client("iam", **creds)
ctx = ssl.create_default_context(cafile=CA)
# 127.0.0.1 only: never through a proxy from the environment.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ctx))
fails = 0


def report(ok, desc, detail=""):
    global fails
    if ok:
        print("ok   %s%s" % (desc, (" (%s)" % detail) if detail else ""))
    else:
        fails += 1
        print("FAIL %s%s" % (desc, (": %s" % detail) if detail else ""))
    sys.stdout.flush()


def kube(method, path, token, body=None, ctype="application/json"):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(KUBE + path, data=data, method=method,
                                 headers={"Authorization": "Bearer " + token, "Content-Type": ctype})
    try:
        with OPENER.open(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


def whoami(token):
    code, doc = kube("POST", SSR, token, {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    if code == 201:
        ui = doc["status"]["userInfo"]
        return code, ui.get("username"), ui.get("groups", []), ui.get("extra", {})
    return code, None, None, None


def wait_whoami(token_fn, want_code, pred=lambda u, g: True):
    """Poll until SelfSubjectReview gives want_code (and pred holds); returns (result, seconds)."""
    t0 = time.monotonic()
    while True:
        res = whoami(token_fn())
        if res[0] == want_code and (want_code != 201 or pred(res[1], res[2])):
            return res, time.monotonic() - t0
        if time.monotonic() - t0 > PROPAGATION_S:
            return res, time.monotonic() - t0
        time.sleep(0.2)


def set_aws_auth(map_users=None, map_roles=None):
    data = {}
    if map_users is not None:
        data["mapUsers"] = map_users
    if map_roles is not None:
        data["mapRoles"] = map_roles
    body = {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "aws-auth", "namespace": "kube-system"}, "data": data}
    code, _ = kube("PUT", CM + "/aws-auth", ADMIN, body)
    if code == 404:
        code, _ = kube("POST", CM, ADMIN, body)
    assert code in (200, 201), "aws-auth write: HTTP %s" % code


def syncer_token(key, secret, session=None, cluster=CLUSTER, age=0):
    """The syncer's own token code (dist/lib/adapters/eks.js createEksToken)."""
    e = dict(env, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret)
    e.pop("AWS_SESSION_TOKEN", None)
    if session:
        e["AWS_SESSION_TOKEN"] = session
    out = subprocess.run(["node", os.path.join(HERE, "eks_token.mjs"), "--cluster", cluster, "--region", REGION,
                          "--age-seconds", str(age)], env=e, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError("eks_token.mjs failed: %s" % out.stderr.strip())
    return out.stdout.strip()


def awscli_style_token(key, secret, session=None, cluster=CLUSTER):
    """Independent client: botocore's presigner, as `aws eks get-token` does it."""
    sess = botocore.session.Session()
    sts = sess.create_client("sts", region_name=REGION, endpoint_url="https://%s" % STS_HOST,
                             aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=session)

    def add_header(request, **kwargs):
        request.headers["x-k8s-aws-id"] = cluster
    sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_header)
    url = sts.generate_presigned_url("get_caller_identity", Params={}, ExpiresIn=60, HttpMethod="GET")
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def token_url(token):
    b = token[len("k8s-aws-v1."):]
    return base64.urlsafe_b64decode(b + "=" * (-len(b) % 4)).decode()


# ---- the STS gateway, directly --------------------------------------------------------
def connect_status(target):
    s = socket.create_connection(("127.0.0.1", GW_PORT), timeout=10)
    try:
        s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, target)).encode())
        return int(s.recv(1024).split(b" ", 2)[1])
    finally:
        s.close()


def gateway_get(url, cluster_header=CLUSTER):
    """GET a presigned URL through the gateway (CONNECT + TLS with the stack CA), like the authenticator."""
    u = urllib.parse.urlsplit(url)
    import http.client
    conn = http.client.HTTPSConnection("127.0.0.1", GW_PORT, context=ctx, timeout=30)
    conn.set_tunnel(u.hostname, 443)
    conn.request("GET", "/?" + u.query, headers={"x-k8s-aws-id": cluster_header, "Accept": "application/json"})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    try:
        return r.status, json.loads(body)
    except ValueError:
        return r.status, body.decode(errors="replace")


def err_code(doc):
    return doc.get("Error", {}).get("Code") if isinstance(doc, dict) else doc


def main():
    if not os.path.exists(os.path.join(env.get("AAS_REPO", os.path.join(HERE, "..", "..")), "dist/lib/adapters/eks.js")):
        report(False, "dist/lib/adapters/eks.js exists (the syncer's compiled token code)", "run `npm run build` first")
        return
    sfx = uuid.uuid4().hex[:8]
    user_name, group = "aas-chain-%s" % sfx, "aas-chain-devs"
    user = iam.create_user(UserName=user_name, Path="/eng/")["User"]
    key = iam.create_access_key(UserName=user_name)["AccessKey"]
    kid, ksec = key["AccessKeyId"], key["SecretAccessKey"]
    tok = lambda **kw: syncer_token(kid, ksec, **kw)  # noqa: E731

    # -- gateway
    report(connect_status("example.com:443") == 403, "gateway refuses CONNECT to a non-STS host")
    report(connect_status("%s:8443" % STS_HOST) == 403, "gateway refuses CONNECT to an STS host on another port")
    code, doc = gateway_get(token_url(tok()))
    res = doc.get("GetCallerIdentityResponse", {}) if isinstance(doc, dict) else {}
    shape_ok = (code == 200 and set(doc) == {"GetCallerIdentityResponse"}
                and set(res) == {"GetCallerIdentityResult", "ResponseMetadata"}
                and set(res["GetCallerIdentityResult"]) == {"Account", "Arn", "UserId"}
                and set(res["ResponseMetadata"]) == {"RequestId"}
                and res["GetCallerIdentityResult"]["Arn"] == user["Arn"])
    report(shape_ok, "gateway answers GetCallerIdentity JSON as STS does", "%s %s" % (code, json.dumps(doc)[:200]))
    code, doc = gateway_get(token_url(tok()), cluster_header="another-cluster")
    report(code == 403 and err_code(doc) == "SignatureDoesNotMatch",
           "gateway: x-k8s-aws-id differing from the signed one -> 403 SignatureDoesNotMatch", "%s %s" % (code, err_code(doc)))
    url = token_url(tok())
    sig = url.rsplit("X-Amz-Signature=", 1)[1].split("&")[0]
    bad = url.replace("X-Amz-Signature=" + sig, "X-Amz-Signature=" + ("0" if sig[0] != "0" else "1") + sig[1:])
    code, doc = gateway_get(bad)
    report(code == 403 and err_code(doc) == "SignatureDoesNotMatch", "gateway: tampered signature -> 403",
           "%s %s" % (code, err_code(doc)))
    code, doc = gateway_get(token_url(syncer_token(kid, "not-the-secret")))
    report(code == 403 and err_code(doc) == "SignatureDoesNotMatch", "gateway: wrong secret -> 403",
           "%s %s" % (code, err_code(doc)))
    code, doc = gateway_get(token_url(tok(age=16 * 60)))
    report(code == 403 and "expired" in json.dumps(doc), "gateway: X-Amz-Date 16 min old -> 403 (Signature expired)",
           "%s %s" % (code, (doc.get("Error", {}).get("Message") if isinstance(doc, dict) else doc)))
    code, doc = gateway_get(token_url(syncer_token("AKIA" + uuid.uuid4().hex[:16].upper(), "x")))
    report(code == 403 and err_code(doc) == "InvalidClientTokenId", "gateway: unknown access key -> 403 InvalidClientTokenId",
           "%s %s" % (code, err_code(doc)))

    # -- the chain, through the apiserver
    code, _, _, _ = whoami(tok())
    report(code == 401, "unmapped IAM user's token -> 401", str(code))

    set_aws_auth(map_users="- userarn: %s\n  username: %s\n  groups:\n  - %s\n" % (user["Arn"], user_name, group))
    (code, uname, groups, extra), dt_s = wait_whoami(tok, 201, lambda u, g: u == user_name)
    report(code == 201 and uname == user_name and group in (groups or []) and "system:authenticated" in (groups or []),
           "mapped user (mapUsers) -> SelfSubjectReview username/groups",
           "%s %s %s, arn %s, after %.2fs" % (code, uname, groups, (extra or {}).get("arn"), dt_s))
    code, _ = kube("GET", "/api/v1/namespaces/default/configmaps", tok())
    report(code == 403, "mapped user without RBAC: list configmaps in default -> 403", str(code))
    # RBAC on top: a Role (own, not the aggregated ClusterRole `view`, which stays empty
    # without kube-controller-manager) bound to the mapped group.
    rbac = "/apis/rbac.authorization.k8s.io/v1/namespaces/default"
    role_doc = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                "metadata": {"name": "aas-chain-cm-reader", "namespace": "default"},
                "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]}
    rb = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
          "metadata": {"name": "aas-chain-cm-reader", "namespace": "default"},
          "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "aas-chain-cm-reader"},
          "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}]}
    kube("DELETE", rbac + "/rolebindings/aas-chain-cm-reader", ADMIN)
    kube("DELETE", rbac + "/roles/aas-chain-cm-reader", ADMIN)
    r_code, _ = kube("POST", rbac + "/roles", ADMIN, role_doc)
    rb_code, _ = kube("POST", rbac + "/rolebindings", ADMIN, rb)
    t0 = time.monotonic()
    while True:  # the RBAC authorizer sees new bindings through its informer: poll briefly
        code, _ = kube("GET", "/api/v1/namespaces/default/configmaps", tok())
        if code == 200 or time.monotonic() - t0 > PROPAGATION_S:
            break
        time.sleep(0.2)
    report(code == 200, "group %s bound to a Role (get/list configmaps): list configmaps in default -> 200" % group,
           "%s (Role POST %s, RoleBinding POST %s), after %.2fs" % (code, r_code, rb_code, time.monotonic() - t0))
    code, _ = kube("GET", "/api/v1/namespaces/kube-system/secrets", tok())
    report(code == 403, "same user: list secrets in kube-system -> 403", str(code))
    kube("DELETE", rbac + "/rolebindings/aas-chain-cm-reader", ADMIN)
    kube("DELETE", rbac + "/roles/aas-chain-cm-reader", ADMIN)

    code, uname, _, _ = whoami(awscli_style_token(kid, ksec))
    report(code == 201 and uname == user_name, "aws-cli-style token (botocore presigner) accepted too", "%s %s" % (code, uname))
    code, _, _, _ = whoami(syncer_token(kid, ksec, cluster="another-cluster"))
    report(code == 401, "token for another cluster id -> 401", str(code))
    code, _, _, _ = whoami(tok(age=16 * 60))
    report(code == 401, "token signed 16 min ago -> 401", str(code))
    code, uname, _, _ = whoami(tok(age=5 * 60))
    report(code == 201 and uname == user_name, "token signed 5 min ago (X-Amz-Expires=60) -> accepted, as on EKS",
           "%s %s" % (code, uname))
    code, _, _, _ = whoami(syncer_token("AKIA" + uuid.uuid4().hex[:16].upper(), "x"))
    report(code == 401, "token for an access key moto doesn't know -> 401", str(code))

    set_aws_auth(map_users="[]\n")
    (code, _, _, _), dt_s = wait_whoami(tok, 401)
    report(code == 401, "mapping removed from aws-auth -> 401", "%s after %.2fs" % (code, dt_s))

    # -- AssumeRole session, mapped by rolearn with {{SessionName}}
    acct = user["Arn"].split(":")[4]
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": user["Arn"]}, "Action": "sts:AssumeRole"}]})
    role = iam.create_role(RoleName="aas-chain-role-%s" % sfx, AssumeRolePolicyDocument=trust)["Role"]
    path_role = iam.create_role(RoleName="AWSReservedSSO_Admin_%s" % sfx, Path="/aws-reserved/sso.amazonaws.com/",
                                AssumeRolePolicyDocument=trust)["Role"]
    user_sts = boto3.client("sts", aws_access_key_id=kid, aws_secret_access_key=ksec, region_name=REGION,
                            endpoint_url=env["AAS_MOTO_ENDPOINT"])
    session_name = "smoke-%s" % sfx
    c = user_sts.assume_role(RoleArn=role["Arn"], RoleSessionName=session_name)["Credentials"]
    stok = lambda **kw: syncer_token(c["AccessKeyId"], c["SecretAccessKey"], session=c["SessionToken"], **kw)  # noqa: E731
    set_aws_auth(map_roles="- rolearn: %s\n  username: x:{{SessionName}}\n  groups:\n  - aas-chain-role\n" % role["Arn"])
    (code, uname, groups, extra), dt_s = wait_whoami(stok, 201)
    report(code == 201 and uname == "x:" + session_name and "aas-chain-role" in (groups or []),
           "AssumeRole session mapped via rolearn, username x:{{SessionName}}",
           "%s %s %s, arn %s" % (code, uname, groups, (extra or {}).get("arn")))
    code, _, _, _ = whoami(syncer_token(c["AccessKeyId"], c["SecretAccessKey"]))
    report(code == 401, "session key without its X-Amz-Security-Token -> 401", str(code))

    # SSO-style role with a path: what aws-iam-authenticator matches (informative; the
    # assumed-role ARN carries no path, and EKSConfigMap compares rolearn with the canonical ARN,
    # case-insensitively).
    pc = user_sts.assume_role(RoleArn=path_role["Arn"], RoleSessionName=session_name)["Credentials"]
    ptok = lambda: syncer_token(pc["AccessKeyId"], pc["SecretAccessKey"], session=pc["SessionToken"])  # noqa: E731
    no_path = "arn:aws:iam::%s:role/%s" % (acct, path_role["RoleName"])
    set_aws_auth(map_roles="- rolearn: %s\n  username: sso:{{SessionName}}\n  groups: [sso]\n" % no_path)
    (code, uname, _, extra), _ = wait_whoami(ptok, 201)
    report(code == 201 and uname == "sso:" + session_name, "role with path, aws-auth rolearn WITHOUT the path -> accepted",
           "%s %s, arn %s" % (code, uname, (extra or {}).get("arn")))
    set_aws_auth(map_roles="- rolearn: %s\n  username: sso:{{SessionName}}\n  groups: [sso]\n" % path_role["Arn"])
    (code, _, _, _), _ = wait_whoami(ptok, 401)
    report(code == 401, "role with path, aws-auth rolearn WITH the path -> 401 (canonical ARN has no path)", str(code))

    # clean up
    kube("DELETE", CM + "/aws-auth", ADMIN)
    iam.delete_access_key(UserName=user_name, AccessKeyId=kid)
    iam.delete_user(UserName=user_name)
    iam.delete_role(RoleName=role["RoleName"])
    iam.delete_role(RoleName=path_role["RoleName"])
    code, doc = gateway_get(token_url(tok()))
    report(code == 403 and err_code(doc) == "InvalidClientTokenId", "gateway: deleted access key -> 403",
           "%s %s" % (code, err_code(doc)))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # report, don't hide
        import traceback
        traceback.print_exc()
        report(False, "chain smoke crashed", repr(e))
    sys.exit(min(fails, 100))
