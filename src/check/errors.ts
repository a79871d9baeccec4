// Turning socket/system errors into the "ECONNREFUSED (Connection refused)" form operators know from strerror.

const STRERROR: Record<string, string> = {
  ECONNREFUSED: "Connection refused",
  ECONNRESET: "Connection reset by peer",
  ECONNABORTED: "Software caused connection abort",
  ETIMEDOUT: "Connection timed out",
  EHOSTUNREACH: "No route to host",
  EHOSTDOWN: "Host is down",
  ENETUNREACH: "Network is unreachable",
  ENETDOWN: "Network is down",
  EADDRNOTAVAIL: "Cannot assign requested address",
  EADDRINUSE: "Address already in use",
  EAFNOSUPPORT: "Address family not supported by protocol",
  EPIPE: "Broken pipe",
  ENOTCONN: "Transport endpoint is not connected",
  EMSGSIZE: "Message too long",
  EACCES: "Permission denied",
  EPERM: "Operation not permitted",
  EINVAL: "Invalid argument",
  ENOENT: "No such file or directory",
  EISDIR: "Is a directory",
  ENODEV: "No such device",
  EPROTO: "Protocol error",
};

/** Thrown inside a checker run to end it with a failure reason; caught by the checker's own wrapper. */
export class CheckFailure extends Error {
  constructor(readonly reason: string, readonly detail?: Record<string, string | number | boolean>) {
    super(reason);
  }
}

function errnoCode(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/** "ECONNREFUSED (Connection refused)" from a Node-style system error; the error's message otherwise. */
export function describeError(err: unknown): string {
  const code = errnoCode(err);
  if (code && STRERROR[code]) return `${code} (${STRERROR[code]})`;
  if (code) return `${code} (${err instanceof Error ? err.message : String(err)})`;
  return err instanceof Error ? err.message : String(err);
}

export function errorCode(err: unknown): string | undefined {
  return errnoCode(err);
}
