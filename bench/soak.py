#!/usr/bin/env python3
"""Soak test: mixed good, hostile and unauthorised traffic through mediate for a bounded
time while a chaos thread keeps killing and restarting one of two backends.

What it starts (loopback only, 127.0.0.1, ports picked free):

- two sample backends (`stockquote-server`, plain HTTP);
- `mediate serve` with one https receiver (`SSLVerifyClient require`, `MaxMessageSize`
  1 MiB) and four proxies:
    FailoverProxy  pass-through to a failover endpoint over both backends,
    RoutingProxy   content-based routing (`filter` on //m0:symbol): IBM… goes to the
                   failover endpoint, anything else is dropped (202),
    TransformProxy a payloadFactory rebuilding the request, then the failover endpoint,
    LBProxy        round-robin load balancing over both backends;
  every backend endpoint suspends on failure for a short time (0.5 s, doubling, at most
  2 s), so suspension and recovery happen many times a minute.

What it sends, from `--threads` client threads (Python `ssl` + `http.client`; a mix of
kept-alive and new connections):

- good requests to each proxy, each with its own symbol: the answer must be 200 with a
  getQuoteResponse for exactly that symbol (the routing proxy's "else" branch: 202);
- hostile XML with the answers tests/hostile_xml.rs expects: a DTD with an external entity
  and billion laughs (500, soapenv:Client, "DTD is not allowed"), 10,000 nested elements
  (500 Client, "depth"), malformed XML (500 Client, "malformed") and a body above
  MaxMessageSize (413, "larger than the limit");
- wrong certificates, as tests/tls_client_auth.rs expects for `require`: none, one from an
  untrusted CA (a second `mediate certs init`) and an expired one (openssl, from the
  trusted CA): the TLS handshake must be refused, no HTTP answer at all.

Meanwhile a chaos thread stops one backend (SIGTERM by pid), restarts it on the same port a
few seconds later, waits, then does the same to the other one: one backend is always up,
so every good request must get its 200. Another thread samples mediate's VmRSS.

It fails (exit 1) on any wrong answer (unexpected status, missing content, a connection
error or a hang past `--timeout` for a good request, an HTTP answer to a bad certificate),
if mediate died, stops serving at the end, logged a panic, or if its RSS grew: the median
of the last window must stay within `--rss-slack-mb` of the first window after warm-up.
Warm-up (by default a quarter of the run, at most two minutes) lets bounded caches fill:
the TLS session cache keeps up to 4,096 sessions of about 8 KB each.

    bench/soak.py                       # about 10 minutes
    bench/soak.py --duration 60 --threads 8

Builds the release binaries first (cargo build --release --workspace). Needs the openssl
command line tool for the expired certificate. Every process it starts is stopped by its
pid at the end, and its temporary folder removed (`--keep` keeps it, with mediate's log).
"""
import argparse
import collections
import datetime
import http.client
import os
import random
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE = os.path.join(ROOT, "target", "release")
HOST = "127.0.0.1"
PASSWORD = "changeit"
MAX_MESSAGE_SIZE = 1024 * 1024

# Suspension of a failed backend endpoint (ms). The chaos thread waits well beyond
# SUSPEND_MAX_MS after a restart before it stops the other backend, so that one member is
# always ready.
SUSPEND_INITIAL_MS, SUSPEND_MAX_MS = 500, 2000


# ---------------------------------------------------------------------------------------
# Processes and ports


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_port(port, timeout=20.0):
    """Whether something accepts connections on `port` within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class Procs:
    """Every process started here, each stopped by its pid (SIGTERM, then SIGKILL)."""

    def __init__(self):
        self.procs = []
        self.lock = threading.Lock()

    def start(self, args, log_path=None, env=None):
        log = open(log_path, "ab") if log_path else subprocess.DEVNULL
        try:
            p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
        finally:
            if log_path:
                log.close()
        with self.lock:
            self.procs.append(p)
        return p

    @staticmethod
    def stop(p, grace=10.0):
        """Stops one process by its pid; whether it exited within `grace` seconds."""
        if p.poll() is None:
            os.kill(p.pid, signal.SIGTERM)
        try:
            p.wait(timeout=grace)
            return True
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
            p.wait()
            return False

    def stop_all(self):
        with self.lock:
            procs = list(reversed(self.procs))
        for p in procs:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGTERM)
        for p in procs:
            self.stop(p)


def run(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, **kw)


# ---------------------------------------------------------------------------------------
# Certificates


def make_pki(tmp):
    """The trusted PKI, an independent untrusted one, and an expired client certificate
    issued by the trusted CA. Returns a dict of file paths."""
    mediate = os.path.join(RELEASE, "mediate")
    sec, other = os.path.join(tmp, "security"), os.path.join(tmp, "other")
    run([mediate, "certs", "init", "--dir", sec])
    run([mediate, "certs", "init", "--dir", other])  # another CA: its client is untrusted

    # `mediate certs issue --days` starts at 1, so the expired certificate comes from
    # openssl ca, with explicit dates: valid from 60 days ago until yesterday.
    exp = os.path.join(tmp, "expired")
    os.makedirs(exp)
    ca_key = os.path.join(exp, "ca.key")
    run(["openssl", "pkcs12", "-in", os.path.join(sec, "ca.p12"), "-passin", f"pass:{PASSWORD}", "-nodes", "-nocerts", "-out", ca_key])
    key, csr, cert = (os.path.join(exp, n) for n in ("client.key", "client.csr", "client.pem"))
    run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key])
    run(["openssl", "req", "-new", "-key", key, "-subj", "/O=mediate demo/CN=soak-expired-client", "-out", csr])
    open(os.path.join(exp, "index.txt"), "w").close()
    with open(os.path.join(exp, "serial"), "w") as f:
        f.write("5A0A\n")
    cnf = os.path.join(exp, "ca.cnf")
    with open(cnf, "w") as f:
        f.write(f"""[ca]
default_ca = soak
[soak]
database = {exp}/index.txt
new_certs_dir = {exp}
serial = {exp}/serial
default_md = sha256
policy = anything
x509_extensions = client
[anything]
commonName = supplied
organizationName = optional
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
""")
    now = datetime.datetime.now(datetime.timezone.utc)
    fmt = "%Y%m%d%H%M%SZ"
    run(["openssl", "ca", "-batch", "-notext", "-config", cnf, "-cert", os.path.join(sec, "ca.pem"), "-keyfile", ca_key,
         "-in", csr, "-out", cert, "-startdate", (now - datetime.timedelta(days=60)).strftime(fmt),
         "-enddate", (now - datetime.timedelta(days=1)).strftime(fmt)])
    return {
        "ca.pem": os.path.join(sec, "ca.pem"),
        "server.p12": os.path.join(sec, "server.p12"),
        "client": (os.path.join(sec, "client.pem"), os.path.join(sec, "client.key")),
        "untrusted": (os.path.join(other, "client.pem"), os.path.join(other, "client.key")),
        "expired": (cert, key),
    }


def tls_context(pki, identity):
    """A client context trusting our CA (hostname checked: the server certificate names
    127.0.0.1), presenting `identity` ("client", "untrusted", "expired") or nothing."""
    ctx = ssl.create_default_context(cafile=pki["ca.pem"])
    if identity:
        ctx.load_cert_chain(*pki[identity])
    return ctx


# ---------------------------------------------------------------------------------------
# Configuration


def write_config(tmp, pki, port, backend_ports):
    conf, med = os.path.join(tmp, "conf"), os.path.join(tmp, "mediation")
    for d in ("proxy-services", "endpoints"):
        os.makedirs(os.path.join(med, d))
    os.makedirs(conf)
    axis2 = os.path.join(conf, "axis2.xml")
    with open(axis2, "w") as f:
        f.write(f"""<axisconfig name="soak">
  <parameter name="MaxMessageSize">{MAX_MESSAGE_SIZE}</parameter>
  <transportReceiver name="https">
    <parameter name="port">{port}</parameter>
    <parameter name="bind-address">{HOST}</parameter>
    <parameter name="keystore"><KeyStore><Location>{pki['server.p12']}</Location><Type>PKCS12</Type><Password>{PASSWORD}</Password></KeyStore></parameter>
    <parameter name="truststore"><TrustStore><Location>{pki['ca.pem']}</Location><Type>PEM</Type></TrustStore></parameter>
    <parameter name="SSLVerifyClient">require</parameter>
  </transportReceiver>
  <transportSender name="http"/>
</axisconfig>
""")

    def member(port):
        return f"""<endpoint><address uri="http://{HOST}:{port}/services/SimpleStockQuoteService">
        <timeout><duration>10000</duration></timeout>
        <markForSuspension><retriesBeforeSuspension>0</retriesBeforeSuspension></markForSuspension>
        <suspendOnFailure><initialDuration>{SUSPEND_INITIAL_MS}</initialDuration><progressionFactor>2</progressionFactor><maximumDuration>{SUSPEND_MAX_MS}</maximumDuration></suspendOnFailure>
      </address></endpoint>"""

    members = "".join(member(p) for p in backend_ports)
    files = {
        "endpoints/QuoteFailover.xml": f"""<endpoint xmlns="http://ws.apache.org/ns/synapse" name="QuoteFailover"><failover>{members}</failover></endpoint>""",
        "proxy-services/FailoverProxy.xml": """<target endpoint="QuoteFailover"><outSequence><send/></outSequence></target>""",
        "proxy-services/RoutingProxy.xml": """<target><inSequence xmlns:m0="http://services.samples">
            <filter source="//m0:symbol" regex="IBM[0-9]+"><then><send><endpoint key="QuoteFailover"/></send></then><else><drop/></else></filter>
          </inSequence><outSequence><send/></outSequence></target>""",
        "proxy-services/TransformProxy.xml": """<target><inSequence xmlns:m0="http://services.samples">
            <payloadFactory><format><m0:getQuote><m0:request><m0:symbol>$1</m0:symbol></m0:request></m0:getQuote></format>
              <args><arg expression="//m0:symbol"/></args></payloadFactory>
            <send><endpoint key="QuoteFailover"/></send>
          </inSequence><outSequence><send/></outSequence></target>""",
        "proxy-services/LBProxy.xml": f"""<target><endpoint><loadbalance algorithm="roundRobin">{members}</loadbalance></endpoint>
          <outSequence><send/></outSequence></target>""",
    }
    for rel, text in files.items():
        if rel.startswith("proxy-services/"):
            name = os.path.basename(rel)[:-4]
            text = f"""<proxy xmlns="http://ws.apache.org/ns/synapse" name="{name}" transports="https">{text}</proxy>"""
        with open(os.path.join(med, rel), "w") as f:
            f.write(text + "\n")
    return axis2, med


# ---------------------------------------------------------------------------------------
# Messages and the answers expected


ENV_OPEN = '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
ENV_CLOSE = "</soapenv:Body></soapenv:Envelope>"


def get_quote(symbol):
    return (f'<?xml version="1.0" encoding="UTF-8"?>{ENV_OPEN}<m0:getQuote xmlns:m0="http://services.samples">'
            f"<m0:request><m0:symbol>{symbol}</m0:symbol></m0:request></m0:getQuote>{ENV_CLOSE}").encode()


def billion_laughs():
    doc = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    for i in range(1, 10):
        doc += f'<!ENTITY lol{i} "{("&lol" + ("" if i == 1 else str(i - 1)) + ";") * 10}">'
    return (doc + f"]>{ENV_OPEN}<a>&lol9;</a>{ENV_CLOSE}").encode()


XXE = f'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>{ENV_OPEN}<a>&x;</a>{ENV_CLOSE}'.encode()
LAUGHS = billion_laughs()
DEEP = (ENV_OPEN + "<e>" * 10_000 + "</e>" * 10_000 + ENV_CLOSE).encode()
MALFORMED = f"{ENV_OPEN}<a><b></a>{ENV_CLOSE}".encode()
OVERSIZED = f"{ENV_OPEN}<a>{'x' * (MAX_MESSAGE_SIZE + 64 * 1024)}</a>{ENV_CLOSE}".encode()


def expect_quote(symbol):
    def check(status, body):
        if status != 200:
            return f"status {status}, expected 200"
        if b"getQuoteResponse" not in body:
            return "no getQuoteResponse in the answer"
        if f">{symbol}<".encode() not in body:
            return f"the answer is not for symbol {symbol}"
        return None
    return check


def expect_dropped(status, body):
    return None if status == 202 else f"status {status}, expected 202 (dropped)"


def expect_client_fault(status_wanted, *needles):
    def check(status, body):
        if status != status_wanted:
            return f"status {status}, expected {status_wanted}"
        if status_wanted == 500 and b"<faultcode>soapenv:Client</faultcode>" not in body:
            return "not a soapenv:Client fault"
        missing = [n for n in needles if n.encode() not in body]
        return f"the answer lacks {missing}" if missing else None
    return check


GOOD_PROXIES = ["FailoverProxy", "RoutingProxy", "TransformProxy", "LBProxy"]
PARSING_PROXIES = ["RoutingProxy", "TransformProxy"]
BAD_IDENTITIES = {"cert: untrusted CA": "untrusted", "cert: expired": "expired", "cert: none": None}


class Request:
    """One request to send: its class (for the report), proxy, body and answer check."""

    def __init__(self, kind, proxy, body, check):
        self.kind, self.proxy, self.body, self.check = kind, proxy, body, check


def pick_request(rng, seq, hostile_share):
    """A random request: mostly good ones, `hostile_share` of hostile XML."""
    if rng.random() < hostile_share:
        kind = rng.choice(["hostile: external entity", "hostile: billion laughs", "hostile: depth 10k",
                           "hostile: malformed", "hostile: oversized"])
        # A DTD is refused by every proxy (before mediation), a body too large by every
        # proxy that reads it into memory (all of these: groups do); depth and malformed
        # XML need a proxy that parses the message.
        proxy = rng.choice(PARSING_PROXIES if kind in ("hostile: depth 10k", "hostile: malformed") else GOOD_PROXIES)
        body, check = {
            "hostile: external entity": (XXE, expect_client_fault(500, "DTD is not allowed")),
            "hostile: billion laughs": (LAUGHS, expect_client_fault(500, "DTD is not allowed")),
            "hostile: depth 10k": (DEEP, expect_client_fault(500, "depth")),
            "hostile: malformed": (MALFORMED, expect_client_fault(500, "malformed")),
            "hostile: oversized": (OVERSIZED, expect_client_fault(413, "larger than the limit")),
        }[kind]
        return Request(kind, proxy, body, check)
    proxy = rng.choice(GOOD_PROXIES)
    if proxy == "RoutingProxy" and rng.random() < 0.2:
        return Request("good: RoutingProxy (dropped)", proxy, get_quote(f"ZZZ{seq}"), expect_dropped)
    symbol = f"IBM{seq}"  # unique: the answer must be this request's
    return Request(f"good: {proxy}", proxy, get_quote(symbol), expect_quote(symbol))


# ---------------------------------------------------------------------------------------
# Book-keeping


class Stats:
    MAX_DETAILS = 20  # per class; all failures are counted

    def __init__(self):
        self.lock = threading.Lock()
        self.sent = collections.Counter()
        self.ok = collections.Counter()
        self.failed = collections.Counter()
        self.failures = collections.defaultdict(list)
        self.latency = collections.defaultdict(list)
        self.refusals = collections.Counter()  # how bad certificates were refused
        self.seq = 0

    def next_seq(self):
        with self.lock:
            self.seq += 1
            return self.seq

    def record(self, kind, elapsed, problem=None):
        with self.lock:
            self.sent[kind] += 1
            self.latency[kind].append(elapsed)
            if problem is None:
                self.ok[kind] += 1
            else:
                self.failed[kind] += 1
                if len(self.failures[kind]) < self.MAX_DETAILS:
                    stamp = time.strftime("%H:%M:%S")
                    self.failures[kind].append(f"{stamp} after {elapsed:.2f}s: {problem}")

    def total_sent(self):
        with self.lock:
            return sum(self.sent.values())


# ---------------------------------------------------------------------------------------
# Threads: clients, chaos, RSS


class Client(threading.Thread):
    def __init__(self, n, args, port, pki, stats, deadline, stop):
        super().__init__(name=f"client-{n}", daemon=True)
        self.args, self.port, self.stats, self.deadline, self.stop_event = args, port, stats, deadline, stop
        self.rng = random.Random(args.seed * 1000 + n)
        self.good_ctx = tls_context(pki, "client")
        self.bad_ctx = {kind: tls_context(pki, ident) for kind, ident in BAD_IDENTITIES.items()}
        self.conn = None

    def run(self):
        while not self.stop_event.is_set() and time.monotonic() < self.deadline:
            if self.stats.total_sent() >= self.args.max_requests:
                break
            if self.rng.random() < self.args.bad_cert_share:
                self.bad_certificate(self.rng.choice(list(BAD_IDENTITIES)))
            else:
                self.send(pick_request(self.rng, self.stats.next_seq(), self.args.hostile_share))
        self.close()

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def send(self, req):
        # A mix of kept-alive and new connections.
        if self.conn is not None and self.rng.random() < self.args.new_connection_share:
            self.close()
        reused = self.conn is not None
        if self.conn is None:
            self.conn = http.client.HTTPSConnection(HOST, self.port, context=self.good_ctx, timeout=self.args.timeout)
        started = time.monotonic()
        try:
            self.conn.request("POST", f"/services/{req.proxy}", body=req.body,
                              headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '"urn:getQuote"'})
            resp = self.conn.getresponse()
            body = resp.read()
            if resp.will_close:
                self.close()
            problem = req.check(resp.status, body)
            if problem:
                problem += f" ({req.proxy}, {'kept-alive' if reused else 'new'} connection): {body[:300]!r}"
        except (OSError, http.client.HTTPException) as e:
            self.close()
            problem = f"{type(e).__name__}: {e} ({req.proxy}, {'kept-alive' if reused else 'new'} connection)"
        elapsed = time.monotonic() - started
        if problem is None and elapsed > self.args.timeout:
            problem = f"answered after {elapsed:.1f}s, beyond the {self.args.timeout}s timeout"
        self.stats.record(req.kind, elapsed, problem)

    def bad_certificate(self, kind):
        """A new connection with a wrong certificate: the handshake must be refused (with
        TLS 1.3 the refusal arrives on the first read), never an HTTP answer."""
        conn = http.client.HTTPSConnection(HOST, self.port, context=self.bad_ctx[kind], timeout=self.args.timeout)
        started = time.monotonic()
        problem = None
        try:
            conn.request("POST", "/services/FailoverProxy", body=get_quote("IBM"), headers={"Content-Type": "text/xml"})
            resp = conn.getresponse()
            problem = f"HTTP {resp.status} instead of a refused handshake: {resp.read()[:200]!r}"
        except ssl.SSLError as e:
            with self.stats.lock:
                self.stats.refusals[f"{kind}: {e.reason or type(e).__name__}"] += 1
        except (ConnectionResetError, BrokenPipeError) as e:
            with self.stats.lock:
                self.stats.refusals[f"{kind}: {type(e).__name__}"] += 1
        except (OSError, http.client.HTTPException) as e:
            problem = f"{type(e).__name__}: {e} (expected a TLS refusal)"
        finally:
            conn.close()
        self.stats.record(kind, time.monotonic() - started, problem)


class Backend:
    """One sample backend on a fixed port, which the chaos thread stops and restarts."""

    def __init__(self, name, procs, port, log):
        self.name, self.procs, self.port, self.log, self.proc = name, procs, port, log, None

    def start(self):
        self.proc = self.procs.start([os.path.join(RELEASE, "stockquote-server"), "--bind", HOST, "--port", str(self.port),
                                      "--workers", "1", "--name", self.name], log_path=self.log)
        return wait_port(self.port)

    def stop(self):
        return Procs.stop(self.proc)


class Chaos(threading.Thread):
    """Stops one backend at a time (SIGTERM by pid), restarts it on its port after
    `down` seconds, waits `up` seconds with both running, then does the other one."""

    def __init__(self, backends, down, up, deadline, stop):
        super().__init__(name="chaos", daemon=True)
        self.backends, self.down, self.up, self.deadline, self.stop_event = backends, down, up, deadline, stop
        self.outages = 0
        self.problems = []

    def run(self):
        i = 0
        # the last outage ends well before the traffic does, so the end sees both backends
        while not self.stop_event.wait(self.up) and time.monotonic() + self.down + self.up < self.deadline:
            b = self.backends[i % len(self.backends)]
            i += 1
            if not b.stop():
                self.problems.append(f"{b.name} needed SIGKILL")
            self.outages += 1
            self.stop_event.wait(self.down)
            if not b.start():
                self.problems.append(f"{b.name} did not come back on port {b.port}")
                return


class RssSampler(threading.Thread):
    def __init__(self, pid, interval, stop):
        super().__init__(name="rss", daemon=True)
        self.pid, self.interval, self.stop_event = pid, interval, stop
        self.samples = []  # (seconds since start, kB)
        self.started = time.monotonic()

    def run(self):
        while True:
            kb = proc_status_kb(self.pid, "VmRSS")
            if kb is None:
                return
            self.samples.append((time.monotonic() - self.started, kb))
            if self.stop_event.wait(self.interval):
                return


def proc_status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


# ---------------------------------------------------------------------------------------
# Report


def rss_verdict(samples, duration, warmup, slack_mb):
    """(first-window median, last-window median, peak) in MB and a problem or None. The
    windows are a minute long, shorter in short runs, and the first starts after warm-up."""
    window = min(60.0, max(5.0, (duration - warmup) / 3))
    end = samples[-1][0] if samples else 0
    first = [kb for t, kb in samples if warmup <= t < warmup + window]
    last = [kb for t, kb in samples if t >= end - window]
    if not first or not last:
        return None, None, None, "too few RSS samples"
    first_mb, last_mb = statistics.median(first) / 1024, statistics.median(last) / 1024
    peak = max(kb for _, kb in samples) / 1024
    problem = None
    if last_mb > first_mb + slack_mb:
        problem = f"RSS grew: last-window median {last_mb:.1f} MB > first-window median {first_mb:.1f} MB + {slack_mb} MB"
    return first_mb, last_mb, peak, problem


def final_check(port, pki, timeout):
    """After the load: every proxy answers a good request on a new connection."""
    problems = []
    ctx = tls_context(pki, "client")
    for proxy in GOOD_PROXIES:
        conn = http.client.HTTPSConnection(HOST, port, context=ctx, timeout=timeout)
        try:
            conn.request("POST", f"/services/{proxy}", body=get_quote("IBM42"), headers={"Content-Type": "text/xml"})
            resp = conn.getresponse()
            problem = expect_quote("IBM42")(resp.status, resp.read())
            if problem:
                problems.append(f"final request to {proxy}: {problem}")
        except (OSError, http.client.HTTPException) as e:
            problems.append(f"final request to {proxy}: {type(e).__name__}: {e}")
        finally:
            conn.close()
    return problems


def report(stats, elapsed, rss, chaos):
    print(f"\n{'class':<32}{'sent':>8}{'ok':>8}{'wrong':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for kind in sorted(stats.sent):
        lat = sorted(stats.latency[kind])
        p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000
        print(f"{kind:<32}{stats.sent[kind]:>8}{stats.ok[kind]:>8}{stats.failed[kind]:>7}{p(0.5):>9.1f}{p(0.99):>9.1f}{lat[-1] * 1000:>9.1f}")
    total = sum(stats.sent.values())
    wrong = sum(stats.failed.values())
    print(f"{'total':<32}{total:>8}{total - wrong:>8}{wrong:>7}")
    print(f"\n{total / elapsed:.1f} requests/s over {elapsed:.0f} s; {chaos.outages} backend outages")
    if stats.refusals:
        print("bad certificates refused with: " + ", ".join(f"{k} ×{v}" for k, v in sorted(stats.refusals.items())))
    first, last, peak, start, end = rss
    if first is not None:
        print(f"mediate RSS: start {start:.1f} MB, first window median {first:.1f} MB, last window median {last:.1f} MB, "
              f"peak {peak:.1f} MB, end {end:.1f} MB")
    for kind, details in sorted(stats.failures.items()):
        print(f"\nWRONG ANSWERS for {kind} ({stats.failed[kind]}; first {len(details)}):")
        for d in details:
            print(f"  {d}")


# ---------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=600, help="seconds of traffic (default 600)")
    ap.add_argument("--threads", type=int, default=8, help="client threads (default 8)")
    ap.add_argument("--workers", type=int, default=2, help="mediate workers (default 2)")
    ap.add_argument("--timeout", type=float, default=30, help="per-request timeout in seconds (default 30)")
    ap.add_argument("--max-requests", type=int, default=2_000_000, help="stop sending after this many requests")
    ap.add_argument("--hostile-share", type=float, default=0.08, help="share of hostile XML requests")
    ap.add_argument("--bad-cert-share", type=float, default=0.04, help="share of connections with a wrong certificate")
    ap.add_argument("--new-connection-share", type=float, default=0.2, help="share of good requests on a new connection")
    ap.add_argument("--down", type=float, default=3, help="seconds a stopped backend stays down")
    ap.add_argument("--up", type=float, default=6, help="seconds both backends run between outages")
    ap.add_argument("--rss-interval", type=float, default=2, help="seconds between RSS samples")
    ap.add_argument("--warmup", type=float, default=None, help="seconds before the first RSS window (default: a quarter of the run, at most 120)")
    ap.add_argument("--rss-slack-mb", type=float, default=10, help="allowed RSS growth, MB")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (configuration, logs)")
    ap.add_argument("--no-build", action="store_true", help="use the release binaries as they are")
    args = ap.parse_args()
    # the chaos design keeps one member ready at all times only if a restarted backend's
    # suspension has run out before the other one is stopped
    if args.up * 1000 < 2 * SUSPEND_MAX_MS:
        ap.error(f"--up must be at least {2 * SUSPEND_MAX_MS / 1000} s")

    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--workspace", "--quiet"], cwd=ROOT, check=True)
    tmp = tempfile.mkdtemp(prefix="mediate-soak-")
    procs = Procs()
    stop = threading.Event()
    failures = []
    try:
        pki = make_pki(tmp)
        backends = [Backend(f"Backend{i + 1}", procs, free_port(), os.path.join(tmp, f"backend{i + 1}.log")) for i in range(2)]
        for b in backends:
            if not b.start():
                raise SystemExit(f"{b.name} did not start")
        port = free_port()
        axis2, med = write_config(tmp, pki, port, [b.port for b in backends])
        mediate_log = os.path.join(tmp, "mediate.log")
        mediate = procs.start([os.path.join(RELEASE, "mediate"), "serve", "--workers", str(args.workers), "--axis2", axis2, "--mediation", med],
                              log_path=mediate_log, env={**os.environ, "RUST_LOG": "warn"})
        if not wait_port(port):
            raise SystemExit(f"mediate did not start; see {mediate_log}")

        print(f"soak: {args.duration:.0f} s, {args.threads} client threads, mediate pid {mediate.pid} on {HOST}:{port}, "
              f"backends {', '.join(f'{b.name} pid {b.proc.pid} :{b.port}' for b in backends)}")
        started = time.monotonic()
        deadline = started + args.duration
        rss = RssSampler(mediate.pid, args.rss_interval, stop)
        chaos = Chaos(backends, args.down, args.up, deadline, stop)
        stats = Stats()
        clients = [Client(n, args, port, pki, stats, deadline, stop) for n in range(args.threads)]
        rss.start()
        chaos.start()
        for c in clients:
            c.start()
        next_progress = started + 30
        while any(c.is_alive() for c in clients):
            time.sleep(0.5)
            now = time.monotonic()
            if mediate.poll() is not None:
                failures.append(f"mediate exited with {mediate.returncode} after {now - started:.0f} s")
                stop.set()
            if now > next_progress:
                next_progress += 30
                kb = proc_status_kb(mediate.pid, "VmRSS") or 0
                print(f"  {now - started:5.0f} s: {stats.total_sent()} requests, {sum(stats.failed.values())} wrong, "
                      f"{chaos.outages} outages, RSS {kb / 1024:.1f} MB", flush=True)
            if now > deadline + args.timeout + 10:
                failures.append("client threads still busy after the deadline and timeout: a request hangs")
                break
        elapsed = time.monotonic() - started
        stop.set()
        chaos.join(timeout=30)
        rss.join(timeout=10)
        failures += chaos.problems

        if mediate.poll() is None:
            # both backends are running again (chaos ended with a restart)
            failures += final_check(port, pki, args.timeout)
        else:
            failures.append(f"mediate is not running at the end (exit {mediate.returncode})")
        end_kb = proc_status_kb(mediate.pid, "VmRSS")
        hwm_kb = proc_status_kb(mediate.pid, "VmHWM")

        warmup = args.warmup if args.warmup is not None else min(120.0, args.duration / 4)
        first, last, peak, rss_problem = rss_verdict(rss.samples, elapsed, warmup, args.rss_slack_mb)
        if rss_problem:
            failures.append(rss_problem)
        start_mb = rss.samples[0][1] / 1024 if rss.samples else 0
        end_mb = (end_kb or 0) / 1024
        peak = max(peak or 0, (hwm_kb or 0) / 1024)
        report(stats, elapsed, (first, last, peak, start_mb, end_mb), chaos)

        wrong = sum(stats.failed.values())
        if wrong:
            failures.append(f"{wrong} wrong answers")
        if sum(stats.sent.values()) == 0:
            failures.append("nothing was sent")
        with open(mediate_log, errors="replace") as f:
            panics = [line.rstrip() for line in f if "panicked" in line]
        if panics:
            failures.append(f"mediate logged {len(panics)} panics, e.g. {panics[0]}")
    finally:
        stop.set()
        procs.stop_all()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    if failures:
        print("\nFAILED:")
        for f in failures:
            print(f"  {f}")
        return 1
    print("\nOK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
