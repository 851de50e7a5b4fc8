#!/usr/bin/env python3
"""moto server + a loopback access-key lookup -- TEST INFRASTRUCTURE ONLY.

Runs moto's own server entry point (`moto.server.main`, exactly what the `moto_server`
script runs, same arguments) and, in the same process, a small HTTP endpoint on
127.0.0.1:--keys-port that the STS gateway (sts_gateway.py) uses to verify SigV4
signatures of presigned STS URLs:

    GET /access-keys/<AccessKeyId>  ->  200 {"accessKeyId", "secretAccessKey",
        "sessionToken" (null for IAM user keys), "status" ("Active"/"Inactive"),
        "kind" ("iam-user" | "assumed-role"), "account", "expiration" (ISO, sessions)}
                                    ->  404 if moto has no such live key
    GET /healthz                    ->  200 ok

Why in-process: moto keeps secrets only in memory, and its `/moto-api/data.json` dump
fails with HTTP 500 as soon as an IAM user has been deleted (moto 5.2.5: the dump walks
every User ever created, and a deleted user's `group_list` raises NoSuchEntity). This
reads the live backends instead: IAM users' access keys and STS AssumeRole sessions,
in every account and partition moto has touched.

Usage: moto_with_keys.py --keys-port K -H 127.0.0.1 -p M   (other args go to moto)
"""
import datetime as dt
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from moto.iam.models import iam_backends
from moto.server import main as moto_main
from moto.sts.models import sts_backends


def _backends(backend_dict):
    for account in list(backend_dict.keys()):
        for backend in list(backend_dict[account].values()):
            yield account, backend


def lookup(access_key_id):
    for account, sts in _backends(sts_backends):
        for role in list(sts.assumed_roles):
            if role.access_key_id == access_key_id:
                return {"accessKeyId": access_key_id, "secretAccessKey": role.secret_access_key,
                        "sessionToken": role.session_token, "status": "Active", "kind": "assumed-role",
                        "account": role.account_id, "arn": role.arn,
                        "expiration": role.expiration.replace(tzinfo=dt.timezone.utc).isoformat()}
    for account, iam in _backends(iam_backends):
        for user in list(iam.users.values()):
            for key in list(user.access_keys):
                if key.access_key_id == access_key_id:
                    return {"accessKeyId": access_key_id, "secretAccessKey": key.secret_access_key,
                            "sessionToken": None, "status": key.status, "kind": "iam-user",
                            "account": account, "arn": user.arn, "expiration": None}
    return None


class KeysHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _send(self, status, doc):
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/healthz":
            return self._send(200, "ok")
        prefix = "/access-keys/"
        if not self.path.startswith(prefix):
            return self._send(404, {"error": "not found"})
        try:
            found = lookup(self.path[len(prefix):])
        except Exception as e:  # moto internals changed: say so
            return self._send(500, {"error": "lookup failed: %r" % e})
        return self._send(200, found) if found else self._send(404, {"error": "no such access key"})


def main():
    argv = sys.argv[1:]
    if "--keys-port" not in argv:
        sys.exit("usage: moto_with_keys.py --keys-port K [moto_server args]")
    i = argv.index("--keys-port")
    keys_port = int(argv[i + 1])
    moto_args = argv[:i] + argv[i + 2:]
    srv = ThreadingHTTPServer(("127.0.0.1", keys_port), KeysHandler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    sys.stderr.write("access-key lookup on http://127.0.0.1:%d/access-keys/<id>\n" % keys_port)
    sys.stderr.flush()
    moto_main(moto_args)


if __name__ == "__main__":
    main()
