#!/usr/bin/env python3
"""The benchmark matrix: mediate against the backend called directly and against nginx
doing plain mTLS `proxy_pass`, all measured in one run on this machine so the ratios
compare like with like.

Rows: pass-through at 1 KB, 10 KB, 100 KB and 1 MB over keep-alive mutual TLS; content-
based routing on a body XPath, a payloadFactory transform and routing on a transport
header at 1 KB and 10 KB; a new TLS connection per request at 1 KB. Each row reports
req/s, p50, p99, the server's CPU seconds per 1000 requests, and mediate's peak RSS
during that row. Then idle memory: mediate's RSS at start and holding N idle mTLS
connections (nginx alongside).

    bench/run.py [--duration 5] [--connections 50] [--workers 2] [--idle 10000] [--quick]

Loopback only; every process started here is stopped by its pid; every load is bounded
in time (oha -z) or count. Needs oha (`cargo install oha --locked`); nginx
(`apt-get install nginx-light`) is optional.
"""
import argparse
import asyncio
import json
import os
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE = os.path.join(ROOT, "target", "release")
TICKS = os.sysconf("SC_CLK_TCK")
KB = 1024


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on port {port}")


class Procs:
    """Started processes, stopped by pid on exit."""

    def __init__(self):
        self.procs = []

    def start(self, name, args, **kw):
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=kw.pop("stderr", subprocess.DEVNULL), **kw)
        self.procs.append((name, p))
        return p

    def stop_all(self):
        for _, p in reversed(self.procs):
            if p.poll() is None:
                os.kill(p.pid, signal.SIGTERM)
        for _, p in reversed(self.procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait()


def soap_body(size):
    head = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
            '<soapenv:Header><m0:padding xmlns:m0="http://services.samples">')
    tail = ('</m0:padding></soapenv:Header><soapenv:Body><m0:getQuote xmlns:m0="http://services.samples"><m0:request>'
            '<m0:symbol>IBM</m0:symbol></m0:request></m0:getQuote></soapenv:Body></soapenv:Envelope>')
    return (head + "x" * max(0, size - len(head) - len(tail)) + tail).encode()


# --- process accounting ----------------------------------------------------------------

def family(pid):
    """`pid` and its children (nginx's workers)."""
    pids = [pid]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        pids.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return pids


def cpu_seconds(pid):
    total = 0
    for p in family(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        except (OSError, ValueError, IndexError):
            pass
    return total / TICKS


def status_kb(pid, key):
    total = 0
    for p in family(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith(key):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def reset_peak_rss(pid):
    # Linux: writing 5 to clear_refs resets VmHWM, so each row gets its own peak.
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


# --- load ------------------------------------------------------------------------------

def oha(url, pki, body_file, seconds, connections, keepalive=True, headers=()):
    cmd = ["oha", "--no-tui", "--output-format", "json", "-z", f"{seconds}s", "-c", str(connections),
           "-m", "POST", "-H", "Content-Type: text/xml; charset=UTF-8", "-H", 'SOAPAction: "urn:getQuote"',
           "-D", body_file, "--cert", pki["client.pem"], "--key", pki["client.key"], "--cacert", pki["ca.pem"]]
    for h in headers:
        cmd += ["-H", h]
    if not keepalive:
        cmd.append("--disable-keepalive")
    out = subprocess.run(cmd + [url], check=True, capture_output=True, text=True, timeout=seconds + 120).stdout
    res = json.loads(out)
    s = res["summary"]
    lat = res.get("latencyPercentiles", {})
    codes = res.get("statusCodeDistribution", {})
    # requests still in flight when the time is up are cut off by oha: not errors
    errors = sum(v for k, v in res.get("errorDistribution", {}).items() if k != "aborted due to deadline")
    return {"rps": s["requestsPerSec"], "p50": (lat.get("p50") or 0) * 1000, "p99": (lat.get("p99") or 0) * 1000,
            "ok": sum(v for k, v in codes.items() if k.startswith("2")), "total": sum(codes.values()), "errors": errors}


def measure(server_pid, mediate_pid, url, pki, body_file, args, keepalive=True, headers=()):
    oha(url, pki, body_file, 1, args.connections, keepalive, headers)  # warm-up: connections, pools, caches
    reset_peak_rss(mediate_pid)
    cpu0 = cpu_seconds(server_pid)
    r = oha(url, pki, body_file, args.duration, args.connections, keepalive, headers)
    cpu = cpu_seconds(server_pid) - cpu0
    r["cpu_per_1k"] = cpu / max(r["total"], 1) * 1000
    r["rss_mb"] = status_kb(mediate_pid, "VmHWM:") / KB if server_pid == mediate_pid else None
    return r


async def hold_idle(port, pki, count, server_pids):
    """Opens `count` mTLS connections, measures each server's RSS while they are idle."""
    ctx = ssl.create_default_context(cafile=pki["ca.pem"])
    ctx.load_cert_chain(pki["client.pem"], pki["client.key"])
    ctx.check_hostname = False
    gate = asyncio.Semaphore(64)
    writers = []

    async def one():
        async with gate:
            _, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port, ssl=ctx), 30)
            writers.append(w)

    results = await asyncio.gather(*(one() for _ in range(count)), return_exceptions=True)
    failed = sum(1 for r in results if isinstance(r, BaseException))
    await asyncio.sleep(1)
    rss = {pid: status_kb(pid, "VmRSS:") / KB for pid in server_pids}
    for w in writers:
        w.transport.abort()
    return len(writers), failed, rss


# --- configuration ---------------------------------------------------------------------

def write_mediate_config(tmp, port, pki, backend):
    conf = os.path.join(tmp, "conf")
    med = os.path.join(tmp, "mediation", "proxy-services")
    os.makedirs(conf)
    os.makedirs(med)
    with open(os.path.join(conf, "axis2.xml"), "w") as f:
        f.write(f"""<axisconfig name="bench">
  <transportReceiver name="https">
    <parameter name="port">{port}</parameter>
    <parameter name="bind-address">127.0.0.1</parameter>
    <parameter name="keystore"><KeyStore><Location>{pki['server.p12']}</Location><Type>PKCS12</Type><Password>changeit</Password></KeyStore></parameter>
    <parameter name="truststore"><TrustStore><Location>{pki['ca.pem']}</Location><Type>PEM</Type></TrustStore></parameter>
    <parameter name="SSLVerifyClient">require</parameter>
  </transportReceiver>
  <transportSender name="http"/>
</axisconfig>""")
    send = f'<send><endpoint><address uri="{backend}"/></endpoint></send>'
    proxies = {
        # pass-through: nothing reads the body
        "StockQuoteProxy": f'<target><endpoint><address uri="{backend}"/></endpoint><outSequence><send/></outSequence></target>',
        # content-based routing on a body XPath
        "RoutingProxy": f"""<target><inSequence xmlns:m0="http://services.samples">
            <filter source="//m0:symbol" regex="IBM"><then>{send}</then><else><drop/></else></filter>
            </inSequence><outSequence><send/></outSequence></target>""",
        # a payloadFactory transform of the request
        "TransformProxy": f"""<target><inSequence xmlns:m0="http://services.samples">
            <payloadFactory><format><m0:getQuote><m0:request><m0:symbol>$1</m0:symbol></m0:request></m0:getQuote></format>
            <args><arg expression="//m0:symbol"/></args></payloadFactory>
            {send}</inSequence><outSequence><send/></outSequence></target>""",
        # routing on a transport header
        "HeaderRouteProxy": f"""<target><inSequence>
            <switch source="get-property('transport', 'X-Route')"><case regex="quotes">{send}</case><default><drop/></default></switch>
            </inSequence><outSequence><send/></outSequence></target>""",
    }
    for name, target in proxies.items():
        with open(os.path.join(med, f"{name}.xml"), "w") as f:
            f.write(f'<proxy xmlns="http://ws.apache.org/ns/synapse" name="{name}" transports="https">{target}</proxy>')
    return os.path.join(conf, "axis2.xml"), os.path.join(tmp, "mediation")


def write_nginx_config(ndir, port, workers, pki, server_pem, backend_port):
    os.makedirs(os.path.join(ndir, "logs"))
    path = os.path.join(ndir, "nginx.conf")
    with open(path, "w") as f:
        f.write(f"""worker_processes {workers};
pid {ndir}/nginx.pid;
error_log {ndir}/logs/error.log warn;
worker_rlimit_nofile 40000;
events {{ worker_connections 16384; }}
http {{
  access_log off;
  client_body_buffer_size 16k;
  client_max_body_size 10m;
  upstream backend {{ server 127.0.0.1:{backend_port}; keepalive 128; }}
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {server_pem};
    ssl_certificate_key {server_pem};
    ssl_client_certificate {pki['ca.pem']};
    ssl_verify_client on;
    ssl_protocols TLSv1.2 TLSv1.3;
    # the same resumption policy as mediate: sessions cached on the server, no stateless tickets
    ssl_session_tickets off;
    ssl_session_cache shared:SSL:20m;
    keepalive_requests 100000;
    location / {{
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_request_buffering off;
    }}
  }}
}}
""")
    return path


# --- report ----------------------------------------------------------------------------

def fmt(v, spec):
    return "–" if v is None else format(v, spec)


def report(rows, args, idle):
    print(f"\n{args.connections} connections, {args.duration} s per row, {args.workers} workers for mediate, nginx and the backend; "
          f"one machine, oha and all servers sharing its {os.cpu_count()} cores\n")
    print("| case | body | connection | target | req/s | p50 ms | p99 ms | CPU s / 1k req | peak RSS MB | × nginx | × direct |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    by_key = {(r["case"], r["size"], r["conn"], r["target"]): r for r in rows}
    for r in rows:
        nginx = by_key.get(("pass-through", r["size"], r["conn"], "nginx"))
        direct = by_key.get(("pass-through", r["size"], r["conn"], "direct"))
        vs_nginx = r["rps"] / nginx["rps"] if nginx and r["target"] == "mediate" else None
        vs_direct = r["rps"] / direct["rps"] if direct and r["target"] != "direct" else None
        print(f"| {r['case']} | {r['size'] // KB} KB | {r['conn']} | {r['target']} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} "
              f"| {r['cpu_per_1k']:.3f} | {fmt(r['rss_mb'], '.1f')} | {fmt(vs_nginx, '.2f')} | {fmt(vs_direct, '.2f')} |")
    print()
    for line in idle:
        print(line)
    bad = [f"{r['case']} {r['size'] // KB} KB {r['conn']} {r['target']}" for r in rows if r["ok"] != r["total"] or r["errors"]]
    if bad:
        print(f"\nWARNING: non-2xx answers or errors in: {', '.join(bad)}")
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=5, help="seconds of load per row")
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--workers", type=int, default=2, help="workers for mediate, nginx and the backend alike")
    ap.add_argument("--idle", type=int, default=10000, help="idle mTLS connections to hold (0: skip)")
    ap.add_argument("--quick", action="store_true", help="only the 1 KB rows")
    args = ap.parse_args()
    if not shutil.which("oha"):
        raise SystemExit("oha is missing: cargo install oha --locked")
    # room for the idle connections, inherited by the servers started below
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    subprocess.run(["cargo", "build", "--release", "--workspace", "--quiet"], cwd=ROOT, check=True)
    tmp = tempfile.mkdtemp(prefix="mediate-bench-")
    procs = Procs()
    try:
        sec = os.path.join(tmp, "security")
        subprocess.run([os.path.join(RELEASE, "mediate"), "certs", "init", "--dir", sec], check=True, stdout=subprocess.DEVNULL)
        pki = {n: os.path.join(sec, n) for n in ["ca.pem", "client.pem", "client.key", "server.p12", "truststore.p12"]}
        server_pem = os.path.join(sec, "server.pem")  # nginx wants PEM
        subprocess.run(["openssl", "pkcs12", "-in", pki["server.p12"], "-nodes", "-passin", "pass:changeit", "-out", server_pem],
                       check=True, capture_output=True)
        sizes = [1 * KB] if args.quick else [1 * KB, 10 * KB, 100 * KB, 1024 * KB]
        bodies = {}
        for size in sorted(set(sizes + [1 * KB, 10 * KB])):
            bodies[size] = os.path.join(tmp, f"body-{size}.xml")
            with open(bodies[size], "wb") as f:
                f.write(soap_body(size))

        backend_http, backend_https = free_port(), free_port()
        backend = procs.start("backend", [os.path.join(RELEASE, "stockquote-server"), "--bind", "127.0.0.1", "--port", str(backend_http),
                                          "--https-port", str(backend_https), "--keystore", pki["server.p12"], "--password", "changeit",
                                          "--truststore", pki["ca.pem"], "--workers", str(args.workers)])
        wait_port(backend_http)
        wait_port(backend_https)

        mediate_port = free_port()
        axis2, mediation = write_mediate_config(tmp, mediate_port, pki, f"http://127.0.0.1:{backend_http}/services/SimpleStockQuoteService")
        mediate = procs.start("mediate", [os.path.join(RELEASE, "mediate"), "serve", "--workers", str(args.workers),
                                          "--axis2", axis2, "--mediation", mediation], env={**os.environ, "RUST_LOG": "warn"})
        wait_port(mediate_port)
        time.sleep(0.5)
        idle_rss = status_kb(mediate.pid, "VmRSS:") / KB

        servers = {"direct": (backend.pid, f"https://127.0.0.1:{backend_https}/services/SimpleStockQuoteService"),
                   "mediate": (mediate.pid, f"https://127.0.0.1:{mediate_port}/services/StockQuoteProxy")}
        nginx = None
        if shutil.which("nginx"):
            nginx_port = free_port()
            conf = write_nginx_config(os.path.join(tmp, "nginx"), nginx_port, args.workers, pki, server_pem, backend_http)
            nginx = procs.start("nginx", ["nginx", "-p", os.path.join(tmp, "nginx"), "-c", conf, "-g", "daemon off;"])
            wait_port(nginx_port)
            servers["nginx"] = (nginx.pid, f"https://127.0.0.1:{nginx_port}/services/SimpleStockQuoteService")
        else:
            print("nginx not installed: skipping the nginx comparison (apt-get install nginx-light)")

        rows = []

        def row(case, size, conn, target, url, pid, headers=()):
            r = measure(pid, mediate.pid, url, pki, bodies[size], args, conn == "keep-alive", headers)
            r.update(case=case, size=size, conn=conn, target=target)
            rows.append(r)
            print(f"  {case:<14} {size // KB:>5} KB {conn:<10} {target:<8} {r['rps']:>8.0f} req/s  p99 {r['p99']:.2f} ms", file=sys.stderr)

        # Small bodies first, each size's mediation rows right after its pass-through rows:
        # the 1 MB row leaves a larger heap behind, which would tilt later small rows.
        mediated = f"https://127.0.0.1:{mediate_port}/services/"
        for size in sizes:
            for target, (pid, url) in servers.items():
                row("pass-through", size, "keep-alive", target, url, pid)
            if size <= 10 * KB:
                row("CBR (XPath)", size, "keep-alive", "mediate", mediated + "RoutingProxy", mediate.pid)
                row("payloadFactory", size, "keep-alive", "mediate", mediated + "TransformProxy", mediate.pid)
                row("header route", size, "keep-alive", "mediate", mediated + "HeaderRouteProxy", mediate.pid, ["X-Route: quotes"])
        for target, (pid, url) in servers.items():
            row("pass-through", 1 * KB, "new TLS", target, url, pid)

        idle = [f"mediate idle RSS after start: {idle_rss:.1f} MB"]
        if args.idle:
            ports = [("mediate", mediate_port, mediate.pid)] + ([("nginx", nginx_port, nginx.pid)] if nginx else [])
            for name, port, pid in ports:
                opened, failed, rss = asyncio.run(hold_idle(port, pki, args.idle, [pid]))
                idle.append(f"{name} RSS holding {opened} idle mTLS connections: {rss[pid]:.1f} MB"
                            + (f" ({failed} failed to open)" if failed else "") + (" (master + workers)" if name == "nginx" else ""))
                time.sleep(1)
        return report(rows, args, idle)
    finally:
        procs.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
