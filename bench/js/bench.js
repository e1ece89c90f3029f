'use strict';
// node side of bench/bench_mapping.py: times the hand-written JS handlers inside one node process.
//   node bench.js handlers CORPUS.jsonl REPEATS   -> {"min_us": .., "median_us": .., "runs_us": [..]}
//   node bench.js e2e CORPUS.jsonl REPEATS        -> same, for Buffer -> JSON.parse -> apply -> JSON.stringify -> Buffer
//   node bench.js dump CORPUS.jsonl               -> the e2e output of every envelope, one JSON line each
//   node bench.js serve-handlers|serve-e2e CORPUS.jsonl
//                                                 -> warms up, then for each stdin line "START END" runs
//                                                    items[START:END] once untimed and once timed, answering
//                                                    {"us": ..}: the Python side interleaves node's passes with its own
// CORPUS.jsonl holds one envelope per line. Every result is kept in an array so that nothing the
// handlers build can be optimised away.
const fs = require('fs');
const {apply} = require('./handlers');

const [mode, path, repeatsArg] = process.argv.slice(2);
const lines = fs.readFileSync(path).toString('utf8').split('\n').filter((l) => l.length > 0);
const bufs = lines.map((l) => Buffer.from(l, 'utf8'));
const repeats = Number(repeatsArg || 7);

function e2e(buf) {
  return Buffer.from(JSON.stringify(apply(JSON.parse(buf.toString('utf8')))), 'utf8');
}

function time(fn, items) {
  const out = new Array(items.length);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < items.length; i++) out[i] = fn(items[i]);
  const t1 = process.hrtime.bigint();
  return [Number(t1 - t0) / 1000 / items.length, out];
}

function report(fn, items) {
  for (let w = 0; w < 5; w++) time(fn, items);  // let the JIT settle
  const runs = [];
  for (let r = 0; r < repeats; r++) runs.push(time(fn, items)[0]);
  const sorted = [...runs].sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({min_us: sorted[0], median_us: sorted[sorted.length >> 1], runs_us: runs,
                                       node: process.version}) + '\n');
}

if (mode === 'handlers') {
  report(apply, lines.map((l) => JSON.parse(l)));
} else if (mode === 'e2e') {
  report(e2e, bufs);
} else if (mode === 'serve-handlers' || mode === 'serve-e2e') {
  // Only what the timed pass needs is kept alive: parsed envelopes would make every
  // garbage collection of an end-to-end pass slower than it is in a real server.
  const handlers = mode === 'serve-handlers';
  const items = handlers ? lines.map((l) => JSON.parse(l)) : bufs;
  const fn = handlers ? apply : e2e;
  for (let w = 0; w < 5; w++) time(fn, items);
  const rl = require('readline').createInterface({input: process.stdin});
  rl.on('line', (cmd) => {  // "START END": time items[START:END]; "quit"
    if (cmd.trim() === 'quit') { rl.close(); return; }
    const [start, end] = cmd.trim().split(' ').map(Number);
    const part = items.slice(start, end);
    time(fn, part);  // untimed first, as the Python side does: the chunk is in the caches
    const us = time(fn, part)[0];
    process.stdout.write(JSON.stringify({us, node: process.version}) + '\n');
  });
} else if (mode === 'dump') {
  const out = bufs.map((b) => e2e(b).toString('utf8'));
  process.stdout.write(out.join('\n') + '\n');
} else {
  process.stderr.write('usage: node bench.js handlers|e2e|dump CORPUS.jsonl [REPEATS]\n');
  process.exit(2);
}
