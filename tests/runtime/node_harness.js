// Test harness: evaluates batches of runtime calls in node for tests/runtime.
// Reads one JSON request per line on stdin, writes one JSON reply per line.
//   {"load": name, "source": js}            -> defines context `name`
//   {"ctx": name, "calls": [[fn, [args]]]}  -> [["ok", value] | ["err", message]]
//   {"ctx": name, "grid": fn, "xs": [...], "ys": [...]} -> same, row-major fn(x, y)
// Values use JSON plus {"$sm": "missing" | "inf" | "-inf" | "nan"}.
"use strict";
const vm = require("vm");
const readline = require("readline");

const contexts = Object.create(null);

// Like JSON.parse: "__proto__" becomes an own member, not the prototype.
function define(o, k, v) {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

function decode(v) {
  if (Array.isArray(v)) return v.map(decode);
  if (v !== null && typeof v === "object") {
    if (Object.prototype.hasOwnProperty.call(v, "$sm")) {
      switch (v.$sm) {
        case "missing": return undefined;
        case "inf": return Infinity;
        case "-inf": return -Infinity;
        case "nan": return NaN;
      }
      throw new Error("bad tag " + v.$sm);
    }
    const o = {};
    for (const k of Object.keys(v)) define(o, k, decode(v[k]));
    return o;
  }
  return v;
}

function encode(v) {
  if (v === undefined) return { $sm: "missing" };
  if (typeof v === "number" && !isFinite(v)) {
    return { $sm: v !== v ? "nan" : v > 0 ? "inf" : "-inf" };
  }
  if (Array.isArray(v)) return v.map(encode);
  if (v !== null && typeof v === "object") {
    const o = {};
    for (const k of Object.keys(v)) define(o, k, encode(v[k]));
    return o;
  }
  return v;
}

function call(ctx, fn, args) {
  const f = ctx[fn];
  if (typeof f !== "function") return ["err", "HARNESS: no function " + fn];
  try {
    return ["ok", encode(f.apply(null, args))];
  } catch (e) {
    if (e && e.name === "MappingRuntimeError") return ["err", e.message];
    return ["crash", String(e && e.stack || e)];
  }
}

function handle(req) {
  if (req.load !== undefined) {
    const ctx = vm.createContext({});
    vm.runInContext(req.source, ctx, { filename: req.load + ".js" });
    contexts[req.load] = ctx;
    return "loaded";
  }
  const ctx = contexts[req.ctx];
  if (!ctx) throw new Error("unknown context " + req.ctx);
  if (req.grid !== undefined) {
    const xs = decode(req.xs), ys = decode(req.ys), out = [];
    for (const x of xs) for (const y of ys) out.push(call(ctx, req.grid, [x, y]));
    return out;
  }
  return req.calls.map(function (c) { return call(ctx, c[0], decode(c[1])); });
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on("line", function (line) {
  let reply;
  try {
    reply = { ok: handle(JSON.parse(line)) };
  } catch (e) {
    reply = { error: String(e && e.stack || e) };
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
});
