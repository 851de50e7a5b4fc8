#!/usr/bin/env python3
"""EKS rewrite proxy -- TEST INFRASTRUCTURE ONLY, never part of the product.

The stack's EKS is ministack (clusters with their accessConfig, and the access-entry APIs;
moto's EKS has no access entries). ministack answers DescribeCluster, for a cluster without
its k3s backend (no Docker here), with a made-up endpoint and no usable CA. The integration
tests need the syncer to run its *production* code path (DescribeCluster ->
cluster.endpoint + cluster.certificateAuthority.data + accessConfig.authenticationMode ->
talk to the API server, or to the access-entry APIs), so the stack points the syncer's
`AWS_ENDPOINT_URL_EKS` at this small loopback proxy instead of at ministack directly.

Behaviour:
  * Every request is forwarded to the upstream (ministack) unchanged (method, path, query,
    headers, body), and its answer is returned unchanged, with one exception:
  * a 200 JSON answer to EKS DescribeCluster (GET /clusters/<name>) or CreateCluster
    (POST /clusters) gets `cluster.endpoint` replaced by the local kube-apiserver URL
    and `cluster.certificateAuthority.data` replaced by base64(PEM of the stack CA).
    With `--cluster NAME=URL` (repeatable; the stack's second cluster, AAS_CLUSTERS=2), the
    cluster NAME gets its own apiserver URL; every other name gets --kube-endpoint. All the
    stack's apiservers share its CA.
Listens on 127.0.0.1 only. Python standard library only.

Usage: eks_proxy.py --listen-port P --upstream-url http://127.0.0.1:M \
                    --kube-endpoint https://127.0.0.1:K --ca-file ca.crt \
                    [--cluster aas-local-2=https://127.0.0.1:K2]
"""
import argparse
import base64
import http.client
import json
import re
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
    "te", "trailers", "transfer-encoding", "upgrade",
}
CLUSTER_PATH = re.compile(r"^/clusters(/[^/?]+)?/?$")


class Config:
    moto_host = "127.0.0.1"
    moto_port = 0
    kube_endpoint = ""
    endpoints = {}  # cluster name -> apiserver URL (the others: kube_endpoint)
    ca_data = ""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "aas-eks-rewrite-proxy"

    def log_message(self, fmt, *args):  # one line per request on stderr (the log file)
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(), fmt % args))

    def _forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        conn = http.client.HTTPConnection(Config.moto_host, Config.moto_port, timeout=120)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            status, reason, resp_headers = resp.status, resp.reason, resp.getheaders()
        except Exception as exc:  # upstream down: say so plainly
            msg = json.dumps({"message": "eks proxy: upstream error: %s" % exc}).encode()
            self.send_response(502)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(msg)))
            self.end_headers()
            self.wfile.write(msg)
            return
        finally:
            conn.close()

        path = urllib.parse.urlsplit(self.path).path
        m = CLUSTER_PATH.match(path)
        rewrite = status == 200 and m is not None and (
            (self.command == "GET" and m.group(1)) or (self.command == "POST" and not m.group(1)))
        if rewrite:
            try:
                doc = json.loads(data)
                cluster = doc.get("cluster")
                if isinstance(cluster, dict):
                    cluster["endpoint"] = Config.endpoints.get(cluster.get("name"), Config.kube_endpoint)
                    cluster["certificateAuthority"] = {"data": Config.ca_data}
                    data = json.dumps(doc).encode()
            except ValueError:
                pass  # not JSON: pass through unchanged

        self.send_response(status, reason)
        for k, v in resp_headers:
            if k.lower() in HOP_BY_HOP or k.lower() == "content-length":
                continue
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _forward


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--listen-port", type=int, required=True)
    ap.add_argument("--upstream-url", required=True, help="the EKS emulator (ministack)")
    ap.add_argument("--kube-endpoint", required=True)
    ap.add_argument("--ca-file", required=True)
    ap.add_argument("--cluster", action="append", default=[], metavar="NAME=URL",
                    help="an EKS cluster name served by another apiserver (repeatable)")
    a = ap.parse_args()
    for item in a.cluster:
        name, sep, url = item.partition("=")
        if not sep or not name or not url.startswith("https://"):
            ap.error("--cluster takes NAME=https://HOST:PORT, not %r" % item)
        Config.endpoints[name] = url
    u = urllib.parse.urlsplit(a.upstream_url)
    Config.moto_host, Config.moto_port = u.hostname, u.port or 80
    Config.kube_endpoint = a.kube_endpoint
    with open(a.ca_file, "rb") as f:
        Config.ca_data = base64.b64encode(f.read()).decode()
    srv = ThreadingHTTPServer(("127.0.0.1", a.listen_port), Handler)
    srv.daemon_threads = True
    sys.stderr.write("eks proxy on http://127.0.0.1:%d -> %s (apiserver %s)\n"
                     % (a.listen_port, a.upstream_url, a.kube_endpoint))
    sys.stderr.flush()
    srv.serve_forever()


if __name__ == "__main__":
    main()
