// Test harness for exported handlers (tests/js). One long-lived node process;
// one JSON request per stdin line, one JSON reply per stdout line:
//   {"jobs": [{"source": js, "webhooks": [webhook, ...]}, ...]}
//   -> {"ok": [[result, ...], ...]}   result: {"ok": webhook} | {"err": {...}}
// Each source runs in a fresh vm context, as the dashboard would run it, and
// webhooks are parsed with that context's JSON (so "__proto__" keys are own
// members). A result that holds `undefined` anywhere, or an object whose
// prototype is not Object.prototype/Array.prototype, is reported as
// {"bad": reason}: JSON.stringify would hide such bugs. Output is ASCII.
"use strict";
const vm = require("vm");
const readline = require("readline");

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
    return { ok: J.parse(J.stringify(out)) };
  });
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on("line", (line) => {
  let reply;
  try {
    const req = JSON.parse(line);
    reply = { ok: req.jobs.map(runJob) };
  } catch (e) {
    reply = { error: String((e && e.stack) || e) };
  }
  process.stdout.write(ascii(JSON.stringify(reply)) + "\n");
});
