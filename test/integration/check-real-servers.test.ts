// Checkers against real daemons inside a network namespace the test creates: nginx (HTTP and HTTPS
// with a certificate made here by openssl), dnsmasq (DNS), Python's stdlib smtpd (SMTP). The checkers
// run inside the namespace too (test/fixtures/check/run-checker.ts), so no traffic leaves it.
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLab, type Lab } from "../helpers/netns.ts";
import type { CheckResult, CheckerSpec, HttpCheckParams } from "../../src/check/types.ts";

const BUN = resolve("node_modules/.bin/bun");
const RUNNER = resolve("test/fixtures/check/run-checker.ts");
const PYTHON = "/usr/bin/python3";
const INDEX = "<html>lbctl test page</html>\n";
const INDEX_MD5 = createHash("md5").update(INDEX).digest("hex");

let lab: Lab;
let ns = "";
let dir = "";

async function check(spec: CheckerSpec): Promise<CheckResult> {
  const out = await lab.run(ns, [BUN, RUNNER, JSON.stringify(spec)], { timeoutMs: 20_000 });
  return JSON.parse(out) as CheckResult;
}

/** Wait until a TCP/UDP port answers inside the namespace (daemons take a moment to bind). */
async function waitListening(proto: "tcp" | "udp", port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const out = await lab.run(ns, ["ss", proto === "tcp" ? "-ltnH" : "-lunH", `sport = :${port}`]);
    if (out.trim() !== "") return;
    await Bun.sleep(50);
  }
  throw new Error(`nothing listening on ${proto}/${port} in ${ns}`);
}

const http = (over: Partial<HttpCheckParams>): CheckerSpec => ({
  kind: over.tls ? "SSL_GET" : "HTTP_GET",
  params: { connectIp: "127.0.0.1", connectPort: 80, connectTimeoutMs: 3000, tls: false, httpProtocol: "1.0", urls: [{ path: "/" }], ...over },
});

beforeAll(async () => {
  lab = createLab("lbt-ck-");
  [ns] = await lab.namespaces("srv");
  dir = mkdtempSync(join(tmpdir(), "lbt-ck-real-"));
  chmodSync(dir, 0o755);
  // Certificate for www.example.test (and nothing else), self-signed: also its own CA.
  await lab.run(ns, ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=www.example.test",
    "-addext", "subjectAltName=DNS:www.example.test", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")]);
  writeFileSync(join(dir, "index.html"), INDEX);
  writeFileSync(join(dir, "nginx.conf"), `
user root;
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp;
  uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
  server {
    listen 127.0.0.1:80;
    listen 127.0.0.1:443 ssl;
    server_name www.example.test;
    ssl_certificate ${dir}/cert.pem;
    ssl_certificate_key ${dir}/key.pem;
    root ${dir};
    location = /health { return 503 "draining\\n"; }
    location = /vhost { return 200 "host=$host\\n"; }
  }
}
`);
  lab.spawnIn(ns, ["nginx", "-p", dir, "-c", join(dir, "nginx.conf")]);
  lab.spawnIn(ns, ["dnsmasq", "-k", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--user=root", "--group=root",
    "--listen-address=127.0.0.1", "--bind-interfaces", "--port=53", `--pid-file=${dir}/dnsmasq.pid`,
    "--local=/example.test/", "--address=/www.example.test/10.1.2.3", "--mx-host=example.test,mail.example.test,10",
    "--txt-record=example.test,v=spf1 -all", "--host-record=v4only.example.test,10.1.2.4"]);
  lab.spawnIn(ns, [PYTHON, "-W", "ignore", "-m", "smtpd", "-n", "-c", "DebuggingServer", "127.0.0.1:25"]);
  // Count packets the checkers mark (fwmark 7), per protocol, on the way out.
  await lab.run(ns, ["nft", "-f", "-"], { stdin: `
table inet lbtck {
  chain out {
    type filter hook output priority 0;
    meta mark 7 tcp dport 80 counter comment "http"
    meta mark 7 tcp dport 443 counter comment "https"
    meta mark 7 udp dport 53 counter comment "dns"
    meta mark 7 icmp type echo-request counter comment "ping"
  }
}
` });
  await Promise.all([waitListening("tcp", 80), waitListening("tcp", 443), waitListening("udp", 53), waitListening("tcp", 25)]);
}, 60_000);

afterAll(async () => {
  await lab?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("HTTP_GET against nginx", () => {
  it("passes with the page's MD5 digest and the default 200-299", async () => {
    const r = await check(http({ urls: [{ path: "/index.html", digest: INDEX_MD5 }, { path: "/" }] }));
    expect(r).toMatchObject({ ok: true, reason: "GET /index.html: HTTP 200; GET /: HTTP 200" });
  });
  it("fails on 503, 404 and a wrong digest with the exact reason", async () => {
    expect((await check(http({ urls: [{ path: "/health" }] }))).reason).toBe("HTTP status 503 not in 200-299 for GET /health");
    expect((await check(http({ urls: [{ path: "/missing" }] }))).reason).toBe("HTTP status 404 not in 200-299 for GET /missing");
    const wrong = "0123456789abcdef0123456789abcdef";
    expect((await check(http({ urls: [{ path: "/index.html", digest: wrong }] }))).reason)
      .toBe(`MD5 digest ${INDEX_MD5} != expected ${wrong} for /index.html (${INDEX.length} body bytes)`);
  });
  it("sends the virtualhost as Host with each http_protocol (regex on the echoed host)", async () => {
    for (const httpProtocol of ["1.0", "1.0C", "1.1"] as const) {
      const r = await check(http({ httpProtocol, urls: [{ path: "/vhost", virtualhost: "www.example.test", regex: "^host=www\\.example\\.test$", regexOptions: ["multiline"] }] }));
      expect(r, httpProtocol).toMatchObject({ ok: true });
    }
  });
  it("bindto inside the namespace: a loopback source works, a foreign one fails with EADDRNOTAVAIL", async () => {
    expect(await check(http({ bindto: "127.0.0.9" }))).toMatchObject({ ok: true });
    expect((await check(http({ bindto: "10.9.9.9" }))).reason).toBe("bindto 10.9.9.9 failed: EADDRNOTAVAIL (Cannot assign requested address)");
  });
  it("connect refused when nothing listens on the port", async () => {
    expect((await check(http({ connectPort: 8080 }))).reason).toBe("connect to 127.0.0.1:8080 failed: ECONNREFUSED (Connection refused)");
  });
});

describe("SSL_GET against nginx", () => {
  it("does not verify the certificate by default (keepalived), and passes", async () => {
    expect(await check(http({ tls: true, connectPort: 443, urls: [{ path: "/index.html", digest: INDEX_MD5 }] }))).toMatchObject({ ok: true });
  });
  it("with verification and SNI: right name passes, wrong name fails as a name mismatch, no CA fails verification", async () => {
    const tlsOptions = { verifyPeer: true, ca: join(dir, "cert.pem") };
    const base = { tls: true, connectPort: 443, enableSni: true, tlsOptions };
    expect(await check(http({ ...base, urls: [{ path: "/", virtualhost: "www.example.test" }] }))).toMatchObject({ ok: true });
    const bad = await check(http({ ...base, urls: [{ path: "/", virtualhost: "wrong.example.test" }] }));
    expect(bad.ok).toBe(false);
    expect(bad.reason).toMatch(/^TLS certificate name mismatch: .*wrong\.example\.test/);
    const noCa = await check(http({ ...base, tlsOptions: { verifyPeer: true }, urls: [{ path: "/", virtualhost: "www.example.test" }] }));
    expect(noCa.reason).toMatch(/^TLS certificate verification failed: (DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)/);
  });
  it("TLS to a plain-HTTP port fails in the handshake", async () => {
    const r = await check(http({ tls: true, connectPort: 80 }));
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/^(TLS handshake failed|connection closed by peer in TLS handshake)/);
  });
});

describe("DNS_CHECK against dnsmasq", () => {
  const dns = (type: "A" | "AAAA" | "MX" | "TXT" | "SOA", name: string): CheckerSpec =>
    ({ kind: "DNS_CHECK", params: { connectIp: "127.0.0.1", connectPort: 53, connectTimeoutMs: 2000, type, name } });
  it("A, MX and TXT records answer", async () => {
    expect(await check(dns("A", "www.example.test"))).toMatchObject({ ok: true, reason: "DNS reply NOERROR with 1 answer" });
    expect(await check(dns("MX", "example.test"))).toMatchObject({ ok: true });
    expect(await check(dns("TXT", "example.test"))).toMatchObject({ ok: true });
  });
  it("NXDOMAIN and an empty answer fail with the reason", async () => {
    expect((await check(dns("A", "nope.example.test"))).reason).toBe("DNS reply RCODE NXDOMAIN (DNS A nope.example.test query to 127.0.0.1:53)");
    expect((await check(dns("AAAA", "v4only.example.test"))).reason).toBe("DNS reply has no answer (ANCOUNT 0) (DNS AAAA v4only.example.test query to 127.0.0.1:53)");
  });
});

describe("SMTP_CHECK against Python's smtpd", () => {
  it("passes banner, HELO and QUIT", async () => {
    const r = await check({ kind: "SMTP_CHECK", params: { heloName: "lbctl.test", hosts: [{ connectIp: "127.0.0.1", connectPort: 25, connectTimeoutMs: 3000 }] } });
    expect(r).toMatchObject({ ok: true });
    expect(r.reason).toMatch(/^SMTP ok: 127\.0\.0\.1:25 220 /);
  });
});

describe("TCP_CHECK and PING_CHECK inside the namespace", () => {
  it("TCP to nginx and ICMP echo to loopback", async () => {
    expect(await check({ kind: "TCP_CHECK", params: { connectIp: "127.0.0.1", connectPort: 443, connectTimeoutMs: 2000 } })).toMatchObject({ ok: true });
    expect(await check({ kind: "PING_CHECK", params: { connectIp: "127.0.0.1", connectPort: 0, connectTimeoutMs: 2000 } })).toMatchObject({ ok: true });
  });
});

describe("fwmark and bind_if (ffi sockets) against the real servers", () => {
  async function markedPackets(): Promise<Record<string, number>> {
    const out = await lab.run(ns, ["nft", "list", "chain", "inet", "lbtck", "out"]);
    const counts: Record<string, number> = {};
    for (const m of out.matchAll(/counter packets (\d+) bytes \d+ comment "(\w+)"/g)) counts[m[2]] = Number(m[1]);
    return counts;
  }
  it("marks every checker's packets with fwmark and still gets the right verdicts", async () => {
    expect(await markedPackets()).toEqual({ http: 0, https: 0, dns: 0, ping: 0 });
    expect(await check(http({ fwmark: 7, bindIf: "lo", urls: [{ path: "/index.html", digest: INDEX_MD5 }] }))).toMatchObject({ ok: true });
    expect(await check(http({ fwmark: 7, tls: true, connectPort: 443, enableSni: true, tlsOptions: { verifyPeer: true, ca: join(dir, "cert.pem") },
      urls: [{ path: "/", virtualhost: "www.example.test" }] }))).toMatchObject({ ok: true });
    expect(await check({ kind: "DNS_CHECK", params: { connectIp: "127.0.0.1", connectPort: 53, connectTimeoutMs: 2000, type: "A", name: "www.example.test", fwmark: 7 } }))
      .toMatchObject({ ok: true });
    expect(await check({ kind: "PING_CHECK", params: { connectIp: "127.0.0.1", connectPort: 0, connectTimeoutMs: 2000, fwmark: 7 } })).toMatchObject({ ok: true });
    const counts = await markedPackets();
    for (const proto of ["http", "https", "dns", "ping"]) expect(counts[proto], proto).toBeGreaterThan(0);
  });
  it("a wrong TLS name through the ffi path is still a name mismatch", async () => {
    const r = await check(http({ fwmark: 7, tls: true, connectPort: 443, enableSni: true, tlsOptions: { verifyPeer: true, ca: join(dir, "cert.pem") },
      urls: [{ path: "/", virtualhost: "other.example.test" }] }));
    expect(r.reason).toMatch(/^TLS certificate name mismatch: .*other\.example\.test/);
  });
});

