// A strict parser of the Prometheus text exposition format 0.0.4, written from the spec
// (prometheus/docs "Exposition formats"), for testing what lbctl renders. No npm package for
// it is available offline. It throws on anything Prometheus would reject or mis-read:
// bad names, bad escapes, a TYPE after samples, families split apart, duplicate series,
// histograms whose buckets are not cumulative or disagree with _count.

export interface Sample { name: string; labels: Record<string, string>; value: number }
export interface MetricFamily { name: string; type: string; help: string | null; samples: Sample[] }

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseValue(s: string, where: string): number {
  if (s === "NaN") return NaN;
  if (s === "+Inf" || s === "Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`${where}: bad value '${s}'`);
  return Number(s);
}

function unescapeHelp(s: string, where: string): string {
  return s.replace(/\\(.)/g, (_m, c: string) => {
    if (c === "\\") return "\\";
    if (c === "n") return "\n";
    throw new Error(`${where}: bad escape \\${c} in HELP`);
  });
}

/** Parses `{a="x",b="y"}` starting at s[i] === "{"; returns the labels and the index after "}". */
function parseLabels(s: string, i: number, where: string): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  i++;
  for (;;) {
    if (s[i] === "}") return [labels, i + 1];
    const eq = s.indexOf("=", i);
    if (eq < 0) throw new Error(`${where}: label without '='`);
    const name = s.slice(i, eq).trim();
    if (!LABEL_NAME.test(name) || name.startsWith("__")) throw new Error(`${where}: bad label name '${name}'`);
    if (name in labels) throw new Error(`${where}: label '${name}' twice`);
    i = eq + 1;
    if (s[i] !== "\"") throw new Error(`${where}: label value of '${name}' is not quoted`);
    i++;
    let v = "";
    for (;;) {
      const c = s[i];
      if (c === undefined) throw new Error(`${where}: unterminated label value`);
      if (c === "\n") throw new Error(`${where}: raw newline in a label value`);
      if (c === "\"") { i++; break; }
      if (c === "\\") {
        const n = s[i + 1];
        if (n === "\\") v += "\\";
        else if (n === "\"") v += "\"";
        else if (n === "n") v += "\n";
        else throw new Error(`${where}: bad escape \\${n} in a label value`);
        i += 2;
        continue;
      }
      v += c;
      i++;
    }
    labels[name] = v;
    if (s[i] === ",") { i++; continue; }
    if (s[i] !== "}") throw new Error(`${where}: expected ',' or '}' after label '${name}'`);
  }
}

function familyOf(sampleName: string, families: Map<string, MetricFamily>): string {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (sampleName.endsWith(suffix)) {
      const base = sampleName.slice(0, -suffix.length);
      const f = families.get(base);
      if (f && (f.type === "histogram" || (f.type === "summary" && suffix !== "_bucket"))) return base;
    }
  }
  return sampleName;
}

export function parseExposition(text: string): Map<string, MetricFamily> {
  if (!text.endsWith("\n")) throw new Error("the exposition must end with a newline");
  const families = new Map<string, MetricFamily>();
  const finished = new Set<string>();
  const seen = new Set<string>();
  let current: string | null = null;
  const lines = text.split("\n");
  lines.pop();
  lines.forEach((line, n) => {
    const where = `line ${n + 1}`;
    if (line.trim() === "") return;
    const family = (name: string): MetricFamily => {
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name '${name}'`);
      if (finished.has(name)) throw new Error(`${where}: family ${name} appears again after another family`);
      if (current !== null && current !== name) finished.add(current);
      current = name;
      let f = families.get(name);
      if (!f) { f = { name, type: "untyped", help: null, samples: [] }; families.set(name, f); }
      return f;
    };
    if (line.startsWith("#")) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (!m) return; // a plain comment
      const f = family(m[2]);
      if (m[1] === "HELP") {
        if (f.help !== null) throw new Error(`${where}: second HELP for ${f.name}`);
        f.help = unescapeHelp(m[3] ?? "", where);
      } else {
        const t = (m[3] ?? "").trim();
        if (!TYPES.has(t)) throw new Error(`${where}: unknown type '${t}'`);
        if (f.samples.length) throw new Error(`${where}: TYPE for ${f.name} after its samples`);
        if (f.type !== "untyped") throw new Error(`${where}: second TYPE for ${f.name}`);
        f.type = t;
      }
      return;
    }
    const nm = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (!nm) throw new Error(`${where}: no metric name`);
    const name = nm[0];
    let i = name.length;
    let labels: Record<string, string> = {};
    if (line[i] === "{") [labels, i] = parseLabels(line, i, where);
    const rest = line.slice(i);
    const vm = /^ +(\S+)(?: +(-?\d+))?$/.exec(rest);
    if (!vm) throw new Error(`${where}: expected ' VALUE [TIMESTAMP]', got '${rest}'`);
    const value = parseValue(vm[1], where);
    const f = family(familyOf(name, families));
    const key = name + JSON.stringify(Object.entries(labels).sort());
    if (seen.has(key)) throw new Error(`${where}: duplicate series ${name}${JSON.stringify(labels)}`);
    seen.add(key);
    if (f.type === "counter" && !(value >= 0)) throw new Error(`${where}: counter ${name} is ${value}`);
    if (f.type === "histogram" && name.endsWith("_bucket") && !("le" in labels)) throw new Error(`${where}: bucket without le`);
    f.samples.push({ name, labels, value });
  });
  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return families;
}

function checkHistogram(f: MetricFamily): void {
  const groups = new Map<string, Sample[]>();
  for (const s of f.samples) {
    const { le: _le, ...rest } = s.labels;
    const k = JSON.stringify(Object.entries(rest).sort());
    groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  for (const [k, samples] of groups) {
    const buckets = samples.filter((s) => s.name === `${f.name}_bucket`).map((s) => ({ le: parseValue(s.labels.le, f.name), v: s.value }));
    const count = samples.find((s) => s.name === `${f.name}_count`);
    const sum = samples.find((s) => s.name === `${f.name}_sum`);
    if (!count || !sum) throw new Error(`${f.name}${k}: histogram without _count or _sum`);
    const sorted = [...buckets].sort((a, b) => a.le - b.le);
    if (sorted[sorted.length - 1]?.le !== Infinity) throw new Error(`${f.name}${k}: no +Inf bucket`);
    for (let i = 1; i < sorted.length; i++) if (sorted[i].v < sorted[i - 1].v) throw new Error(`${f.name}${k}: buckets not cumulative`);
    if (sorted[sorted.length - 1].v !== count.value) throw new Error(`${f.name}${k}: +Inf bucket != _count`);
  }
}

/** The value of one series, or undefined. */
export function valueOf(fams: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of fams.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      const keys = Object.keys(s.labels);
      if (keys.length === Object.keys(labels).length && keys.every((k) => s.labels[k] === labels[k])) return s.value;
    }
  }
  return undefined;
}
