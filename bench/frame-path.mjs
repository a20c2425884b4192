// The client's frame path in Node, without a browser or a server (issue 15: profile it before changing it):
//   node bench/frame-path.mjs [frames=20000] [runs=5]          → ms per burst: ours (a long-poll answer of `frames`
//     messages through the polling transport, the session's order check and the app listener) against the least a
//     client can do with the same text (JSON.parse and a loop), as the raw long-poll page does
//   node --cpu-prof bench/frame-path.mjs                        → a profile of the same
// The fetch is a stand-in: the handshake poll gets a welcome, the next one the burst, later ones wait until closed.
import { RealtimeClient } from '../dist/index.mjs';

const FRAMES = Number(process.argv[2] ?? 20_000);
const RUNS = Number(process.argv[3] ?? 5);
const PAD = 'x'.repeat(60);
const burst = JSON.stringify(Array.from({ length: FRAMES }, (_, i) => ({ t: 'msg', id: i + 1, e: 'm', d: { i, p: PAD } })));
const welcome = JSON.stringify([{ t: 'welcome', sid: 's'.repeat(22), secret: 'k'.repeat(32), cid: 'c'.repeat(22), hb: 25_000, resumed: false, ack: 0, maxFrame: 1 << 20 }]);

function standInFetch(onBurstServed) {
  let polls = 0;
  return async (url, init) => {
    const u = new URL(url);
    if (u.pathname.endsWith('/send')) return new Response('[{"t":"ack","n":0}]', { headers: { 'Content-Type': 'application/json' } });
    polls++;
    if (polls === 1) return new Response(welcome, { headers: { 'Content-Type': 'application/json' } });
    if (polls === 2) {
      onBurstServed();
      return new Response(burst, { headers: { 'Content-Type': 'application/json' } });
    }
    return new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
  };
}

async function ours() {
  let served = 0;
  let got = 0;
  let done;
  const finished = new Promise((r) => (done = r));
  const client = new RealtimeClient('http://bench.invalid/rt', {
    transports: ['polling'],
    fetch: standInFetch(() => (served = performance.now())),
    storage: null,
    upgradeProbeMs: 0,
    raceAfterMs: 0,
  });
  client.on('m', () => {
    if (++got === FRAMES) done(performance.now());
  });
  const end = await finished;
  client.close();
  return end - served;
}

function least() {
  const t = performance.now();
  let got = 0;
  for (const f of JSON.parse(burst)) if (f.t === 'msg' && f.e === 'm') got++;
  if (got !== FRAMES) throw new Error('lost frames');
  return performance.now() - t;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const a = [];
const b = [];
for (let r = 0; r < RUNS; r++) {
  a.push(await ours());
  b.push(least());
}
console.log(JSON.stringify({ frames: FRAMES, oursMs: median(a), leastMs: median(b), ratio: median(a) / median(b), runs: { ours: a.map((x) => +x.toFixed(1)), least: b.map((x) => +x.toFixed(1)) } }));
