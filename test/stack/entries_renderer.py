#!/usr/bin/env python3
"""Access-entries renderer -- TEST INFRASTRUCTURE ONLY, never part of the product.

EKS serves access entries to aws-iam-authenticator as a JSON mapping file read by its
`DynamicFile` backend (mapRoles/mapUsers with `userid`), looked up before aws-auth
(`--backend-mode DynamicFile,EKSConfigMap`, the order EKS runs in API_AND_CONFIG_MAP mode), and
keyed by the principal's unique id (`dynamicfileUserIDStrict: true`). ministack keeps the access
entries but has no such file, so this loop renders it from ministack's entries, the way EKS
does, so that the integration tests prove who really gets in on the access-entries target:

  * every STANDARD access entry of the cluster -> one mapping: `rolearn`/`userarn` (the ARN as
    the entry holds it: the authenticator strips a role's path itself), `username` (EKS's default
    when the entry has none: the assumed-role ARN with {{SessionName}} for roles, the user ARN for
    users), `groups` = the entry's Kubernetes groups + one group per associated access policy
    (`eks-access-policy:<PolicyName>` at cluster scope, `eks-access-policy:<PolicyName>:<ns>` per
    namespace) -- EKS authorizes access policies itself; the stack binds the cluster-scope groups
    to the matching Kubernetes ClusterRoles (test/stack/access-policies-rbac.yaml);
  * `userid` = the principal's IAM unique id (moto's RoleId / UserId) *pinned when the renderer
    first sees the entry* (by its accessEntryArn, which a new entry never shares), as EKS resolves
    it once at CreateAccessEntry: a role or user deleted and recreated under the same ARN gets a
    new id in moto, so its old entry stops working here exactly as on EKS, until the entry is
    deleted and created again;
  * entries whose principal does not exist in IAM when first seen are left out (EKS refuses to
    create them); node entries (EC2_LINUX, ...) too (nothing in the tests logs in as a node).
The file is replaced atomically (write + rename) when its content changes; the authenticator
reloads it within about a second.

Usage: entries_renderer.py --eks-url http://127.0.0.1:M --iam-url http://127.0.0.1:I \
                           --cluster aas-local --region us-east-1 --out <file> [--interval 0.25]
"""
import argparse
import json
import os
import sys
import time

import boto3
import botocore.config


def log(msg):
    sys.stderr.write("%s %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def client(service, url, region):
    return boto3.client(service, endpoint_url=url, region_name=region,
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=botocore.config.Config(retries={"max_attempts": 2}, connect_timeout=3, read_timeout=10))


def principal_id(iam, arn):
    """The IAM unique id of the principal an ARN names now, or None when there is none."""
    resource = arn.split(":", 5)[5]
    kind, name = resource.split("/", 1)[0], resource.rsplit("/", 1)[-1]
    try:
        if kind == "role":
            return iam.get_role(RoleName=name)["Role"]["RoleId"]
        if kind == "user":
            return iam.get_user(UserName=name)["User"]["UserId"]
    except iam.exceptions.NoSuchEntityException:
        return None
    return None


def default_username(arn):
    parts = arn.split(":")
    resource = parts[5]
    if resource.startswith("role/"):
        return "arn:%s:sts::%s:assumed-role/%s/{{SessionName}}" % (parts[1], parts[4], resource.rsplit("/", 1)[-1])
    return arn


def policy_groups(policies):
    out = []
    for p in policies:
        name = p["policyArn"].rsplit("/", 1)[-1]
        scope = p.get("accessScope") or {}
        if scope.get("type") == "cluster":
            out.append("eks-access-policy:%s" % name)
        else:
            out.extend("eks-access-policy:%s:%s" % (name, ns) for ns in scope.get("namespaces") or [])
    return out


def render(eks, iam, cluster, pinned):
    arns = []
    token = None
    while True:  # ministack does not paginate; a real nextToken would be followed all the same
        kw = {"clusterName": cluster, "maxResults": 100}
        if token:
            kw["nextToken"] = token
        page = eks.list_access_entries(**kw)
        arns.extend(page.get("accessEntries", []))
        token = page.get("nextToken")
        if not token:
            break
    roles, users, live = [], [], set()
    for arn in arns:
        try:
            e = eks.describe_access_entry(clusterName=cluster, principalArn=arn)["accessEntry"]
        except eks.exceptions.ResourceNotFoundException:
            continue
        if e.get("type", "STANDARD") != "STANDARD":
            continue
        key = e.get("accessEntryArn") or "%s@%s" % (arn, e.get("createdAt"))
        live.add(key)
        if key not in pinned:
            pinned[key] = principal_id(iam, arn)
            log("entry %s for %s: principal id %s" % (key, arn, pinned[key]))
        uid = pinned[key]
        if uid is None:
            continue
        policies = eks.list_associated_access_policies(clusterName=cluster, principalArn=arn).get("associatedAccessPolicies", [])
        mapping = {
            "username": e.get("username") or default_username(arn),
            "groups": list(e.get("kubernetesGroups") or []) + policy_groups(policies),
            "userid": uid,
        }
        if ":role/" in arn:
            roles.append(dict(mapping, rolearn=arn))
        else:
            users.append(dict(mapping, userarn=arn))
    for k in [k for k in pinned if k not in live]:
        del pinned[k]
    key = lambda m: m.get("rolearn") or m.get("userarn")
    return {"mapRoles": sorted(roles, key=key), "mapUsers": sorted(users, key=key), "mapAccounts": []}


def write_atomically(path, doc):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eks-url", required=True)
    ap.add_argument("--iam-url", required=True)
    ap.add_argument("--cluster", required=True)
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--out", required=True)
    ap.add_argument("--interval", type=float, default=0.25)
    a = ap.parse_args()
    eks = client("eks", a.eks_url, a.region)
    iam = client("iam", a.iam_url, a.region)
    pinned = {}
    last = None
    if not os.path.exists(a.out):
        write_atomically(a.out, {"mapRoles": [], "mapUsers": [], "mapAccounts": []})
    log("rendering access entries of %s from %s into %s" % (a.cluster, a.eks_url, a.out))
    while True:
        try:
            doc = render(eks, iam, a.cluster, pinned)
            text = json.dumps(doc, sort_keys=True)
            if text != last:
                # Version/LastUpdatedDateTime: what EKS writes too (the authenticator logs the latency).
                write_atomically(a.out, dict(doc, Version=str(int(time.time() * 1000)), LastUpdatedDateTime=str(int(time.time()))))
                last = text
                log("rendered %d role and %d user mapping(s)" % (len(doc["mapRoles"]), len(doc["mapUsers"])))
        except Exception as exc:  # a moto reset, ministack not up yet: say so, try again
            log("render failed: %s" % exc)
        time.sleep(a.interval)


if __name__ == "__main__":
    main()
