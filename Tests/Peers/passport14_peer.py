#!/usr/bin/env python3
"""Passport 1.4 ("Tweener") nexus + DA test peer, HTTPS on loopback.

Written only from [MS-PASS] (Passport Server Side Include (SSI) Version 1.4
Protocol) and /work/shared/docs/protocol.md section 3a -- NOT from the client's
code -- so that the client is tested against an independent reading of the spec.

Listeners (all TLS, one certificate issued by a CA made here with the openssl CLI):
  nexus    127.0.0.1  GET /rdr/pprdr.asp -> PassportURLs (DALogin without a scheme)
  da1      127.0.0.1  GET /login2.srf    -> the dialect under test
  da2      127.0.0.2  GET /login2.srf    -> the "second DA" (loginnet.passport.com)
  offsite  127.0.0.3  GET /login2.srf    -> a host that must never see a password

Dialects (--dialect), i.e. how the DA answers a correct password:
  msn2003          da-status=success,tname=...,from-PP='t=T&p=P',ru=...
                   (MS-PASS 2.2.11; real MSN 2003 captures, msnp wiki)
  bare-token       from-PP='T', no t=/p=, no profile (Messenger revival servers)
  t-only           from-PP='t=T', no p= (seen in the wild, protocol.md 3a)
  reordered        from-PP='p=P&t=T' before da-status, header name in lower case
                   (field order and header case are not significant in HTTP)
  dastatus         'dastatus=' spelling, also in the 401 (one msnp-wiki revision)
  redirect         DA1's first request: 302 da-status=redir, Location DA2?lc=1033;
                   DA2 answers msn2003 (MS-PASS 2.2.5; login -> loginnet redirect)
  offsite-redirect DA1: 302 da-status=redir to the offsite host (hostile/misconfigured)
  plain-redirect   DA1: 302 to http:// DA2 with no Authentication-Info (downgrade)
  unreadable       200 da-status=success with no from-PP (no client can read it)
A wrong password always gets 401 WWW-Authenticate: Passport1.4 da-status=failed,...
(MS-PASS 2.2.2) with the pp25 meta-refresh body.

Faults (--fault, repeatable): 5xx-once (first DA request: 503, Retry-After: 1),
cbtxt-control (cbtxt carries ESC/BEL/CRLF).

Stdout gets exactly one JSON "ready" line. Every request is appended to
DIR/requests.jsonl. Passwords and tickets are never written anywhere.
"""
import argparse
import hashlib
import http.server
import json
import os
import signal
import socket
import socketserver
import ssl
import string
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse

DIALECTS = ["msn2003", "bare-token", "t-only", "reordered", "dastatus", "redirect",
            "offsite-redirect", "plain-redirect", "unreadable"]
FAULTS = ["5xx-once", "cbtxt-control"]
REDIRECTING = {"redirect", "offsite-redirect", "plain-redirect"}
DEFAULT_ACCOUNTS = [{"member": "member@peer.test", "password": "peer-pass,with comma&amp"}]
TOKEN_ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits + "!*"  # 64
CBTXT_NORMAL = "The%20e-mail%20address%20or%20password%20is%20incorrect"
CBTXT_CONTROL = "Bad%1B%5B31mpassword%07%0D%0Aforged"
FAILED_BODY = (b'<HTML><HEAD><META HTTP-EQUIV="REFRESH" CONTENT="0; '
               b'URL=https://login.passport.com/pp25/login2.srf?f=11"></HEAD></HTML>')
SUCCESS_BODY = b"<HTML><HEAD><TITLE>Passport</TITLE></HEAD><BODY>Signed in.</BODY></HTML>"
REDIRECT_BODY = b"<HTML><HEAD><TITLE>Object moved</TITLE></HEAD><BODY>Object moved.</BODY></HTML>"
SIMPLE_BODY = b"<HTML><BODY>%d</BODY></HTML>"

OPENSSL_CNF = """\
[req]
distinguished_name = dn
[dn]
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:127.0.0.2,IP:127.0.0.3
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
"""


class StartupError(Exception):
    pass


def openssl(state_dir, *args):
    result = subprocess.run(["openssl", *args], cwd=state_dir, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise StartupError("openssl %s failed: %s" % (args[0], result.stderr.strip()[-500:]))


def make_certificates(state_dir):
    """CA (CA:TRUE, keyCertSign) + server cert (CA:FALSE, SAN localhost/127.0.0.1-3), EC P-256."""
    with open(os.path.join(state_dir, "openssl.cnf"), "w") as f:
        f.write(OPENSSL_CNF)
    for key in ("ca.key", "server.key"):
        openssl(state_dir, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
    openssl(state_dir, "req", "-x509", "-new", "-key", "ca.key", "-sha256", "-days", "30",
            "-subj", "/CN=passport14-peer test CA", "-config", "openssl.cnf",
            "-extensions", "ca_ext", "-out", "ca.pem")
    openssl(state_dir, "req", "-new", "-key", "server.key", "-sha256", "-subj", "/CN=localhost",
            "-config", "openssl.cnf", "-out", "server.csr")
    openssl(state_dir, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-set_serial", "0x" + os.urandom(8).hex(), "-days", "30", "-sha256",
            "-extfile", "openssl.cnf", "-extensions", "server_ext", "-out", "server.pem")
    os.chmod(os.path.join(state_dir, "ca.pem"), 0o644)


def compact_token(kind, member, counter, length):
    """A deterministic "compact" Passport-looking token: [A-Za-z0-9!*]... ending in $$."""
    chars, block = [], 0
    while len(chars) < length - 2:
        digest = hashlib.sha256(("%s|%s|%d|%d" % (kind, member, counter, block)).encode()).digest()
        chars.extend(TOKEN_ALPHABET[b & 63] for b in digest)
        block += 1
    return "".join(chars[:length - 2]) + "$$"


def parse_authorization(value):
    """MS-PASS 2.2.7: '<scheme> k=v,k=v,...'. Returns (scheme, {lower-case key: raw value})."""
    scheme, _, rest = value.strip().partition(" ")
    fields = {}
    for part in rest.split(","):
        key, _, val = part.partition("=")
        key = key.strip().lower()
        if key and key not in fields:
            fields[key] = val.strip()
    return scheme, fields


def load_accounts(path):
    if path is None:
        entries = DEFAULT_ACCOUNTS
    else:
        try:
            with open(path, encoding="utf-8") as f:
                entries = json.load(f)
        except (OSError, ValueError) as e:
            raise StartupError("cannot read --accounts file: %s" % type(e).__name__)
        if not isinstance(entries, list):
            raise StartupError("--accounts file must hold a JSON list")
    accounts = {}
    for i, entry in enumerate(entries):
        length = entry.get("ticket_length", 40) if isinstance(entry, dict) else None
        if (not isinstance(entry, dict) or not isinstance(entry.get("member"), str)
                or not isinstance(entry.get("password"), str)
                or not isinstance(length, int) or isinstance(length, bool) or length < 3):
            raise StartupError("--accounts entry %d needs member, password (strings) and "
                               "ticket_length (int >= 3, optional)" % i)
        accounts[entry["member"].casefold()] = {"member": entry["member"],
                                                "password": entry["password"],
                                                "ticket_length": length, "logins": 0}
    return accounts


class Peer:
    """Shared state and the protocol decisions; listeners only move bytes."""

    def __init__(self, dialect, faults, accounts, log_path):
        self.dialect, self.faults, self.accounts = dialect, set(faults), accounts
        self.lock = threading.Lock()
        self.da_requests = 0
        self.redirected = False
        self.urls = {}  # listener name -> (host, port)
        self.log_file = open(log_path, "a", encoding="utf-8")

    def log(self, record):
        line = json.dumps(record, separators=(",", ":")) + "\n"
        with self.lock:
            if not self.log_file.closed:  # a straggler thread during shutdown
                self.log_file.write(line)
                self.log_file.flush()

    def da_url(self, name, scheme="https"):
        host, port = self.urls[name]
        return "%s://%s:%d/login2.srf" % (scheme, host, port)

    def answer(self, listener, method, path, auth):
        """Returns (status, [(header, value)], body)."""
        if listener == "nexus":
            if path != "/rdr/pprdr.asp":
                return 404, [], SIMPLE_BODY % 404
            if method not in ("GET", "HEAD"):
                return 405, [("Allow", "GET")], SIMPLE_BODY % 405
            host, port = self.urls["da1"]
            urls = ("DARealm=Passport.Net,DALogin=%s:%d/login2.srf,"
                    "DAReg=http://register.passport.invalid/uixpwiz.srf,"
                    "Properties=https://register.passport.invalid/editprof.srf,"
                    "Privacy=http://www.passport.invalid/consumer/privacypolicy.asp,"
                    "GeneralRedir=http://nexusrdr.passport.invalid/redir.asp,"
                    "Help=http://memberservices.passport.invalid/memberservice.srf,"
                    "ConfigVersion=15" % (host, port))
            return 200, [("PassportURLs", urls)], b""
        if path != "/login2.srf":
            return 404, [], SIMPLE_BODY % 404
        if method not in ("GET", "HEAD"):
            return 405, [("Allow", "GET")], SIMPLE_BODY % 405
        with self.lock:
            self.da_requests += 1
            first_da_request = self.da_requests == 1
            first_redirect = listener == "da1" and self.dialect == "redirect" and not self.redirected
            if first_redirect:
                self.redirected = True
        if first_da_request and "5xx-once" in self.faults:
            return 503, [("Retry-After", "1")], SIMPLE_BODY % 503
        redir = [("Authentication-Info", "Passport1.4 da-status=redir")]
        if first_redirect:
            return 302, redir + [("Location", self.da_url("da2") + "?lc=1033")], REDIRECT_BODY
        if listener == "da1" and self.dialect == "offsite-redirect":
            return 302, redir + [("Location", self.da_url("offsite") + "?lc=1033")], REDIRECT_BODY
        if listener == "da1" and self.dialect == "plain-redirect":
            return 302, [("Location", self.da_url("da2", "http"))], REDIRECT_BODY
        style = "msn2003"
        if listener in ("da1", "da2") and self.dialect not in REDIRECTING:
            style = self.dialect
        return self.sign_in(style, auth)

    def sign_in(self, style, auth):
        status_key = "dastatus" if style == "dastatus" else "da-status"
        account = None
        if auth is not None and auth[0].lower() == "passport1.4":
            fields = auth[1]
            if "sign-in" in fields and "pwd" in fields:
                member = urllib.parse.unquote(fields["sign-in"], errors="replace")
                candidate = self.accounts.get(member.casefold())
                if candidate and urllib.parse.unquote(fields["pwd"], errors="replace") == candidate["password"]:
                    account = candidate
        if account is None:
            cbtxt = CBTXT_CONTROL if "cbtxt-control" in self.faults else CBTXT_NORMAL
            value = ("Passport1.4 %s=failed,srealm=Passport.NET,ts=-1,prompt,"
                     "cburl=https://example.invalid/cb.gif,cbtxt=%s" % (status_key, cbtxt))
            return 401, [("WWW-Authenticate", value)], FAILED_BODY
        with self.lock:
            account["logins"] += 1
            counter = account["logins"]
        ticket = compact_token("t", account["member"], counter, account["ticket_length"])
        profile = compact_token("p", account["member"], counter, 60)
        tnames = "tname=MSPAuth,tname=MSPProf,tname=MSPSec"
        ru = "ru=http://messenger.msn.com"
        name = "Authentication-Info"
        if style == "bare-token":
            value = "da-status=success,from-PP='%s'" % ticket
        elif style == "t-only":
            value = "da-status=success,%s,from-PP='t=%s',%s" % (tnames, ticket, ru)
        elif style == "reordered":
            name = "authentication-info"
            value = "from-PP='p=%s&t=%s',%s,da-status=success,%s" % (profile, ticket, ru, tnames)
        elif style == "unreadable":
            value = "da-status=success"
        else:  # msn2003, dastatus
            value = "%s=success,%s,from-PP='t=%s&p=%s',%s" % (status_key, tnames, ticket, profile, ru)
        return 200, [(name, "Passport1.4 " + value)], SUCCESS_BODY


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30

    def version_string(self):
        return "Microsoft-IIS/6.0"

    def setup(self):
        # TLS is set up here, in the connection's own thread, so a slow client never
        # blocks accept(). A first byte other than a TLS handshake record (0x16) means
        # plain HTTP (a client that followed an http:// Location): serve and log it too.
        raw = self.request
        raw.settimeout(self.timeout)
        self.tls = raw.recv(1, socket.MSG_PEEK) == b"\x16"
        if self.tls:
            self.request = self.server.peer.tls.wrap_socket(raw, server_side=True)
        super().setup()

    def finish(self):
        try:
            super().finish()
        finally:
            if self.tls:
                self.request.close()

    def log_message(self, format, *args):
        pass  # the JSON log is the only record; never echo requests to stderr

    def drain_body(self):
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length > 1 << 20:
            self.close_connection = True
        elif length > 0:
            self.rfile.read(length)

    def dispatch(self):
        self.drain_body()
        path = urllib.parse.urlsplit(self.path).path
        values = self.headers.get_all("Authorization") or []
        parsed = [parse_authorization(v) for v in values]
        auth = parsed[0] if parsed else None
        member = None
        if auth and "sign-in" in auth[1]:
            member = urllib.parse.unquote(auth[1]["sign-in"], errors="replace")
        peer, server = self.server.peer, self.server
        status, headers, body = peer.answer(server.listener, self.command, path, auth)
        # Log before answering, so the line exists by the time the client sees the reply.
        peer.log({"listener": server.listener, "host": server.server_address[0],
                  "port": server.server_address[1], "method": self.command, "path": path,
                  "has_password": any("pwd" in fields for _, fields in parsed),
                  "member": member, "status": status})
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_OPTIONS = dispatch


class Listener(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, listener, host, peer):
        self.listener, self.peer = listener, peer
        super().__init__((host, 0), Handler)

    def handle_error(self, request, client_address):
        error = sys.exc_info()[1]
        if isinstance(error, (OSError, EOFError)):  # resets, timeouts, TLS failures
            return
        # Type and stack only: an exception message could quote request data.
        sys.stderr.write("passport14_peer: %s: internal error %s\n%s" % (
            self.listener, type(error).__name__, "".join(traceback.format_tb(error.__traceback__))))
        sys.stderr.flush()


def main():
    parser = argparse.ArgumentParser(description="Passport 1.4 nexus + DA test peer")
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--dialect", required=True, choices=DIALECTS)
    parser.add_argument("--accounts")
    parser.add_argument("--fault", action="append", default=[], choices=FAULTS)
    parser.add_argument("--da-hosts", default="127.0.0.1,127.0.0.2,127.0.0.3",
                        help="DA1,DA2,offsite bind addresses")
    parser.add_argument("--max-seconds", type=float, default=600.0)
    args = parser.parse_args()

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    deadline = time.monotonic() + args.max_seconds
    state_dir = os.path.abspath(args.state_dir)
    servers = []
    try:
        da_hosts = [h.strip() for h in args.da_hosts.split(",")]
        if len(da_hosts) != 3 or not all(da_hosts):
            raise StartupError("--da-hosts needs exactly three addresses: DA1,DA2,offsite")
        accounts = load_accounts(args.accounts)
        os.makedirs(state_dir, exist_ok=True)
        os.chmod(state_dir, 0o700)
        old_umask = os.umask(0o077)
        try:
            make_certificates(state_dir)
        finally:
            os.umask(old_umask)
        peer = Peer(args.dialect, args.fault, accounts, os.path.join(state_dir, "requests.jsonl"))
        peer.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        peer.tls.load_cert_chain(os.path.join(state_dir, "server.pem"),
                                 os.path.join(state_dir, "server.key"))
        peer.tls.set_alpn_protocols(["http/1.1"])
        for name, host in zip(("nexus", "da1", "da2", "offsite"), ["127.0.0.1"] + da_hosts):
            try:
                servers.append(Listener(name, host, peer))
            except OSError as e:
                raise StartupError("cannot listen on %s for %s (%s); on macOS add the loopback "
                                   "alias (sudo ifconfig lo0 alias %s up) or pass --da-hosts"
                                   % (host, name, e.strerror, host))
            peer.urls[name] = servers[-1].server_address[:2]
    except StartupError as e:
        sys.stderr.write("passport14_peer: %s\n" % e)
        print(json.dumps({"ready": False, "error": str(e)}, separators=(",", ":")), flush=True)
        for server in servers:
            server.server_close()
        return 2

    for server in servers:
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                         daemon=True).start()
    nexus_host, nexus_port = peer.urls["nexus"]
    ready = {"ready": True, "ca_file": os.path.join(state_dir, "ca.pem"),
             "nexus_url": "https://%s:%d/rdr/pprdr.asp" % (nexus_host, nexus_port),
             "da1": peer.da_url("da1"), "da2": peer.da_url("da2"),
             "offsite": peer.da_url("offsite"), "log": os.path.join(state_dir, "requests.jsonl")}
    print(json.dumps(ready, separators=(",", ":")), flush=True)

    while not stop.is_set() and time.monotonic() < deadline:
        stop.wait(0.2)
    if not stop.is_set():
        sys.stderr.write("passport14_peer: --max-seconds reached, exiting\n")
    # Serving threads are daemons: closing the log and returning ends them with the
    # process, at once, whatever keep-alive connections are still open.
    with peer.lock:
        peer.log_file.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
