// A real SMTP server for the alert tests: Python's smtpd (still in python3.11 on Debian 12),
// on loopback, printing each message it accepts as one JSON line (envelope and data).
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export interface Received { peer: string; mailfrom: string; rcpttos: string[]; data: string }

const SERVER = `
import asyncore, json, smtpd, sys
class Sink(smtpd.SMTPServer):
    def process_message(self, peer, mailfrom, rcpttos, data, **kw):
        print(json.dumps({"peer": peer[0], "mailfrom": mailfrom, "rcpttos": rcpttos, "data": data if isinstance(data, str) else data.decode()}), flush=True)
s = Sink((sys.argv[1], 0), None, decode_data=True)
print("READY %d" % s.socket.getsockname()[1], flush=True)
asyncore.loop()
`;

export interface SmtpSink { port: number; messages: Received[]; waitFor(n: number, timeoutMs?: number): Promise<Received[]>; stop(): void; proc: ChildProcess }

/** Starts the sink on `host` (127.0.0.1 unless given) and resolves once it listens. */
export function startSmtpSink(host = "127.0.0.1", spawnCmd: string[] = []): Promise<SmtpSink> {
  const proc = spawn(spawnCmd[0] ?? "python3", [...spawnCmd.slice(1), "-W", "ignore", "-u", "-c", SERVER, host], { stdio: ["ignore", "pipe", "pipe"] });
  const messages: Received[] = [];
  const waiters: (() => void)[] = [];
  let stderr = "";
  proc.stderr!.on("data", (d) => { stderr += String(d); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill("SIGKILL"); reject(new Error(`SMTP sink did not start: ${stderr}`)); }, 10_000);
    proc.on("exit", (code) => { clearTimeout(timer); reject(new Error(`SMTP sink exited (${code}): ${stderr}`)); });
    createInterface({ input: proc.stdout! }).on("line", (line) => {
      const ready = /^READY (\d+)$/.exec(line);
      if (ready) {
        clearTimeout(timer);
        resolve({
          port: Number(ready[1]), messages, proc,
          waitFor(n, timeoutMs = 10_000) {
            return new Promise((res, rej) => {
              const t = setTimeout(() => rej(new Error(`SMTP sink got ${messages.length} of ${n} messages`)), timeoutMs);
              const check = () => { if (messages.length >= n) { clearTimeout(t); res(messages.slice(0, n)); } else waiters.push(check); };
              check();
            });
          },
          stop() { if (proc.exitCode === null) proc.kill("SIGKILL"); },
        });
        return;
      }
      messages.push(JSON.parse(line) as Received);
      for (const w of waiters.splice(0)) w();
    });
  });
}

/** Header name -> value of a received message, and its body. */
export function parseMessage(data: string): { headers: Record<string, string>; body: string } {
  const [head, ...rest] = data.split("\n\n");
  const headers: Record<string, string> = {};
  for (const line of head!.split("\n")) {
    const i = line.indexOf(": ");
    if (i > 0) headers[line.slice(0, i)] = line.slice(i + 2);
  }
  return { headers, body: rest.join("\n\n") };
}
