#!/usr/bin/env python3
"""Minimal `kubectl apply` for the test stack (no kubectl here) -- TEST INFRASTRUCTURE.

Sends each document of a multi-document YAML file to the API server as
`application/yaml` (the API server decodes YAML itself): POST to the collection,
and on 409 AlreadyExists a PUT to the object (unconditional update). Only the
top-level `apiVersion`, `kind` and `metadata.name` / `metadata.namespace` are read
here, with simple line matching, so the files must be plain block-style YAML.

Usage: kube_apply.py --server https://127.0.0.1:P --ca-file ca.crt --token-file F FILE...
"""
import argparse
import re
import ssl
import sys
import urllib.error
import urllib.request

PLURALS = {
    "role": "roles", "rolebinding": "rolebindings", "clusterrole": "clusterroles",
    "clusterrolebinding": "clusterrolebindings", "configmap": "configmaps",
    "namespace": "namespaces", "serviceaccount": "serviceaccounts", "secret": "secrets",
}
CLUSTER_SCOPED = {"clusterrole", "clusterrolebinding", "namespace"}


def split_docs(text):
    docs, cur = [], []
    for line in text.splitlines():
        if re.match(r"^---\s*$", line):
            docs.append("\n".join(cur)); cur = []
        else:
            cur.append(line)
    docs.append("\n".join(cur))
    return [d for d in docs if re.search(r"^kind:", d, re.M)]


def meta(doc):
    api = re.search(r"^apiVersion:\s*(\S+)", doc, re.M).group(1).strip("'\"")
    kind = re.search(r"^kind:\s*(\S+)", doc, re.M).group(1).strip("'\"")
    name = ns = None
    block = re.search(r"^metadata:\s*\n((?:[ \t]+.*\n?|\s*\n)*)", doc, re.M)
    if block:
        lines = block.group(1).splitlines()
        indent = min((len(l) - len(l.lstrip()) for l in lines if l.strip()), default=2)
        for l in lines:
            if len(l) - len(l.lstrip()) != indent:
                continue
            m = re.match(r"\s*(name|namespace):\s*(\S+)", l)
            if m:
                val = m.group(2).strip("'\"")
                if m.group(1) == "name":
                    name = val
                else:
                    ns = val
    if not name:
        raise SystemExit("kube_apply: a %s without metadata.name" % kind)
    return api, kind, name, ns


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--ca-file", required=True)
    ap.add_argument("--token-file", required=True)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    token = open(a.token_file).read().strip()
    ctx = ssl.create_default_context(cafile=a.ca_file)

    def call(method, url, body=None):
        req = urllib.request.Request(url, data=body, method=method, headers={
            "Authorization": "Bearer " + token,
            "Content-Type": "application/yaml", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    for path in a.files:
        for doc in split_docs(open(path).read()):
            api, kind, name, ns = meta(doc)
            base = "/api/" + api if "/" not in api else "/apis/" + api
            plural = PLURALS.get(kind.lower(), kind.lower() + "s")
            if kind.lower() in CLUSTER_SCOPED:
                coll = "%s%s/%s" % (a.server, base, plural)
            else:
                coll = "%s%s/namespaces/%s/%s" % (a.server, base, ns or "default", plural)
            status, out = call("POST", coll, doc.encode())
            verb = "created"
            if status == 409:
                status, out = call("PUT", coll + "/" + name, doc.encode())
                verb = "replaced"
            if status >= 300:
                sys.stderr.write("kube_apply: %s %s/%s in %s: HTTP %d %s\n"
                                 % (kind, ns or "", name, path, status, out[:500]))
                return 1
            print("%s %s/%s %s" % (kind, ns or "-", name, verb))
    return 0


if __name__ == "__main__":
    sys.exit(main())
