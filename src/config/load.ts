// Loading a configuration, start to end: read the file (keepalived.conf or TOML), build the
// model through the root spec, fill defaults, then run the validations that need the whole
// configuration and the machine. Never throws: every problem, including an unreadable file,
// is a Diagnostic, so `lbctl check` can always print a list and an exit code.
import { readFileSync, statSync } from "node:fs";
import { Diagnostics } from "./diagnostics.ts";
import type { CheckEnv } from "./env.ts";
import { defaultConfigId, fsGlob } from "./conf-files.ts";
import { parseKeepalivedConf, parseKeepalivedText } from "./lexer.ts";
import { machineEnv } from "./machine-env.ts";
import { parseConfBlock, withDefaults, type Model } from "./schema.ts";
import { rootSpec } from "./spec/root.ts";
import { warnUnsupported } from "./support-check.ts";
import { parseTomlConfig } from "./toml.ts";
import { validateLvs } from "./validate-lvs.ts";
import { validateNetns } from "./validate-netns.ts";
import { validateVrrp } from "./validate-vrrp.ts";

export type ConfigFormat = "keepalived" | "toml";

export interface LoadedConfig {
  /** What the file sets, before defaults (what `lbctl convert` writes). */
  model: Model;
  /** Every setting with its default filled in (what the daemon runs). */
  effective: Model;
  diag: Diagnostics;
  format: ConfigFormat;
  /** Every file read: the configuration and its includes. */
  files: string[];
  /** A TOML file with nothing but comments (the RPM's /etc/lbctl/lbctl.toml): not an error, and no warning. */
  setsNothing: boolean;
}

export interface LoadOptions {
  /** keepalived's `--config-id`: selects `@ID` conditional lines; the host name up to its first '.' by default. */
  configId?: string;
  /** The machine checks run against; the real machine when absent. */
  env?: CheckEnv;
  /** Force a front end instead of guessing from the name and content. */
  format?: ConfigFormat;
  /** `lbctl daemon --namespace NS` (keepalived -s): replaces the file's net_namespace. */
  namespace?: string;
  /** The namespace the daemon already runs in: at a reload its name need not exist any more (`ip netns del` leaves a namespace in use alive). */
  enteredNamespace?: string;
}

export const TOML_CONFIG_PATH = "/etc/lbctl/lbctl.toml";
export const KEEPALIVED_CONFIG_PATH = "/etc/keepalived/keepalived.conf";

/** What is known of a default path: absent, its text, or why it could not be read. */
export type FileProbe = { exists: false } | { exists: true; text: string } | { exists: true; error: string };

export type ConfigChoice = { path: string; reason: string } | { error: string };

/**
 * True when TOML text has no statement: only blank lines and comments. The RPM ships
 * /etc/lbctl/lbctl.toml like that, and it must not hide an unchanged keepalived.conf.
 */
export function setsNothing(tomlText: string): boolean {
  for (const line of tomlText.split("\n")) {
    const t = line.trim();
    if (t !== "" && !t.startsWith("#")) return false;
  }
  return true;
}

/**
 * Which configuration a command reads when it is not given one: -f FILE; else lbctl.toml if it
 * exists and sets something (an unreadable one counts, so its error is reported, not skipped);
 * else keepalived.conf if it exists; else an error naming both.
 */
export function chooseConfig(file: string | undefined, toml: FileProbe, keepalived: FileProbe): ConfigChoice {
  if (file !== undefined) return { path: file, reason: "given with -f" };
  if (toml.exists && "error" in toml) return { path: TOML_CONFIG_PATH, reason: `it exists (${toml.error}), so it comes before ${KEEPALIVED_CONFIG_PATH}` };
  if (toml.exists && !setsNothing(toml.text)) return { path: TOML_CONFIG_PATH, reason: `it sets something, so it comes before ${KEEPALIVED_CONFIG_PATH}` };
  const tomlState = toml.exists ? `${TOML_CONFIG_PATH} sets nothing` : `${TOML_CONFIG_PATH} does not exist`;
  if (keepalived.exists) return { path: KEEPALIVED_CONFIG_PATH, reason: tomlState };
  return { error: `no configuration: ${tomlState} (only comments count as nothing) and ${KEEPALIVED_CONFIG_PATH} does not exist; write one of them or give a file with -f FILE` };
}

/**
 * The filesystem side of chooseConfig. Only lbctl.toml's text matters (whether it has a statement);
 * keepalived.conf need only be there, its errors come when it is read.
 */
export function probeFile(path: string, readText = true): FileProbe {
  try {
    const st = statSync(path);
    if (!readText) return { exists: true, text: "" };
    // A huge file has a statement; it is not read here.
    if (!st.isFile()) return { exists: true, error: st.isDirectory() ? "is a directory" : "not a regular file" };
    if (st.size > MAX_CONFIG_BYTES) return { exists: true, error: `${st.size} bytes is too large for a configuration` };
    return { exists: true, text: readFileSync(path, "utf8") };
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ENOENT" || code === "ENOTDIR") return { exists: false };
    return { exists: true, error: errnoText(e) };
  }
}

/** chooseConfig on this machine's files. */
export function defaultConfig(file?: string): ConfigChoice {
  if (file !== undefined) return chooseConfig(file, { exists: false }, { exists: false });
  return chooseConfig(undefined, probeFile(TOML_CONFIG_PATH), probeFile(KEEPALIVED_CONFIG_PATH, false));
}

/**
 * `.toml` files are TOML; otherwise TOML is recognised by its first statement being a
 * table header or `key = value`, which keepalived.conf never starts with.
 */
export function detectFormat(fileName: string, text: string): ConfigFormat {
  if (fileName.endsWith(".toml")) return "toml";
  // Line by line up to the first statement: splitting a 5 MB file whole cost 12 ms.
  for (let start = 0; start < text.length;) {
    const nl = text.indexOf("\n", start);
    const end = nl < 0 ? text.length : nl;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (line === "" || line.startsWith("#") || line.startsWith("!")) continue;
    return /^\[/.test(line) || /^[A-Za-z0-9_."'-]+\s*=/.test(line) ? "toml" : "keepalived";
  }
  return "keepalived";
}

function errnoText(e: unknown): string {
  const code = (e as { code?: string }).code;
  switch (code) {
    case "ENOENT": return "no such file";
    case "EACCES": case "EPERM": return "permission denied";
    case "EISDIR": return "is a directory";
    case "ELOOP": return "too many levels of symbolic links";
    case "ENOTDIR": return "not a directory";
    case "EIO": return "input/output error";
    default: return e instanceof Error ? e.message : String(e);
  }
}

/** Far above any real configuration (the 10,000-instance benchmark file is 7 MB). */
export const MAX_CONFIG_BYTES = 64 * 1024 * 1024;

/** Reads the main file; undefined (with a diagnostic) when it cannot be used. */
function readMain(path: string, diag: Diagnostics): string | undefined {
  try {
    const st = statSync(path);
    if (st.isDirectory()) { diag.error(`cannot read ${path}: is a directory`); return undefined; }
    // A FIFO would block and a device never end: only regular files are configurations.
    if (!st.isFile()) { diag.error(`cannot read ${path}: not a regular file`); return undefined; }
    if (st.size > MAX_CONFIG_BYTES) { diag.error(`cannot read ${path}: ${st.size} bytes is too large for a configuration`); return undefined; }
    return readFileSync(path, "utf8");
  } catch (e) {
    diag.error(`cannot read ${path}: ${errnoText(e)}`);
    return undefined;
  }
}

export function loadConfig(path: string, opts: LoadOptions = {}): LoadedConfig {
  const diag = new Diagnostics();
  const text = readMain(path, diag);
  if (text === undefined) return { model: {}, effective: withDefaults({}, rootSpec), diag, format: opts.format ?? detectFormat(path, ""), files: [], setsNothing: false };
  return loadFrom(text, path, opts, diag, true);
}

/** Loads configuration text that is not (or not only) on disk; includes still read files. */
export function loadConfigText(text: string, fileName: string, opts: LoadOptions = {}): LoadedConfig {
  return loadFrom(text, fileName, opts, new Diagnostics(), false);
}

function loadFrom(text: string, fileName: string, opts: LoadOptions, diag: Diagnostics, onDisk: boolean): LoadedConfig {
  const format = opts.format ?? detectFormat(fileName, text);
  const files = [fileName];
  const empty = format === "toml" && setsNothing(text);
  let model: Model = {};
  try {
    if (text.includes("\0")) {
      diag.error(`${fileName} is not a text file (it contains NUL bytes)`, { file: fileName, line: lineOf(text, text.indexOf("\0")), col: 1 });
    } else if (format === "toml") {
      model = parseTomlConfig(text, fileName, diag) ?? {};
    } else {
      // The main file's text is already in hand; includes are read from disk and listed.
      const readFile = (p: string): string => {
        if (p === fileName) return text;
        const st = statSync(p);
        if (!st.isFile()) throw new Error(st.isDirectory() ? "is a directory" : "not a regular file");
        if (st.size > MAX_CONFIG_BYTES) throw new Error(`${st.size} bytes is too large for a configuration`);
        const t = readFileSync(p, "utf8");
        if (!files.includes(p)) files.push(p);
        return t;
      };
      const tree = onDisk
        ? parseKeepalivedConf(fileName, { configId: opts.configId, diag, readFile })
        : parseKeepalivedText(text, fileName, { configId: opts.configId ?? defaultConfigId(), diag, readFile, glob: fsGlob, cwd: process.cwd() });
      model = parseConfBlock(tree, rootSpec, { diag, where: "the top level" });
    }
    // Keywords lbctl accepts but does not act on are said so, never silently ignored (support.ts).
    warnUnsupported(model, diag, format);
    const effective = withDefaults(model, rootSpec);
    if (opts.namespace !== undefined) effective.net_namespace = opts.namespace;
    validateWhole(effective, opts.env ?? machineEnv(), diag, fileName, empty, opts.enteredNamespace);
    return { model, effective, diag, format, files, setsNothing: empty };
  } catch (e) {
    // A bug in a check must not hide the other diagnostics behind a stack trace.
    diag.error(`internal error while reading ${fileName}: ${e instanceof Error ? e.message : String(e)}`);
    return { model, effective: withDefaults({}, rootSpec), diag, format, files, setsNothing: false };
  }
}

function lineOf(text: string, pos: number): number {
  let n = 1;
  for (let i = 0; i < pos; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

/** Rules that need the whole, defaulted configuration and the machine. */
function validateWhole(effective: Model, env: CheckEnv, diag: Diagnostics, fileName: string, empty: boolean, enteredNamespace?: string): void {
  // First: it tells env which namespace's interfaces the other checks look at.
  validateNetns(effective, env, diag, fileName, enteredNamespace);
  validateVrrp(effective, env, diag);
  validateLvs(effective, env, diag);
  // A file that reads cleanly but sets up nothing is usually the wrong file or a lost include.
  const any = (k: string) => Object.keys((effective[k] as object | undefined) ?? {}).length > 0;
  // A TOML file of comments only is the shipped example, said so by `lbctl check`.
  if (!empty && !diag.hasErrors && !any("vrrp_instance") && !any("virtual_server") && !any("vrrp_script") && !any("static_ipaddress") && !any("static_routes") && !any("static_rules")) {
    diag.warning("nothing to run: no vrrp_instance, virtual_server or static address, route or rule is configured", { file: fileName, line: 1, col: 1 });
  }
}
