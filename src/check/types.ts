// Parameters of the health checkers, in keepalived.conf(5) terms (keepalived 2.2.7).
// The config layer maps keepalived keywords into these; every field names its keyword and default.
// Times are milliseconds here (keepalived's <TIMER> values are seconds with decimals).

/** What every checker returns for one run. `reason` is meant for an operator reading a log line. */
export interface CheckResult {
  ok: boolean;
  /** Human, actionable: what was tried, what happened (errno name and text, bytes received, expected vs got). */
  reason: string;
  /** Time from the start of the run to its verdict. */
  latencyMs: number;
  /** Checker-specific extras (status code, digest, reply bytes, exit code...). */
  detail?: Record<string, string | number | boolean>;
  /** misc_dynamic / FILE_CHECK dynamic: the weight this result asks for (see vs-state.ts). */
  weight?: number;
}

/** Timing and retry policy of one checker (common checker keywords). */
export interface CheckerPolicy {
  /** `retry`: failures tolerated before the checker goes down. Default 1; DNS_CHECK 3; MISC_CHECK 0. */
  retry: number;
  /** `delay_loop`: interval between checks. Default 60 s. */
  delayLoopMs: number;
  /** `delay_before_retry`: delay after a failure while retrying. Default 3 s for HTTP_GET/SSL_GET,
   *  delay_loop for DNS_CHECK, 1 s otherwise. */
  delayBeforeRetryMs: number;
  /** `warmup`: the first check runs after a random delay in [0, warmup]. Default delay_loop; 0 disables. */
  warmupMs: number;
  /** `alpha`: start in the failed state, a success is needed to go up. Default off (start up). */
  alpha: boolean;
  /** `log_all_failures` (or global `checker_log_all_failures`): log every failure, not only the one
   *  that takes the checker down. Default off. */
  logAllFailures: boolean;
}

export type CheckerKind = "TCP_CHECK" | "HTTP_GET" | "SSL_GET" | "SMTP_CHECK" | "DNS_CHECK" | "MISC_CHECK" |
  "UDP_CHECK" | "PING_CHECK" | "FILE_CHECK";

/** Defaults of CheckerPolicy per checker kind, from keepalived.conf(5). */
export function defaultPolicy(kind: CheckerKind, delayLoopMs = 60_000): CheckerPolicy {
  const retry = kind === "DNS_CHECK" ? 3 : kind === "MISC_CHECK" ? 0 : 1;
  const delayBeforeRetryMs = kind === "HTTP_GET" || kind === "SSL_GET" ? 3_000 : kind === "DNS_CHECK" ? delayLoopMs : 1_000;
  return { retry, delayLoopMs, delayBeforeRetryMs, warmupMs: delayLoopMs, alpha: false, logAllFailures: false };
}

/** Connection options shared by the network checkers. */
export interface ConnectOptions {
  /** `connect_ip`: default the real server's address. */
  connectIp: string;
  /** `connect_port`: default the real server's port. */
  connectPort: number;
  /** `bindto`: source address. Default: chosen by the kernel. */
  bindto?: string;
  /** `bind_port`: source port. Default: ephemeral. */
  bindPort?: number;
  /** `bind_if`: SO_BINDTODEVICE, and the scope of a link-local bindto. Sockets with bind_if or fwmark are
   *  made through ffi (sockopts.ts); the others through Bun's node:net / node:dgram. */
  bindIf?: string;
  /** `fwmark`: SO_MARK on the checker's packets. */
  fwmark?: number;
  /** `connect_timeout`: bounds the WHOLE exchange (connect, send, receive). Default 5 s; 0 means 1 s. */
  connectTimeoutMs: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

export type TcpCheckParams = ConnectOptions;

/** `status_code`: list of codes or inclusive ranges. Default 200-299. */
export interface StatusRange { from: number; to: number }

export interface HttpUrl {
  /** `path`. */
  path: string;
  /** `digest`: lowercase hex MD5 of the body (as genhash prints). Optional. */
  digest?: string;
  /** `status_code`: default [200-299]. */
  statusCodes?: StatusRange[];
  /** `virtualhost`: Host header (and SNI when enabled). The config layer resolves keepalived's fallback
   *  (url's, else the real server's, else the virtual server's); without any, the connect address. */
  virtualhost?: string;
  /** `regex`: searched in the body (JavaScript RegExp syntax here, keepalived uses PCRE2). */
  regex?: string;
  /** `regex_no_match`: a match fails the check. */
  regexNoMatch?: boolean;
  /** `regex_options`: the subset JavaScript supports: caseless -> i, multiline -> m, dotall -> s. */
  regexOptions?: string[];
  /** `regex_min_offset` / `regex_max_offset`: match must START within [min, max] of the body. */
  regexMinOffset?: number;
  regexMaxOffset?: number;
}

/** `SSL { ca certificate key password }` global block. keepalived does not verify the server certificate
 *  by default; `verifyPeer` is an lbctl extension that verifies the chain against `ca` (or the system
 *  store) and the name against sni_name/virtualhost. */
export interface TlsOptions {
  ca?: string;
  certificate?: string;
  key?: string;
  password?: string;
  verifyPeer?: boolean;
}

export interface HttpCheckParams extends ConnectOptions {
  /** HTTP_GET (plain) or SSL_GET (TLS). */
  tls: boolean;
  /** `url` blocks, checked in order; all must pass. */
  urls: HttpUrl[];
  /** `http_protocol`: "1.0" (default), "1.0C" (1.0 + Connection: close), "1.1" (with Connection: close). */
  httpProtocol: "1.0" | "1.0C" | "1.1";
  /** `enable_sni`: send SNI (name: sni_name, else the virtualhost). Default off. */
  enableSni?: boolean;
  /** lbctl: explicit SNI name. */
  sniName?: string;
  /** `fast_recovery`: when recovering, check all urls back to back instead of one per delay_loop. */
  fastRecovery?: boolean;
  tlsOptions?: TlsOptions;
}

export interface SmtpHost extends ConnectOptions {}

export interface SmtpCheckParams {
  /** `helo_name`: default the local host name. */
  heloName: string;
  /** One or more `host` blocks (keepalived 2.2.7 deprecates them in favour of several SMTP_CHECKs, but
   *  still accepts them); every host must pass. Without any, the real server with connect options. */
  hosts: SmtpHost[];
}

export type DnsType = "A" | "NS" | "CNAME" | "SOA" | "MX" | "TXT" | "AAAA";

export interface DnsCheckParams extends ConnectOptions {
  /** `type`: default SOA. */
  type: DnsType;
  /** `name`: default "." */
  name: string;
}

export interface MiscCheckParams {
  /** `misc_path`: run through `sh -c`. */
  path: string;
  /** `misc_timeout`: default delay_loop. */
  timeoutMs: number;
  /** `misc_dynamic`: exit 2..255 sets the real server's weight to code-2. */
  dynamic: boolean;
  /** `user USERNAME [GROUPNAME]`: run as this user (numeric ids resolved by the config layer). */
  uid?: number;
  gid?: number;
}

export interface UdpCheckParams extends ConnectOptions {
  /** `payload`: bytes to send. Default: random bytes (keepalived sends a random payload). */
  payload?: Uint8Array;
  /** `require_reply`: a reply must arrive. Without it, success is "no ICMP error within connect_timeout". */
  requireReply: boolean;
  /** `require_reply HEX_STR`: expected reply prefix; `mask` bits set mean "don't care" (the X nibbles). */
  replyData?: Uint8Array;
  replyMask?: Uint8Array;
  /** `min_reply_length`: default 0. `max_reply_length`: default 255. */
  minReplyLength: number;
  maxReplyLength: number;
}

export interface PingCheckParams extends ConnectOptions {}

export interface FileCheckParams {
  /** The `file` of the referenced `track_file`. */
  file: string;
  /** FILE_CHECK `weight` (default: the track_file's weight, default 1) and `reverse`. */
  weight: number;
  reverse: boolean;
  /** `dynamic`: value*weight is added to the real server's weight. */
  dynamic: boolean;
}

/** One configured checker with everything needed to run it. */
export type CheckerSpec =
  | { kind: "TCP_CHECK"; params: TcpCheckParams }
  | { kind: "HTTP_GET" | "SSL_GET"; params: HttpCheckParams }
  | { kind: "SMTP_CHECK"; params: SmtpCheckParams }
  | { kind: "DNS_CHECK"; params: DnsCheckParams }
  | { kind: "MISC_CHECK"; params: MiscCheckParams }
  | { kind: "UDP_CHECK"; params: UdpCheckParams }
  | { kind: "PING_CHECK"; params: PingCheckParams }
  | { kind: "FILE_CHECK"; params: FileCheckParams };
