#!/usr/bin/env node
// `npm run bench`: browser benchmarks in headless Chromium (launched directly, no automation attached: with a
// DevTools client attached Chromium reports every WebSocket frame and SSE event to it, which cuts throughput 2-4x),
// a 1,000-client fan-out in Node, many nodes on Redis (fan-out at 1-3 nodes against socket.io's Redis adapter, node One node's scale: idle sessions' memory and CPU against socket.io, a reconnect storm.
// kill → first message, Redis commands per message), and bundle sizes. Prints a table and writes bench/RESULTS.md.
// Options: --runs=3 --n=20000 --rtt=1000 --clients=1000 --only=<substring of scenario names, or `cluster`, `scale`, `tabs`>
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, readdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { fork } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { CHROMIUM_ARGS, ensureChromium } from './chromium.mjs';
import { ROOT, measureOurs, measureOthers, TARGETS, kb } from '../bench/size.mjs';

const arg = (name, dflt) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : dflt;
};
const RUNS = Number(arg('runs', 3));
const N = Number(arg('n', 20000));
const RTTN = Number(arg('rtt', 1000));
const CLIENTS = Number(arg('clients', 1000));
const ONLY = arg('only', '');
const FANOUT_MESSAGES = Number(arg('fanout', 200));
const CLUSTER_FANOUT = { clients: 300, messages: 500, warmup: 100 };
// Server scale on one node (issue 15): idle sessions per transport, a reconnect storm, heartbeats every 5 s.
const SCALE = { websocket: 10_000, sse: 2_000, storm: 5_000, stormSpreadMs: 250, heartbeatMs: 5_000 };
const log = (m) => console.log(`[bench] ${m}`);

// ---- build when dist/ is older than src/ ----
const newest = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce((t, e) => {
    const p = path.join(dir, e.name);
    return Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }, 0);
const distFile = path.join(ROOT, 'dist/realtime-fallback.umd.min.js');
if (!existsSync(distFile) || !existsSync(path.join(ROOT, 'dist/server.mjs')) || statSync(distFile).mtimeMs < newest(path.join(ROOT, 'src'))) {
  log('dist/ is stale: npm run build');
  if (spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit', cwd: ROOT }).status !== 0) process.exit(1);
}
const { startServers } = await import('../bench/servers.mjs');

const chromium = await ensureChromium({ log });
const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (s.length === 0) return null;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** One page load in a fresh headless Chromium with no automation attached; the page POSTs its result. */
async function runPage(servers, port, scenario, timeoutMs = 120_000) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-chromium-'));
  const url = `http://127.0.0.1:${port}/page.html?s=${scenario}&n=${N}&rtt=${RTTN}`;
  const child = spawn(
    chromium,
    [...CHROMIUM_ARGS, `--user-data-dir=${dir}`, '--enable-precise-memory-info', '--js-flags=--expose-gc', '--no-default-browser-check', url],
    { stdio: 'ignore', detached: true },
  );
  try {
    return await servers.nextResult(timeoutMs);
  } finally {
    try {
      process.kill(-child.pid, 'SIGKILL'); // the browser's own process group: it and its helpers
    } catch {}
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
  }
}

const SCENARIOS = [
  { name: 'ours-websocket', server: 'main', raw: 'raw-websocket', sio: 'sio-websocket' },
  { name: 'ours-sse', server: 'main', raw: 'raw-sse' },
  { name: 'ours-polling', server: 'main', raw: 'raw-polling', sio: 'sio-polling' },
  { name: 'raw-websocket', server: 'main' },
  { name: 'raw-sse', server: 'main' },
  { name: 'raw-polling', server: 'main' },
  { name: 'sio-websocket', server: 'sio' },
  { name: 'sio-polling', server: 'sio' },
];
// Targets (issue 15): construction → first application message, in ms.
const FAILOVERS = [
  { name: 'failover-refused', mode: 'refuse', what: 'WebSocket upgrade refused (HTTP 400) → SSE', targetMs: 150 },
  { name: 'failover-hang', mode: 'hang', what: 'WebSocket upgrade never answered → SSE', targetMs: 1500 },
  { name: 'failover-buffered-sse', mode: 'buffer-sse', what: 'WebSocket refused, SSE buffered by a proxy → polling' },
  { name: 'failover-hang-buffered-sse', mode: 'hang-buffer-sse', what: 'WebSocket upgrade never answered, SSE buffered → polling', targetMs: 2500 },
];

const servers = await startServers();
const results = {}; // scenario -> [result per run]
const portOf = (s) => (s === 'sio' ? servers.sioPort : servers.mainPort);
for (let run = 1; run <= RUNS; run++) {
  for (const sc of SCENARIOS) {
    if (ONLY && !sc.name.includes(ONLY)) continue;
    const r = await runPage(servers, portOf(sc.server), sc.name);
    if (r.error) throw new Error(`${sc.name}: ${r.error}`);
    (results[sc.name] ??= []).push(r);
    log(`run ${run} ${sc.name}: ${Math.round(r.msgsPerSec)} msg/s (first message of the burst at ${r.firstInBurstMs.toFixed(1)} of ${r.burstMs.toFixed(1)} ms), rtt p50 ${r.rttP50.toFixed(2)} p99 ${r.rttP99.toFixed(2)} ms, first message ${r.ttfmMs.toFixed(1)} ms, heap ${(r.heapBytes / 1048576).toFixed(2)} MB`);
  }
  for (const f of FAILOVERS) {
    if (ONLY && !f.name.includes(ONLY)) continue;
    servers.setFailoverMode(f.mode);
    const r = await runPage(servers, servers.failoverPort, f.name);
    if (r.error) throw new Error(`${f.name}: ${r.error}`);
    r.serverSessions = servers.failoverSessions();
    (results[f.name] ??= []).push(r);
    log(`run ${run} ${f.name}: open on ${r.transport} after ${r.failoverMs.toFixed(1)} ms; server sessions ${r.serverSessions}`);
  }
}
await servers.close();

// ---- fan-out: server and clients in two child processes ----
async function fanout(kind) {
  const server = fork(path.join(ROOT, 'bench/fanout.mjs'), ['server', kind], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise((r) => server.once('message', (m) => r(m.port)));
  const clients = fork(path.join(ROOT, 'bench/fanout.mjs'), ['clients', kind, String(port), String(CLIENTS)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, FANOUT_MESSAGES: String(FANOUT_MESSAGES) },
  });
  await new Promise((r) => clients.once('message', r)); // all connected
  const done = new Promise((r) => clients.once('message', r));
  server.send({ broadcast: FANOUT_MESSAGES });
  const result = await done;
  clients.kill();
  server.kill();
  return result;
}
const fan = { ours: [], sio: [] };
if (!ONLY || 'fanout'.includes(ONLY)) {
  for (let run = 1; run <= RUNS; run++) {
    for (const kind of ['ours', 'sio']) {
      const r = await fanout(kind);
      fan[kind].push(r);
      log(`run ${run} fan-out ${kind}: ${Math.round(r.deliveriesPerSec)} deliveries/s, delivery p50 ${r.p50.toFixed(1)} p99 ${r.p99.toFixed(1)} ms`);
    }
  }
}

// ---- many nodes on Redis (needs Debian's redis-server) ----
const cluster = { fanout: [], failover: null, cost: null, skipped: null };
if (!ONLY || 'cluster'.includes(ONLY)) {
  const { clusterFanout } = await import('../bench/cluster-fanout.mjs');
  const { failover } = await import('../bench/failover.mjs');
  const { redisCost } = await import('../bench/redis-cost.mjs');
  const { startRedisServer } = await import('../demo/redis-server.mjs');
  let redis = null;
  try {
    redis = await startRedisServer();
  } catch (err) {
    cluster.skipped = err.message;
    log(`CLUSTER BENCHMARKS SKIPPED: ${err.message}`);
  }
  if (redis) {
    const { createClient } = await import('redis');
    const admin = createClient({ url: redis.url });
    await admin.connect();
    try {
      for (let run = 1; run <= RUNS; run++) {
        const rows = await clusterFanout({ redisUrl: redis.url, ...CLUSTER_FANOUT, flush: () => admin.sendCommand(['FLUSHALL']) });
        cluster.fanout.push(rows);
        for (const { nodes, ours, sio } of rows) log(`run ${run} cluster fan-out, ${nodes} node(s): ours ${Math.round(ours?.deliveriesPerSec ?? 0)}/s, socket.io ${Math.round(sio?.deliveriesPerSec ?? 0)}/s`);
      }
    } finally {
      await admin.close();
      await redis.stop();
    }
    cluster.failover = await failover({ kills: 8 });
    log(`node kill → first message: ${JSON.stringify(cluster.failover)}`);
    cluster.cost = await redisCost({ n: 2000, members: 50 });
    log(`redis commands per message: ${JSON.stringify(cluster.cost)}`);
  }
}

// ---- one node's scale: idle sessions, heartbeat CPU, a reconnect storm ----
let scaled = null;
if (!ONLY || 'scale'.includes(ONLY)) {
  const { scale } = await import('../bench/scale.mjs');
  scaled = await scale(SCALE);
  for (const r of scaled) log(`scale ${r.server} ${r.transport}: ${r.connected} sessions, heap ${Math.round(r.heapPerSession)} B + external ${Math.round(r.externalPerSession)} B per session, idle CPU ${r.idleCpuMsPerSessionPerMin.toFixed(2)} ms/session/min${r.storm ? `, storm ${Math.round(r.storm.acceptsPerSec)} accepts/s` : ''}`);
}

// ---- twenty tabs sharing one connection (issue 16), against twenty connections ----
let tabs = null;
if (!ONLY || 'tabs'.includes(ONLY)) {
  const { sharedTabs } = await import('../bench/shared-tabs.mjs');
  tabs = await sharedTabs({ tabs: 20, ticks: 200 });
  for (const r of [tabs.shared, tabs.separate]) {
    log(`tabs share=${r.share}: ${r.connections.websocket} WebSocket, ${r.sessions} session(s), emit → last tab p50 ${r.toLastTab.p50.toFixed(1)} p99 ${r.toLastTab.p99.toFixed(1)} ms, in order: ${r.inOrder}`);
  }
}

// ---- the client's frame path in Node (no browser, no server) ----
let framePath = null;
if (!ONLY || 'frame-path'.includes(ONLY)) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bench/frame-path.mjs'), String(N), '7'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench/frame-path.mjs failed: ${r.stderr}`);
  framePath = JSON.parse(r.stdout.trim().split('\n').at(-1));
  log(`frame path: ours ${framePath.oursMs.toFixed(1)} ms, JSON.parse + loop ${framePath.leastMs.toFixed(1)} ms per ${framePath.frames} frames`);
}

// ---- sizes ----
const ours = await measureOurs();
const others = await measureOthers();

// ---- report ----
const m = (name, key) => median((results[name] ?? []).map((r) => r[key]));
const ratio = (a, b, invert = false) => (a == null || b == null ? '–' : `${(invert ? b / a : a / b).toFixed(2)}×`);
const f1 = (x, d = 1) => (x == null ? '–' : x.toFixed(d));
const pkg = (p) => JSON.parse(readFileSync(path.join(ROOT, 'node_modules', p, 'package.json'), 'utf8')).version;
const chromeVersion = spawnSync(chromium, ['--version'], { encoding: 'utf8' }).stdout.trim();
const cpus = os.cpus();
const lines = [];
const out = (s = '') => lines.push(s);
out('# Benchmarks');
out();
out(`Generated by \`npm run bench\` on ${new Date().toISOString()}; median of ${RUNS} runs.`);
out();
out(`Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}.`);
out(`Versions: Node ${process.version}; ${chromeVersion}; realtime-fallback ${JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version} (UMD bundle); ws ${pkg('ws')}; socket.io / socket.io-client ${pkg('socket.io')} / ${pkg('socket.io-client')}.`);
out();
out('## Browser (headless Chromium, no automation attached, servers on 127.0.0.1)');
out();
out(`Throughput: ${N} server→client messages of ~100 bytes, pushed in one synchronous loop, timed from the request that triggers them to the last one handled. RTT: ${RTTN} sequential request/replies. First message: construction → first application message. Heap: \`performance.memory.usedJSHeapSize\` after the run and a forced GC.`);
out();
out('| scenario | msg/s | vs raw | vs socket.io | RTT p50 ms | RTT p99 ms | p50 − raw | first msg ms | heap MB |');
out('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const sc of SCENARIOS) {
  if (!results[sc.name]) continue;
  const tp = m(sc.name, 'msgsPerSec');
  const raw = sc.raw ? m(sc.raw, 'msgsPerSec') : null;
  const sio = sc.sio ? m(sc.sio, 'msgsPerSec') : null;
  const p50 = m(sc.name, 'rttP50');
  out(
    `| ${sc.name} | ${Math.round(tp)} | ${sc.raw ? ratio(tp, raw) : ''} | ${sc.sio ? ratio(tp, sio) : ''} | ${f1(p50, 2)} | ${f1(m(sc.name, 'rttP99'), 2)} | ${sc.raw ? `${(p50 - m(sc.raw, 'rttP50')).toFixed(2)}` : ''} | ${f1(m(sc.name, 'ttfmMs'))} | ${f1(m(sc.name, 'heapBytes') / 1048576, 2)} |`,
  );
}
out();
out('Failover of our client (default options: the next transport starts alongside one that has not welcomed within 1 s; construction → first application message on the fallback). Server sessions: how many the server made in the run; more than one would be a losing racer\'s left behind.');
out();
out('| situation | ms (median) | target | runs | ended on | server sessions |');
out('| --- | ---: | ---: | --- | --- | --- |');
for (const f of FAILOVERS) {
  if (!results[f.name]) continue;
  const ms = m(f.name, 'failoverMs');
  const target = f.targetMs === undefined ? '' : `≤ ${f.targetMs} ${ms <= f.targetMs ? '(met)' : '(missed)'}`;
  out(`| ${f.what} | ${f1(ms)} | ${target} | ${results[f.name].map((r) => r.failoverMs.toFixed(0)).join(', ')} | ${results[f.name][0].transport} | ${results[f.name].map((r) => r.serverSessions).join(', ')} |`);
}
out();
if (fan.ours.length) {
  const med = (k, key) => median(fan[k].map((r) => r[key]));
  out(`## Fan-out (Node): one server broadcasting ${FANOUT_MESSAGES} messages to ${CLIENTS} WebSocket clients`);
  out();
  out('Server and clients in two processes. The clients are raw `ws` sockets speaking each protocol (ours: welcome, `msg`, an `ack` every 32 frames; socket.io: the engine.io v4 handshake, `40`, `42[...]`), so the client side stays cheap and equal. Broadcasts go out 10 per event-loop turn; delivery time = receipt − broadcast (monotonic clock shared by both processes).');
  out();
  out('| server | deliveries/s | vs socket.io | delivery p50 ms | delivery p99 ms |');
  out('| --- | ---: | ---: | ---: | ---: |');
  for (const k of ['ours', 'sio']) {
    out(`| ${k === 'ours' ? 'reference server' : 'socket.io'} | ${Math.round(med(k, 'deliveriesPerSec'))} | ${k === 'ours' ? ratio(med('ours', 'deliveriesPerSec'), med('sio', 'deliveriesPerSec')) : ''} | ${f1(med(k, 'p50'))} | ${f1(med(k, 'p99'))} |`);
  }
  out();
}
if (cluster.skipped) {
  out('## Many nodes on Redis');
  out();
  out(`Not measured: ${cluster.skipped}.`);
  out();
}
if (cluster.fanout.length) {
  const { clients, messages, warmup } = CLUSTER_FANOUT;
  out(`## Many nodes on Redis: fan-out, ${clients} clients spread over 1-3 server processes, ${messages} broadcasts`);
  out();
  out(`One redis-server; ours with \`redisAdapter\` (every delivered frame written to the session's log in Redis before it is sent), socket.io with \`@socket.io/redis-adapter\` (pub/sub, nothing kept). Node 0 broadcasts ${warmup} warm-up messages nobody counts, then ${messages}, 10 per event-loop turn; raw \`ws\` clients as in the fan-out above, ${clients} in all, spread evenly over the nodes (one client process per node). Deliveries/s from the first measured broadcast to the last delivery, summed over the client processes. Every process shares the same 2 cores, so more nodes add no CPU here: the figures compare the cost per delivery. Delivery time = receipt − broadcast: socket.io's publisher writes to its sockets inside \`emit\`, so a broadcast is stamped only once the previous ones went out; ours publishes to Redis and returns, so its stamps include the time spent queued.`);
  out();
  out('| nodes | ours deliveries/s | socket.io deliveries/s | ours / socket.io | ours delivery p50 / p99 ms | socket.io p50 / p99 ms |');
  out('| ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const nodes of [1, 2, 3]) {
    const rows = cluster.fanout.map((run) => run.find((r) => r.nodes === nodes)).filter(Boolean);
    const med = (kind, key) => median(rows.map((r) => r[kind]?.[key]));
    const o = med('ours', 'deliveriesPerSec');
    const x = med('sio', 'deliveriesPerSec');
    out(`| ${nodes} | ${Math.round(o)} | ${Math.round(x)} | ${ratio(o, x)} | ${f1(med('ours', 'p50'), 0)} / ${f1(med('ours', 'p99'), 0)} | ${f1(med('sio', 'p50'), 0)} / ${f1(med('sio', 'p99'), 0)} |`);
  }
  out();
}
if (cluster.failover) {
  out('Node SIGKILL → first message from the node that takes the session over (the demo cluster: three nodes, redis-server, round-robin balancer; one SDK client per transport with default backoff, 500 ms ± 50%; 8 kills each):');
  out();
  out('| transport | p50 ms | p99 ms |');
  out('| --- | ---: | ---: |');
  for (const [t, r] of Object.entries(cluster.failover)) out(`| ${t} | ${f1(r.p50, 0)} | ${f1(r.p99, 0)} |`);
  out();
}
if (cluster.cost) {
  out('Redis commands per delivered message (one node, WebSocket SDK clients, every command counted, the bus reader\'s included; bench/redis-cost.mjs):');
  out();
  out('| path | commands |');
  out('| --- | ---: |');
  out(`| \`session.emit\` on the holding node | ${cluster.cost.direct.toFixed(2)} |`);
  out(`| \`rt.toSession(sessionId).emit\` (through the bus) | ${cluster.cost.toSession.toFixed(2)} |`);
  out(`| a client emit, accepted (recorded before its handler runs) | ${cluster.cost.clientEmit.toFixed(2)} |`);
  out(`| \`rt.to(room).emit\`, per member delivery (room of 50) | ${cluster.cost.room.toFixed(2)} |`);
  out();
}
if (scaled) {
  const sio = scaled.find((r) => r.server === 'sio');
  const perSession = (r) => r.heapPerSession + r.externalPerSession;
  out(`## One server process: ${SCALE.websocket.toLocaleString('en')} idle WebSocket sessions, ${SCALE.sse.toLocaleString('en')} SSE`);
  out();
  out(`Server and clients in two processes (bench/scale.mjs); raw clients speaking each protocol, idle after their handshake (socket.io's answer its pings). Memory per session: the server's JS heap + external memory after a full GC, loaded minus empty, divided by the sessions (RSS beside it, noisier). Idle CPU: the server's user + system CPU over two heartbeats (${SCALE.heartbeatMs} ms for both servers), per session per minute. Reconnect storm: ${SCALE.storm.toLocaleString('en')} WebSocket clients whose first attempts land evenly within ${SCALE.stormSpreadMs} ms (the client's jittered first retry spans 250-500 ms), on an empty server; accepts/s = clients / (last welcome − first attempt). Target: memory per session ≤ 0.7× socket.io's.`);
  out();
  out('| server | transport | sessions | heap + external per session | vs socket.io | RSS per session | idle CPU ms / session / min | storm accepts/s | storm handshake p50 / p99 ms |');
  out('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of scaled) {
    const vs = r.server === 'ours' && r.transport === 'websocket' && sio ? `${(perSession(r) / perSession(sio)).toFixed(2)}× ${perSession(r) <= 0.7 * perSession(sio) ? '(met)' : '(missed)'}` : '';
    out(`| ${r.server === 'sio' ? 'socket.io' : 'ours'} | ${r.transport} | ${r.connected} | ${(perSession(r) / 1024).toFixed(1)} KB | ${vs} | ${(r.rssPerSession / 1024).toFixed(1)} KB | ${r.idleCpuMsPerSessionPerMin.toFixed(2)} | ${r.storm ? Math.round(r.storm.acceptsPerSec) : ''} | ${r.storm ? `${f1(r.storm.p50, 0)} / ${f1(r.storm.p99, 0)}` : ''} |`);
  }
  out();
}
if (tabs) {
  out('## Twenty tabs of one origin (bench/shared-tabs.mjs)');
  out();
  out(`${tabs.shared.tabs} pages of one headless Chromium (driven by playwright-core: absolute times are an upper bound), each with a client of the script-tag build, against the reference server; it emits a \`tick\` every 20 ms, ${tabs.shared.ticks} in all. Delay: the server's emit to a page's listener (the wall clock both stamp with).`);
  out();
  out("| clients | WebSocket connections | sessions | every tab every tick in order | emit → last tab's listener p50 / p99 ms | emit → each tab's listener p50 / p99 ms |");
  out('| --- | ---: | ---: | --- | --- | --- |');
  for (const r of [tabs.shared, tabs.separate]) {
    out(`| ${r.share ? '`share: true`' : 'one each'} | ${r.connections.websocket} | ${r.sessions} | ${r.inOrder ? 'yes' : 'NO'} | ${f1(r.toLastTab.p50)} / ${f1(r.toLastTab.p99)} | ${f1(r.perTab.p50)} / ${f1(r.perTab.p99)} |`);
  }
  out();
}
if (framePath) {
  out(`## The client's frame path (Node, bench/frame-path.mjs)`);
  out();
  out(`One long-poll answer of ${framePath.frames} messages (~100 bytes each) through the built client (polling transport, order check, app listener), against the least any client does with the same text (JSON.parse and a loop), median of 7. Where the rest goes: \`node --cpu-prof bench/frame-path.mjs\`.`);
  out();
  out('| ours ms | JSON.parse + loop ms | ratio |');
  out('| ---: | ---: | ---: |');
  out(`| ${f1(framePath.oursMs)} | ${f1(framePath.leastMs)} | ${framePath.ratio.toFixed(2)}× |`);
  out();
}
out('## Bundle size');
out();
out('esbuild `--bundle --minify --format=esm --splitting` on one named import (what an app bundler ships), gzip -9, brotli (quality 11). Lazy chunks (the SSE and polling transports, event-source-polyfill, plain mode) are split out, loaded on first use, and not counted. UMD: the published minified script-tag file. See bench/size.mjs.');
out();
out('| bundle | min | gzip | brotli | target (gzip) |');
out('| --- | ---: | ---: | ---: | --- |');
const row = (name, s, target) =>
  out(`| ${name} | ${kb(s.min)} | ${kb(s.gzip)} | ${kb(s.brotli)} | ${target ? `${kb(target)}: ${s.gzip <= target ? 'met' : `${kb(s.gzip - target)} over`}` : ''} |`);
row('realtime-fallback ESM default (`RealtimeClient`)', ours.esm, TARGETS.esmDefaultGzip);
if (ours.esm.lazy) row('  lazy chunks: SSE + polling, event-source-polyfill, plain mode (not counted)', ours.esm.lazy);
row('realtime-fallback "WebSocket-only" (= the default: SSE and polling load on first use)', ours.esm);
row('  with SSE + polling stubbed out (check: ~ the default)', ours.wsOnlyEstimate);
row('realtime-fallback UMD min (everything but event-source-polyfill)', ours.umd, TARGETS.umdGzip);
for (const [name, o] of Object.entries(others)) {
  row(`${name} ESM (${name === 'socket.io-client' ? '`io`' : name === 'centrifuge' ? '`Centrifuge`' : '`HubConnectionBuilder`'})`, o.esm);
  if (o.umd) row(`${name} UMD min`, o.umd);
}
out();
const text = lines.join('\n') + '\n';
console.log('\n' + text);
writeFileSync(path.join(ROOT, 'bench/results-raw.json'), JSON.stringify({ results, fan, cluster, scaled, tabs, framePath }, null, 1));
writeFileSync(path.join(ROOT, 'bench/RESULTS.md'), text);
log('wrote bench/RESULTS.md');
process.exit(0);
