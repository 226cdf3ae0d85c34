// 81_inspect.js: how console output is formatted, following Node's
// util.inspect closely enough that logs read the same as under wrangler dev.
// A lazy unit: workers that never log never load it.

function inspectValue(v, depth, seen, top) {
  switch (typeof v) {
    case "string": return top ? v : quoteString(v);
    case "number": return Object.is(v, -0) ? "-0" : String(v);
    case "bigint": return `${v}n`;
    case "undefined": return "undefined";
    case "boolean": return String(v);
    case "symbol": return v.toString();
    case "function": {
      const name = v.name ? `: ${v.name}` : " (anonymous)";
      const kind = /^class[\s{]/.test(Function.prototype.toString.call(v)) ? "class" : "Function";
      return kind === "class" ? `[class ${v.name || "(anonymous)"}]` : `[${kind}${name}]`;
    }
  }
  if (v === null) return "null";
  if (seen.includes(v)) return "[Circular *1]";
  if (v instanceof Error) {
    const stack = v.stack ? String(v.stack).replace(/\n+$/, "") : "";
    return `${v.name}: ${v.message}` + (stack ? "\n" + stack : "");
  }
  if (v instanceof Date) return isNaN(v) ? "Invalid Date" : v.toISOString();
  if (v instanceof RegExp) return String(v);
  if (v instanceof Promise) return "Promise { <pending> }";
  if (depth > 2) return Array.isArray(v) ? "[Array]" : "[Object]";
  seen = seen.concat([v]);
  const inner = (x) => inspectValue(x, depth + 1, seen, false);
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    const items = v.slice(0, 100).map(inner);
    if (v.length > 100) items.push(`... ${v.length - 100} more items`);
    return wrapItems("[", items, "]");
  }
  if (v instanceof Map) {
    const items = [...v].map(([k, x]) => `${inner(k)} => ${inner(x)}`);
    return `Map(${v.size}) ` + (items.length ? wrapItems("{", items, "}") : "{}");
  }
  if (v instanceof Set) {
    const items = [...v].map(inner);
    return `Set(${v.size}) ` + (items.length ? wrapItems("{", items, "}") : "{}");
  }
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    const items = Array.from(v.subarray(0, 100), (x) => String(x));
    if (v.length > 100) items.push(`... ${v.length - 100} more items`);
    return `${v.constructor.name}(${v.length}) ` + (items.length ? wrapItems("[", items, "]") : "[]");
  }
  if (v instanceof ArrayBuffer) return `ArrayBuffer { byteLength: ${v.byteLength} }`;
  const keys = Object.keys(v);
  const ctor = Object.getPrototypeOf(v);
  let prefix = "";
  if (ctor === null) prefix = "[Object: null prototype] ";
  else if (ctor.constructor && ctor.constructor !== Object && ctor.constructor.name) prefix = ctor.constructor.name + " ";
  if (keys.length === 0) return prefix + "{}";
  const items = keys.map((k) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : quoteString(k)}: ${inner(v[k])}`);
  return prefix + wrapItems("{", items, "}");
}

function wrapItems(open, items, close) {
  const one = `${open} ${items.join(", ")} ${close}`;
  if (one.length <= 72 && !one.includes("\n")) return one;
  return `${open}\n  ${items.join(",\n").replace(/\n/g, "\n  ")}\n${close}`;
}

function quoteString(s) {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  return q + s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(new RegExp(q, "g"), "\\" + q) + q;
}

function formatLogArgs(args) {
  let out = [];
  let i = 0;
  if (typeof args[0] === "string" && args[0].includes("%")) {
    let fmt = args[0];
    i = 1;
    fmt = fmt.replace(/%[sdifjoOc%]/g, (m) => {
      if (m === "%%") return "%";
      if (i >= args.length) return m;
      const a = args[i++];
      switch (m) {
        case "%s": return typeof a === "string" ? a : inspectValue(a, 1, [], false);
        case "%d": case "%i": return typeof a === "object" ? "NaN" : String(m === "%i" ? parseInt(a) : Number(a));
        case "%f": return String(parseFloat(a));
        case "%j": try { return JSON.stringify(a); } catch { return "[Circular]"; }
        case "%o": case "%O": return inspectValue(a, 0, [], false);
        case "%c": return "";
      }
      return m;
    });
    out.push(fmt);
  }
  for (; i < args.length; i++) out.push(inspectValue(args[i], 0, [], true));
  return out.join(" ");
}

