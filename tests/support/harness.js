// The node side of tests/support/node.py: one long-lived process for every test that runs JavaScript.
// One JSON request per stdin line, one JSON reply per stdout line ({"ok": ...} or {"error": ...}),
// ASCII only.
//
// Runtime helpers (tests/runtime):
//   {"load": name, "source": js}            -> defines context `name`
//   {"ctx": name, "calls": [[fn, [args]]]}  -> [["ok", value, JSON.stringify(value)] | ["err", message]]
//   {"ctx": name, "grid": fn, "xs": [...], "ys": [...]} -> same, row-major fn(x, y)
//   Values use JSON plus {"$sm": "missing" | "inf" | "-inf" | "nan"}.
//
// Exported handlers (tests/js):
//   {"jobs": [{"source": js, "webhooks": [webhook, ...]}, ...]}
//   -> [[result, ...], ...]   result: {"ok": webhook} | {"err": {...}} | {"bad": reason}
//   Each source runs in a fresh vm context, as the dashboard would run it, and webhooks are parsed
//   with that context's JSON (so "__proto__" keys are own members). A result that holds `undefined`
//   anywhere, or an object whose prototype is not Object.prototype/Array.prototype, is reported as
//   {"bad": reason}: JSON.stringify would hide such bugs.
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
    const r = f.apply(null, args);
    // the value, and its text as JSON.stringify writes it (compared byte for byte with Python's)
    return ["ok", encode(r), r === undefined ? null : JSON.stringify(r)];
  } catch (e) {
    if (e && e.name === "MappingRuntimeError") return ["err", e.message];
    return ["crash", String(e && e.stack || e)];
  }
}

function handleRuntime(req) {
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

function ascii(text) {
  return text.replace(/[\u007f-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

function findBad(v, ctxProtos, path) {
  if (v === undefined) return "undefined at " + path;
  if (v === null || typeof v !== "object") {
    if (typeof v === "number" && !isFinite(v)) return "non-finite number at " + path;
    if (typeof v === "function") return "function at " + path;
    return null;
  }
  const proto = Object.getPrototypeOf(v);
  if (!ctxProtos.has(proto)) return "foreign prototype at " + path;
  for (const k of Object.keys(v)) {
    const bad = findBad(v[k], ctxProtos, path + "[" + JSON.stringify(k) + "]");
    if (bad) return bad;
  }
  return null;
}

function runJob(job) {
  const ctx = vm.createContext({});
  const handler = vm.runInContext(job.source + "\n;handler", ctx, { filename: "handler.js" });
  const J = vm.runInContext("JSON", ctx);
  const protos = new Set([vm.runInContext("Object.prototype", ctx), vm.runInContext("Array.prototype", ctx),
    Object.prototype, Array.prototype]);
  return job.webhooks.map((text) => {
    const webhook = J.parse(text);
    let out;
    try {
      out = handler(webhook);
    } catch (e) {
      return { err: { name: String(e && e.name), message: String(e && e.message), location: e && e.location } };
    }
    const bad = findBad(out, protos, "webhook");
    if (bad) return { bad: bad };
    // the payload as Svix sends it: JSON.stringify's text (compared byte for byte with Python's)
    return { ok: J.parse(J.stringify(out)), text: out.payload === undefined ? null : J.stringify(out.payload) };
  });
}

function handle(req) {
  return req.jobs !== undefined ? req.jobs.map(runJob) : handleRuntime(req);
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on("line", (line) => {
  let reply;
  try {
    reply = { ok: handle(JSON.parse(line)) };
  } catch (e) {
    reply = { error: String((e && e.stack) || e) };
  }
  process.stdout.write(ascii(JSON.stringify(reply)) + "\n");
});
