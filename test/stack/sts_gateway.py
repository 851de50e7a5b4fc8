#!/usr/bin/env python3
"""STS gateway -- TEST INFRASTRUCTURE ONLY, never part of the product.

aws-iam-authenticator verifies an EKS token by calling the presigned STS URL inside it
itself, and accepts only real STS host names (`sts.<region>.amazonaws.com`, no port,
HTTPS) answering JSON. moto can't be that endpoint: it does not read credentials from a
presigned query, does not check signatures, and speaks XML. This process stands in
for the STS host, for the authenticator process only (its HTTPS_PROXY points here and
its SSL_CERT_FILE is the stack CA). It needs no /etc/hosts edits.

1. HTTP proxy on 127.0.0.1 that accepts only `CONNECT <sts host>:443` for the hosts in
   --hosts (the SANs of --cert, a cert for those names signed by the stack CA). It
   terminates TLS itself and serves the STS request that comes through the tunnel.
   Any other CONNECT target, and every plain proxy request, gets 403.
   `GET /healthz` on the proxy port answers `ok` (for stack.sh).
2. STS `GET /?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-...` (SigV4 query
   auth), checked the way STS does it:
   - Host header = the CONNECT host; credential scope `<key>/<date>/<host's region>/sts/aws4_request`.
   - Time window: X-Amz-Date no more than 15 min in the past (or future): what real STS
     enforces for presigned GetCallerIdentity URLs, which ignore X-Amz-Expires (see
     aws/aws-sdk-go#2167, kubernetes-sigs/aws-iam-authenticator#258 and the comment in
     the authenticator's token.go). With --enforce-x-amz-expires the gateway also
     refuses X-Amz-Date + X-Amz-Expires < now (stricter than STS).
   - The access key must exist in moto now: an IAM user's access key (status Active; no
     X-Amz-Security-Token) or an AssumeRole session key (X-Amz-Security-Token must be that
     session's token; the session must not have expired: 403 ExpiredToken). Secrets come
     from moto's live state through moto_with_keys.py's loopback lookup (--keys-url), so:
   - SigV4 signature verification over the request as received: GET, `/`, every query
     parameter but X-Amz-Signature, the signed headers (`host;x-k8s-aws-id` for EKS
     tokens; the authenticator sends `x-k8s-aws-id: <its cluster id>`, so a token signed
     for another cluster fails here, as it does at real STS), payload = SHA-256 of "".
   - Then moto's own STS GetCallerIdentity, signed (botocore) with that key (+ session
     token), says who the caller is; moto's fallback identity for keys it doesn't know
     (`user/moto`) is treated as unknown.
   Answer: 200 JSON exactly as STS gives it with `Accept: application/json`
     {"GetCallerIdentityResponse":{"GetCallerIdentityResult":{"Account","Arn","UserId"},
      "ResponseMetadata":{"RequestId"}}}
   (XML if the client did not ask for JSON). Errors are STS-style
     {"Error":{"Code","Message","Type":"Sender"},"RequestId"} with 403
   (SignatureDoesNotMatch, InvalidClientTokenId, MissingAuthenticationToken) or 400.
   NOT checked: IAM policies/SCPs (GetCallerIdentity needs no permission anyway),
   GetSessionToken/federation-token credentials (moto keeps no secret for them: 403).

Runs with the moto venv's python (botocore). Logs one line per request (access key id,
outcome; never secrets or signatures) on stderr.

Usage: sts_gateway.py --listen-port P --moto-url http://127.0.0.1:M --keys-url http://127.0.0.1:K
                      --cert sts.crt --key sts.key
                      --hosts sts.us-east-1.amazonaws.com,... [--enforce-x-amz-expires]
"""
import argparse
import datetime as dt
import hashlib
import hmac
import json
import re
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

# Talks to moto on 127.0.0.1 only: never through a proxy from the environment.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
WINDOW = dt.timedelta(minutes=15)
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
STS_HOST = re.compile(r"^sts(?:\.([a-z0-9-]+))?\.amazonaws\.com$")
# moto's GetCallerIdentity answer for an access key it does not know.
MOTO_FALLBACK_USER_ID = "AKIAIOSFODNN7EXAMPLE"


class Cfg:
    moto_url = ""
    keys_url = ""
    hosts = set()
    tls = None
    enforce_x_amz_expires = False


def log(msg):
    sys.stderr.write("%s %s\n" % (dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), msg))
    sys.stderr.flush()


def host_region(host):
    m = STS_HOST.match(host)
    return (m.group(1) or "us-east-1") if m else None


class StsError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def uri_encode(s):
    return urllib.parse.quote(s, safe="-_.~")


def amz_time(t):
    return t.strftime("%Y%m%dT%H%M%SZ")


# ---- moto -------------------------------------------------------------------------
def moto_key(access_key_id):
    """moto's live record of an access key (moto_with_keys.py), or None."""
    try:
        with OPENER.open("%s/access-keys/%s" % (Cfg.keys_url, urllib.parse.quote(access_key_id, safe="")),
                                    timeout=30) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise


def moto_caller_identity(region, access_key_id, secret, session_token):
    body = "Action=GetCallerIdentity&Version=2011-06-15"
    req = AWSRequest(method="POST", url=Cfg.moto_url + "/", data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(access_key_id, secret, session_token or None), "sts", region).add_auth(req)
    http_req = urllib.request.Request(req.url, data=body.encode(), method="POST", headers=dict(req.headers.items()))
    with OPENER.open(http_req, timeout=30) as r:
        root = ET.fromstring(r.read())
    vals = {}
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag in ("Arn", "UserId", "Account"):
            vals[tag] = (el.text or "").strip()
    return vals


# ---- the STS request ---------------------------------------------------------------
def parse_query(raw):
    pairs = []
    for part in raw.split("&"):
        if not part:
            continue
        k, _, v = part.partition("=")
        pairs.append((urllib.parse.unquote(k), urllib.parse.unquote(v)))
    return pairs


def check_and_identify(connect_host, host_header, raw_query, headers):
    """Returns (access_key_id, identity dict) or raises StsError."""
    pairs = parse_query(raw_query)
    q = {}
    for k, v in pairs:
        if k in q:
            raise StsError(400, "InvalidParameterValue", "Duplicate query parameter %s" % k)
        q[k] = v
    if q.get("Action") != "GetCallerIdentity":
        raise StsError(400, "InvalidAction", "Could not find operation %s for version %s"
                       % (q.get("Action"), q.get("Version")))
    if q.get("Version") != "2011-06-15":
        raise StsError(400, "InvalidAction", "Could not find operation GetCallerIdentity for version %s" % q.get("Version"))
    auth_keys = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature")
    if not any(k in q for k in auth_keys):
        raise StsError(403, "MissingAuthenticationToken", "Request is missing Authentication Token")
    missing = [k for k in auth_keys if not q.get(k)]
    if missing:
        raise StsError(400, "IncompleteSignature", "Missing %s" % ", ".join(missing))
    if q["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256":
        raise StsError(400, "IncompleteSignature", "Unsupported AWS 'algorithm': '%s'" % q["X-Amz-Algorithm"])

    host = (host_header or "").strip().lower()
    if host != connect_host:
        raise StsError(400, "InvalidRequest", "Host header %r is not the tunnel's host %r" % (host, connect_host))
    region = host_region(host)

    cred = q["X-Amz-Credential"].split("/")
    if len(cred) != 5 or cred[4] != "aws4_request" or cred[3] != "sts":
        raise StsError(400, "IncompleteSignature", "Credential must have exactly 5 slash-delimited elements, "
                       "e.g. keyid/date/region/service/term, got '%s'" % "/".join(cred[1:]))
    access_key_id, scope_date, scope_region = cred[0], cred[1], cred[2]
    if scope_region != region:
        raise StsError(403, "SignatureDoesNotMatch",
                       "Credential should be scoped to a valid region, not '%s'." % scope_region)

    try:
        t = dt.datetime.strptime(q["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        raise StsError(400, "IncompleteSignature", "X-Amz-Date %r is not YYYYMMDDTHHMMSSZ" % q["X-Amz-Date"])
    if scope_date != q["X-Amz-Date"][:8]:
        raise StsError(403, "SignatureDoesNotMatch", "Credential should be scoped to a valid date")
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    if t < now - WINDOW:
        raise StsError(403, "SignatureDoesNotMatch", "Signature expired: %s is now earlier than %s (%s - 15 min.)"
                       % (amz_time(t), amz_time(now - WINDOW), amz_time(now)))
    if t > now + WINDOW:
        raise StsError(403, "SignatureDoesNotMatch", "Signature not yet current: %s is still later than %s (%s + 15 min.)"
                       % (amz_time(t), amz_time(now + WINDOW), amz_time(now)))
    try:
        expires = int(q.get("X-Amz-Expires", "0"))
    except ValueError:
        raise StsError(400, "IncompleteSignature", "X-Amz-Expires must be an integer")
    if Cfg.enforce_x_amz_expires and "X-Amz-Expires" in q and t + dt.timedelta(seconds=expires) < now:
        raise StsError(403, "AccessDenied", "Request has expired (X-Amz-Date %s + X-Amz-Expires %d s < now %s)"
                       % (amz_time(t), expires, amz_time(now)))

    invalid = StsError(403, "InvalidClientTokenId", "The security token included in the request is invalid.")
    found = moto_key(access_key_id)
    if found is None or found.get("status") != "Active":
        raise invalid
    secret, session_token = found["secretAccessKey"], found.get("sessionToken")
    if session_token is not None:
        if q.get("X-Amz-Security-Token") != session_token:
            raise invalid
        if found.get("expiration") and dt.datetime.fromisoformat(found["expiration"]) < now:
            raise StsError(403, "ExpiredToken", "The security token included in the request is expired")
    elif "X-Amz-Security-Token" in q:
        raise invalid

    # SigV4 over the request as received.
    signed = q["X-Amz-SignedHeaders"].split(";")
    if "host" not in signed:
        raise StsError(403, "SignatureDoesNotMatch", "'Host' must be a 'SignedHeader' in the AWS Authorization.")
    canon_headers = ""
    for h in signed:
        val = host if h == "host" else headers.get(h)
        if val is None:
            raise StsError(403, "SignatureDoesNotMatch", "The request signature we calculated does not match "
                           "the signature you provided (signed header %r not sent)." % h)
        canon_headers += "%s:%s\n" % (h, " ".join(val.strip().split()))
    canon_query = "&".join("%s=%s" % (uri_encode(k), uri_encode(v))
                           for k, v in sorted(pairs) if k != "X-Amz-Signature")
    canonical = "\n".join(["GET", "/", canon_query, canon_headers, ";".join(signed), EMPTY_SHA256])
    scope = "/".join(cred[1:])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", q["X-Amz-Date"], scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (scope_date, scope_region, "sts", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    want = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, q["X-Amz-Signature"].lower()):
        raise StsError(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the "
                       "signature you provided. Check your AWS Secret Access Key and signing method. "
                       "Consult the service documentation for details.")

    ident = moto_caller_identity(region, access_key_id, secret, session_token)
    if not ident.get("Arn") or ident.get("UserId") == MOTO_FALLBACK_USER_ID or ident["Arn"].endswith(":user/moto"):
        raise StsError(403, "InvalidClientTokenId", "The security token included in the request is invalid.")
    return access_key_id, ident


class StsHandler(BaseHTTPRequestHandler):
    """HTTP inside the TLS tunnel (one instance per tunnel; keep-alive)."""
    protocol_version = "HTTP/1.1"
    server_version = "aas-sts-gateway"
    timeout = 120
    connect_host = ""

    def log_message(self, fmt, *args):
        pass  # own log lines below

    def _send(self, status, body, ctype, request_id):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("x-amzn-RequestId", request_id)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        request_id = str(uuid.uuid4())
        want_json = "json" in (self.headers.get("Accept") or "").lower()
        path, _, raw_query = self.path.partition("?")
        akid = "-"
        try:
            if path != "/":
                raise StsError(404, "NotFound", "unexpected path %r" % path)
            m = re.search(r"(?:^|&)X-Amz-Credential=([^&/%]*)", raw_query)
            akid = m.group(1) if m else "-"
            hdrs = {k.lower(): v for k, v in self.headers.items()}
            akid, ident = check_and_identify(self.connect_host, self.headers.get("Host"), raw_query, hdrs)
        except StsError as e:
            log("%s key=%s -> %d %s: %s" % (self.connect_host, akid, e.status, e.code, e.message))
            if want_json:
                body = json.dumps({"Error": {"Code": e.code, "Message": e.message, "Type": "Sender"},
                                   "RequestId": request_id})
                self._send(e.status, body, "application/json", request_id)
            else:
                body = ('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
                        "<Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>"
                        % (e.code, xml_escape(e.message), request_id))
                self._send(e.status, body, "text/xml", request_id)
            return
        except Exception as e:  # moto unreachable etc.
            log("%s key=%s -> 500 InternalFailure: %r" % (self.connect_host, akid, e))
            self._send(500, json.dumps({"Error": {"Code": "InternalFailure", "Message": "sts gateway: %s" % e,
                                                  "Type": "Receiver"}, "RequestId": request_id}),
                       "application/json", request_id)
            return
        log("%s key=%s -> 200 %s" % (self.connect_host, akid, ident["Arn"]))
        if want_json:
            body = json.dumps({"GetCallerIdentityResponse": {
                "GetCallerIdentityResult": {"Account": ident["Account"], "Arn": ident["Arn"], "UserId": ident["UserId"]},
                "ResponseMetadata": {"RequestId": request_id}}})
            self._send(200, body, "application/json", request_id)
        else:
            body = ('<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
                    "<GetCallerIdentityResult><Arn>%s</Arn><UserId>%s</UserId><Account>%s</Account>"
                    "</GetCallerIdentityResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata>"
                    "</GetCallerIdentityResponse>"
                    % (xml_escape(ident["Arn"]), xml_escape(ident["UserId"]), ident["Account"], request_id))
            self._send(200, body, "text/xml", request_id)

    def _unsupported(self):
        self._send(405, json.dumps({"Error": {"Code": "MethodNotAllowed", "Type": "Sender",
                                              "Message": "sts gateway serves GET GetCallerIdentity only"}}),
                   "application/json", str(uuid.uuid4()))

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _unsupported


def xml_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "aas-sts-gateway"
    timeout = 30

    def log_message(self, fmt, *args):
        pass

    def _refuse(self, status, msg):
        data = (msg + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def do_CONNECT(self):
        host, _, port = self.path.rpartition(":")
        host = host.lower()
        if port != "443" or host not in Cfg.hosts:
            log("CONNECT %s refused" % self.path)
            self._refuse(403, "sts gateway: CONNECT only to %s on port 443" % ", ".join(sorted(Cfg.hosts)))
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.settimeout(30)
            tls = Cfg.tls.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError) as e:
            log("CONNECT %s: TLS handshake failed: %s" % (self.path, e))
            return
        handler = type("Sts", (StsHandler,), {"connect_host": host})
        try:
            handler(tls, self.client_address, self.server)
        except (ssl.SSLError, OSError, ConnectionError):
            pass
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def do_GET(self):
        if self.path == "/healthz":
            data = b"ok"
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(data)
            return
        self._refuse(403, "sts gateway: only CONNECT to STS hosts (and GET /healthz)")

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--listen-port", type=int, required=True)
    ap.add_argument("--moto-url", required=True)
    ap.add_argument("--keys-url", required=True, help="moto_with_keys.py's access-key lookup")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--hosts", required=True, help="comma-separated STS host names (the cert's SANs)")
    ap.add_argument("--enforce-x-amz-expires", action="store_true")
    a = ap.parse_args()
    Cfg.moto_url = a.moto_url.rstrip("/")
    Cfg.keys_url = a.keys_url.rstrip("/")
    Cfg.hosts = {h.strip().lower() for h in a.hosts.split(",") if h.strip()}
    bad = [h for h in Cfg.hosts if not host_region(h)]
    if bad:
        ap.error("not STS host names: %s" % bad)
    Cfg.enforce_x_amz_expires = a.enforce_x_amz_expires
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(a.cert, a.key)
    ctx.set_alpn_protocols(["http/1.1"])
    Cfg.tls = ctx
    srv = ThreadingHTTPServer(("127.0.0.1", a.listen_port), ProxyHandler)
    srv.daemon_threads = True
    log("sts gateway: proxy on http://127.0.0.1:%d, CONNECT allowed to %s, moto %s, expiry: %s"
        % (a.listen_port, ",".join(sorted(Cfg.hosts)), Cfg.moto_url,
           "15 min from X-Amz-Date + X-Amz-Expires" if a.enforce_x_amz_expires else "15 min from X-Amz-Date (as STS)"))
    srv.serve_forever()


if __name__ == "__main__":
    main()
