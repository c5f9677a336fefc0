#!/usr/bin/env python3
"""Pass-through benchmark: the same 1 KB SOAP load over keep-alive mutual TLS,
(a) straight to the sample backend, (b) through mediate, (c) through nginx
(`ssl_verify_client on` + `proxy_pass`, upstream keep-alive) when nginx is installed.

All in one run on this machine, so the ratios compare like with like. Loopback only;
every process started here is stopped by its pid; every load is bounded in time.

    bench/run.py [--duration 10] [--connections 50] [--workers 2]

Needs: oha (`cargo install oha --locked`), optionally nginx (`apt-get install nginx-light`).
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE = os.path.join(ROOT, "target", "release")


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


def soap_body(size=1024):
    head = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
            '<soapenv:Header><m0:padding xmlns:m0="http://services.samples">')
    tail = ('</m0:padding></soapenv:Header><soapenv:Body><m0:getQuote xmlns:m0="http://services.samples"><m0:request>'
            '<m0:symbol>IBM</m0:symbol></m0:request></m0:getQuote></soapenv:Body></soapenv:Envelope>')
    return (head + "x" * max(0, size - len(head) - len(tail)) + tail).encode()


def oha(url, args, pki, body_file, duration):
    cmd = ["oha", "--no-tui", "--output-format", "json", "-z", f"{duration}s", "-c", str(args.connections),
           "-m", "POST", "-H", "Content-Type: text/xml; charset=UTF-8", "-H", 'SOAPAction: "urn:getQuote"',
           "-D", body_file, "--cert", pki["client.pem"], "--key", pki["client.key"], "--cacert", pki["ca.pem"], url]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=duration + 60).stdout
    return json.loads(out)


def summarize(name, res):
    s = res["summary"]
    lat = res.get("latencyPercentiles", {})
    codes = res.get("statusCodeDistribution", {})
    ok = sum(v for k, v in codes.items() if k.startswith("2"))
    total = sum(codes.values())
    # requests still in flight when the time is up are cut off by oha: not errors
    errors = sum(v for k, v in res.get("errorDistribution", {}).items() if k != "aborted due to deadline")
    return {"name": name, "rps": s["requestsPerSec"], "p50": lat.get("p50", 0) * 1000, "p99": lat.get("p99", 0) * 1000,
            "ok": ok, "total": total, "errors": errors}


def vm_hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=10, help="seconds of load per target")
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--workers", type=int, default=2, help="workers for mediate and nginx alike")
    args = ap.parse_args()
    if not shutil.which("oha"):
        raise SystemExit("oha is missing: cargo install oha --locked")

    subprocess.run(["cargo", "build", "--release", "--workspace", "--quiet"], cwd=ROOT, check=True)
    tmp = tempfile.mkdtemp(prefix="mediate-bench-")
    procs = Procs()
    try:
        sec = os.path.join(tmp, "security")
        subprocess.run([os.path.join(RELEASE, "mediate"), "certs", "init", "--dir", sec], check=True, stdout=subprocess.DEVNULL)
        pki = {n: os.path.join(sec, n) for n in ["ca.pem", "client.pem", "client.key", "server.p12", "truststore.p12"]}
        # nginx wants PEM files for its own key and certificate
        server_pem = os.path.join(sec, "server.pem")
        subprocess.run(["openssl", "pkcs12", "-in", pki["server.p12"], "-nodes", "-passin", "pass:changeit", "-out", server_pem],
                       check=True, capture_output=True)
        body_file = os.path.join(tmp, "body.xml")
        with open(body_file, "wb") as f:
            f.write(soap_body())

        backend_http, backend_https = free_port(), free_port()
        procs.start("backend", [os.path.join(RELEASE, "stockquote-server"), "--bind", "127.0.0.1", "--port", str(backend_http),
                                "--https-port", str(backend_https), "--keystore", pki["server.p12"], "--password", "changeit",
                                "--truststore", pki["ca.pem"], "--workers", str(args.workers)])
        wait_port(backend_http)
        wait_port(backend_https)

        mediate_port = free_port()
        conf = os.path.join(tmp, "conf")
        med = os.path.join(tmp, "mediation", "proxy-services")
        os.makedirs(conf)
        os.makedirs(med)
        with open(os.path.join(conf, "axis2.xml"), "w") as f:
            f.write(f"""<axisconfig name="bench">
  <transportReceiver name="https">
    <parameter name="port">{mediate_port}</parameter>
    <parameter name="bind-address">127.0.0.1</parameter>
    <parameter name="keystore"><KeyStore><Location>{pki['server.p12']}</Location><Type>PKCS12</Type><Password>changeit</Password></KeyStore></parameter>
    <parameter name="truststore"><TrustStore><Location>{pki['ca.pem']}</Location><Type>PEM</Type></TrustStore></parameter>
    <parameter name="SSLVerifyClient">require</parameter>
  </transportReceiver>
  <transportSender name="http"/>
</axisconfig>""")
        backend = f"http://127.0.0.1:{backend_http}/services/SimpleStockQuoteService"
        proxies = {
            # pass-through: nothing reads the body
            "StockQuoteProxy": f"""<target><endpoint><address uri="{backend}"/></endpoint><outSequence><send/></outSequence></target>""",
            # content-based routing on a body XPath
            "RoutingProxy": f"""<target><inSequence xmlns:m0="http://services.samples">
                <filter source="//m0:symbol" regex="IBM"><then><send><endpoint><address uri="{backend}"/></endpoint></send></then>
                <else><drop/></else></filter></inSequence><outSequence><send/></outSequence></target>""",
            # a payloadFactory transform of the request
            "TransformProxy": f"""<target><inSequence xmlns:m0="http://services.samples">
                <payloadFactory><format><m0:getQuote><m0:request><m0:symbol>$1</m0:symbol></m0:request></m0:getQuote></format>
                <args><arg expression="//m0:symbol"/></args></payloadFactory>
                <send><endpoint><address uri="{backend}"/></endpoint></send></inSequence><outSequence><send/></outSequence></target>""",
        }
        for name, target in proxies.items():
            with open(os.path.join(med, f"{name}.xml"), "w") as f:
                f.write(f"""<proxy xmlns="http://ws.apache.org/ns/synapse" name="{name}" transports="https">{target}</proxy>""")
        mediate = procs.start("mediate", [os.path.join(RELEASE, "mediate"), "serve", "--workers", str(args.workers),
                                          "--axis2", os.path.join(conf, "axis2.xml"), "--mediation", os.path.join(tmp, "mediation")],
                              env={**os.environ, "RUST_LOG": "warn"})
        wait_port(mediate_port)

        targets = [("backend direct", f"https://127.0.0.1:{backend_https}/services/SimpleStockQuoteService"),
                   ("mediate", f"https://127.0.0.1:{mediate_port}/services/StockQuoteProxy"),
                   ("mediate CBR", f"https://127.0.0.1:{mediate_port}/services/RoutingProxy"),
                   ("mediate payload", f"https://127.0.0.1:{mediate_port}/services/TransformProxy")]

        if shutil.which("nginx"):
            nginx_port = free_port()
            ndir = os.path.join(tmp, "nginx")
            os.makedirs(os.path.join(ndir, "logs"))
            with open(os.path.join(ndir, "nginx.conf"), "w") as f:
                f.write(f"""worker_processes {args.workers};
pid {ndir}/nginx.pid;
error_log {ndir}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  upstream backend {{ server 127.0.0.1:{backend_http}; keepalive 128; }}
  server {{
    listen 127.0.0.1:{nginx_port} ssl;
    ssl_certificate {server_pem};
    ssl_certificate_key {server_pem};
    ssl_client_certificate {pki['ca.pem']};
    ssl_verify_client on;
    ssl_protocols TLSv1.2 TLSv1.3;
    keepalive_requests 100000;
    location / {{
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
""")
            procs.start("nginx", ["nginx", "-p", ndir, "-c", os.path.join(ndir, "nginx.conf"), "-g", "daemon off;"])
            wait_port(nginx_port)
            targets.append(("nginx", f"https://127.0.0.1:{nginx_port}/services/SimpleStockQuoteService"))
        else:
            print("nginx not installed: skipping the nginx comparison (apt-get install nginx-light)")

        results = {}
        for name, url in targets:
            oha(url, args, pki, body_file, 2)  # warm-up: connections, pools, caches
            results[name] = summarize(name, oha(url, args, pki, body_file, args.duration))
        rss_mb = vm_hwm_kb(mediate.pid) / 1024

        print(f"\n1 KB SOAP getQuote, keep-alive mTLS, {args.connections} connections, {args.duration} s each, {args.workers} workers\n")
        print(f"{'target':<18}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'2xx':>10}{'errors':>8}")
        for r in results.values():
            print(f"{r['name']:<18}{r['rps']:>10.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}{r['ok']:>10}{r['errors']:>8}")
        m = results["mediate"]
        print(f"\nmediate / backend direct: {m['rps'] / results['backend direct']['rps']:.2f}x")
        if "nginx" in results:
            print(f"mediate / nginx:          {m['rps'] / results['nginx']['rps']:.2f}x")
            print(f"p99 mediate - nginx:      {m['p99'] - results['nginx']['p99']:+.2f} ms")
        for case in ["mediate CBR", "mediate payload"]:
            r = results[case]
            line = f"{case + ' / pass-through:':<33}{r['rps'] / m['rps']:.2f}x"
            if "nginx" in results:
                line += f"   / nginx: {r['rps'] / results['nginx']['rps']:.2f}x"
            print(line)
        print(f"mediate peak RSS:         {rss_mb:.1f} MB")
        bad = [r["name"] for r in results.values() if r["ok"] != r["total"] or r["errors"]]
        if bad:
            print(f"WARNING: non-2xx answers or errors from: {', '.join(bad)}")
            return 1
        return 0
    finally:
        procs.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
