// The demo page: one RealtimeClient from the script-tag build (global RealtimeFallback), no framework.
// Element ids: state, transport, session, queued, resyncs, attempts, close, connect, reconnect, timeline,
// timeline-clear, ticks, received, gaps, dups, t-websocket, t-sse, t-polling, fault-refuse-ws, fault-hang-ws,
// fault-block-sse, fault-buffer-sse, fault-drop, fault-reset, echo, rtt, count, count-got, count-ok, room-form,
// room-name, room-join, room-leave, rooms, chat-log, chat-form, chat-user, chat-to, chat-text, chat-send, log,
// log-clear; with `npm run demo -- --nodes N` also cluster, node, kill-node, nodes.
//
// Query parameters (for experiments and the browser tests), all optional:
//   transports=websocket,sse   restrict and order the transports
//   retries=0                  retriesPerTransport
//   probe=500                  upgradeProbeMs (how soon to try WebSocket again while on a fallback)
//   wsTimeout=, sseTimeout=, pollTimeout=   openTimeoutMs per transport
//   remember=0                 rememberTransportMs
//   name=alice                 chat name
// User text is only ever rendered with textContent.
'use strict';

const { RealtimeClient } = RealtimeFallback;
const ENDPOINT = location.origin + '/realtime';
const TRANSPORTS = ['websocket', 'sse', 'polling'];
const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);

/** What the page saw; `window.demo` exposes it to tests (and to the curious, in the console). */
const stats = { lastTick: null, received: 0, gaps: 0, dups: 0, resyncs: 0, attempts: 0, startedAt: 0 };
/** Every transport attempt: `{ transport, outcome, ms, detail, at }`. outcome: open|failed|dropped|probe-failed|upgrade */
const timeline = [];
/** Numbers of the `count` stream, as delivered. */
const counted = [];
/** Chat messages received: `{ user, text, room }`. */
const chat = [];
let client = null;
let unsubscribe = [];
/** When the attempt in flight started (performance.now()), and when the current connection opened. */
let attemptStartedAt = 0;
let openedAt = 0;
const rooms = new Set();

// ---- the client -------------------------------------------------------------------------------------------------

function number(name) {
  const v = params.get(name);
  return v === null || v === '' || !Number.isFinite(Number(v)) ? undefined : Number(v);
}

function selectedTransports() {
  return TRANSPORTS.filter((t) => $('t-' + t).checked);
}

function clientOptions() {
  const options = { transports: selectedTransports(), upgradeProbeMs: number('probe') ?? 10000 };
  const retries = number('retries');
  if (retries !== undefined) options.retriesPerTransport = retries;
  const remember = number('remember');
  if (remember !== undefined) options.rememberTransportMs = remember;
  const timeouts = { websocket: number('wsTimeout'), sse: number('sseTimeout'), polling: number('pollTimeout') };
  options.openTimeoutMs = timeouts; // undefined fields mean "default"
  return options;
}

function startClient() {
  if (client) {
    for (const off of unsubscribe) off();
    client.close();
    log('info', 'client closed; starting a new one');
  }
  const options = clientOptions();
  stats.lastTick = null; // a new client is a new session: the tick check starts over
  rooms.clear();
  renderRooms();
  attemptStartedAt = performance.now();
  stats.startedAt = Date.now();
  stats.attempts++;
  client = new RealtimeClient(ENDPOINT, options);
  window.demo.client = client;
  log('info', 'new client, transports: ' + options.transports.join(' → '));

  const life = client.lifecycle;
  unsubscribe = [
    life.on('state', ({ state, previous }) => {
      log('state', previous + ' → ' + state);
      render();
    }),
    life.on('transport', ({ transport, previous, reason }) => {
      log('transport', (previous ? previous + ' → ' : '') + transport + ' (' + reason + ')');
      if (reason === 'upgrade') record(transport, 'upgrade', null, 'probe succeeded; the session moved here');
      render();
    }),
    life.on('open', ({ transport, sessionId, resumed }) => {
      openedAt = performance.now();
      record(transport, 'open', openedAt - attemptStartedAt, resumed ? 'session resumed' : 'new session ' + short(sessionId));
      log('open', 'open on ' + transport + ', ' + (resumed ? 'resumed session ' : 'new session ') + short(sessionId));
      render();
    }),
    life.on('transportFailed', ({ transport, opened, probe, failure }) => {
      if (probe) record(transport, 'probe-failed', null, failure.message);
      else if (opened) record(transport, 'dropped', performance.now() - openedAt, failure.message, 'was open for');
      else record(transport, 'failed', performance.now() - attemptStartedAt, failure.message);
      const what = probe ? 'upgrade probe on ' + transport + ' failed' : transport + (opened ? ' dropped' : ' failed');
      log('failed', what + ': ' + failure.message);
    }),
    life.on('fallback', ({ from, to, reason }) => {
      // The walk moves on at once: a new attempt, on the next transport, without a retry delay.
      attemptStartedAt = performance.now();
      stats.attempts++;
      log('fallback', from + ' → ' + to + ' now — ' + reason);
      render();
    }),
    life.on('reconnecting', ({ attempt, delayMs, transport, reason }) => {
      // The next attempt starts when this delay ends (or on `online`, if the browser is offline now).
      attemptStartedAt = performance.now() + delayMs;
      stats.attempts++;
      log('reconnecting', 'attempt ' + attempt + ' on ' + transport + ' in ' + Math.round(delayMs) + ' ms — ' + reason);
      render();
    }),
    life.on('resync', ({ reason, resent }) => {
      stats.resyncs++;
      stats.lastTick = null; // messages sent meanwhile are lost by definition; the app reloads its state here
      log('resync', 'session could not be resumed (' + reason + '); ' + resent + ' unacknowledged emits re-sent');
      render();
    }),
    life.on('error', (error) => log('error', error.code + ': ' + error.message)),
    life.on('close', ({ reason }) => log('close', reason)),
    client.on('tick', onTick),
    client.on('chat', onChat),
    client.on('count', onCount),
    client.on('node', onNode),
  ];
  render();
}

function onTick(data) {
  const n = data && data.n;
  if (typeof n !== 'number') return;
  stats.received++;
  if (stats.lastTick === null) stats.lastTick = n;
  else if (n <= stats.lastTick) stats.dups++;
  else {
    stats.gaps += n - stats.lastTick - 1;
    stats.lastTick = n;
  }
  renderTicks();
}

function onCount(data) {
  counted.push(data && data.n);
  $('count-got').textContent = String(counted.length);
  const inOrder = counted.every((n, i) => n === i + 1);
  $('count-ok').textContent = inOrder ? 'yes' : 'NO';
  $('count-ok').className = inOrder ? 'ok' : 'bad';
}

// The cluster demo's nodes send `node` whenever one takes this session up (a new session, or one carried on after
// the previous node died); a single-process demo never does.
function onNode(data) {
  const name = data && typeof data.name === 'string' ? data.name : null;
  if (!name) return;
  if (name !== cluster.node) log('node', (cluster.node ? 'session moved from ' + cluster.node + ' to ' : 'held by ') + name);
  cluster.node = name;
  cluster.history.push(name);
  $('node').textContent = name;
}

function onChat(msg) {
  if (!msg || typeof msg !== 'object') return;
  const entry = { user: String(msg.user), text: String(msg.text), room: msg.room ? String(msg.room) : null };
  chat.push(entry);
  appendChat(entry, false);
}

function appendChat({ user, text, room }, mine) {
  const li = document.createElement('li');
  if (mine) li.className = 'mine';
  if (room) {
    const tag = document.createElement('span');
    tag.className = 'room';
    tag.textContent = '#' + room;
    li.append(tag, ' ');
  }
  const who = document.createElement('b');
  who.textContent = user;
  li.append(who, ' ', text); // text nodes: user text is never parsed as HTML
  const list = $('chat-log');
  list.append(li);
  while (list.children.length > 100) list.firstElementChild.remove();
  list.scrollTop = list.scrollHeight;
}

// ---- rendering -------------------------------------------------------------------------------------------------

function short(id) {
  return id ? id.slice(0, 8) + '…' : '–';
}

function render() {
  if (!client) return;
  const state = $('state');
  state.textContent = client.state;
  state.className = 'state-' + client.state;
  $('transport').textContent = client.transport || '–';
  $('session').textContent = short(client.sessionId);
  $('queued').textContent = String(client.queued.messages);
  $('resyncs').textContent = String(stats.resyncs);
  $('attempts').textContent = String(stats.attempts);
}

function renderTicks() {
  $('ticks').textContent = stats.lastTick === null ? '–' : String(stats.lastTick);
  $('received').textContent = String(stats.received);
  $('gaps').textContent = String(stats.gaps);
  $('gaps').className = stats.gaps === 0 ? 'ok' : 'bad';
  $('dups').textContent = String(stats.dups);
  $('dups').className = stats.dups === 0 ? 'ok' : 'bad';
  $('queued').textContent = String(client ? client.queued.messages : 0);
}

function record(transport, outcome, ms, detail, msLabel) {
  const entry = { transport, outcome, ms: ms === null ? null : Math.max(0, Math.round(ms)), detail, at: Date.now() };
  timeline.push(entry);
  const li = document.createElement('li');
  li.dataset.outcome = outcome;
  const time = document.createElement('time');
  time.textContent = new Date(entry.at).toLocaleTimeString([], { hour12: false });
  const name = document.createElement('span');
  name.className = 'transport';
  name.textContent = transport;
  const badge = document.createElement('span');
  badge.className = 'outcome';
  badge.textContent = outcome;
  const timing = document.createElement('span');
  timing.className = 'ms';
  timing.textContent = entry.ms === null ? '' : (msLabel ? msLabel + ' ' : '') + formatMs(entry.ms);
  const why = document.createElement('span');
  why.className = 'detail';
  why.textContent = detail;
  li.append(time, name, badge, timing, why);
  const list = $('timeline');
  list.prepend(li);
  while (list.children.length > 100) list.lastElementChild.remove();
}

function formatMs(ms) {
  return ms < 10000 ? ms + ' ms' : (ms / 1000).toFixed(1) + ' s';
}

function log(kind, text) {
  const li = document.createElement('li');
  li.dataset.kind = kind;
  const time = document.createElement('time');
  time.textContent = new Date().toLocaleTimeString([], { hour12: false });
  const tag = document.createElement('span');
  tag.className = 'kind';
  tag.textContent = kind;
  li.append(time, tag, document.createTextNode(text));
  const list = $('log');
  list.prepend(li);
  while (list.children.length > 200) list.lastElementChild.remove();
}

// ---- controls --------------------------------------------------------------------------------------------------

const fromQuery = params.get('transports');
if (fromQuery) {
  const wanted = fromQuery.split(',').filter((t) => TRANSPORTS.includes(t));
  if (wanted.length > 0) for (const t of TRANSPORTS) $('t-' + t).checked = wanted.includes(t);
}
for (const t of TRANSPORTS) {
  $('t-' + t).addEventListener('change', (event) => {
    if (selectedTransports().length === 0) {
      event.target.checked = true; // at least one transport
      return;
    }
    startClient();
  });
}
$('reconnect').addEventListener('click', startClient);
$('close').addEventListener('click', () => client && client.close());
$('connect').addEventListener('click', () => {
  if (!client) return;
  attemptStartedAt = performance.now();
  stats.attempts++;
  client.connect();
});

const FAULT_BOXES = {
  'fault-refuse-ws': ['/demo/refuse-ws', 'refuseWebSocket', 'WebSocket upgrades refused', 'WebSocket upgrades allowed'],
  'fault-hang-ws': ['/demo/hang-ws', 'hangWebSocket', 'WebSocket upgrades now hang', 'WebSocket upgrades answered'],
  'fault-block-sse': ['/demo/block-sse', 'blockSse', 'SSE blocked (502)', 'SSE allowed'],
  'fault-buffer-sse': ['/demo/buffer-sse', 'bufferSse', 'SSE now buffered (silent) by the "proxy"', 'SSE streams normally'],
};

async function fault(path) {
  try {
    const res = await fetch(path, { method: path === '/demo/faults' ? 'GET' : 'POST', cache: 'no-store' });
    const body = await res.json();
    for (const [id, [, key]] of Object.entries(FAULT_BOXES)) if (key in body) $(id).checked = body[key];
    return body;
  } catch (error) {
    log('error', 'demo server: ' + error.message);
    return null;
  }
}

for (const [id, [path, , onText, offText]] of Object.entries(FAULT_BOXES)) {
  $(id).addEventListener('change', (e) => {
    log('fault', e.target.checked ? onText : offText);
    fault(path + '?on=' + (e.target.checked ? 1 : 0));
  });
}
$('fault-drop').addEventListener('click', async () => {
  const body = await fault('/demo/drop');
  if (body) log('fault', 'dropped ' + body.dropped + ' TCP connections');
});
$('fault-reset').addEventListener('click', () => {
  log('fault', 'faults cleared');
  fault('/demo/reset');
});

// ---- cluster mode (npm run demo -- --nodes N) -----------------------------------------------------------------
// A cluster node names itself in /demo/faults; only then does the page ask the launcher for /demo/cluster (the
// single-process demo would 404, and Chromium logs every 404 as a console error).

/** This page's view of the cluster: the node holding the session now and every one that has (in order). */
const cluster = { enabled: false, node: null, history: [], nodes: [] };

async function clusterNodes() {
  try {
    const res = await fetch('/demo/cluster', { cache: 'no-store' });
    if (!res.ok) return null;
    const body = await res.json();
    return Array.isArray(body.nodes) ? body.nodes : null;
  } catch {
    return null;
  }
}

function renderNodes(nodes) {
  cluster.nodes = nodes;
  $('nodes').textContent = nodes.map((n) => n.name + (n.alive ? ' up' : ' down')).join(' · ');
}

async function detectCluster(faults) {
  if (!faults || typeof faults.node !== 'string') return;
  const nodes = await clusterNodes();
  if (!nodes) return;
  cluster.enabled = true;
  $('cluster').hidden = false;
  renderNodes(nodes);
  // A fault switch reaches whichever node the balancer sends the click to, and only that node acts on it.
  for (const id of [...Object.keys(FAULT_BOXES), 'fault-drop', 'fault-reset']) {
    const control = $(id).closest('label') || $(id);
    control.title = 'Cluster mode: this applies only to the node that receives it (the balancer picks one per request)';
  }
  setInterval(async () => {
    const latest = await clusterNodes();
    if (latest) renderNodes(latest);
  }, 1000);
}

$('kill-node').addEventListener('click', async () => {
  const name = cluster.node;
  if (!name) return;
  try {
    const res = await fetch('/demo/cluster/kill?name=' + encodeURIComponent(name), { method: 'POST', cache: 'no-store' });
    const body = await res.json();
    if (!res.ok) throw new Error(body.error || res.status);
    log('fault', 'killed ' + name + ' (SIGKILL); it restarts in ' + body.restartMs + ' ms');
  } catch (error) {
    log('error', 'kill ' + name + ': ' + error.message);
  }
});

$('echo').addEventListener('click', async () => {
  const started = performance.now();
  $('rtt').textContent = '…';
  try {
    const reply = await client.request('echo', { sent: started }, { timeout: 15000 });
    if (!reply || reply.sent !== started) throw new Error('echo returned something else');
    $('rtt').textContent = (performance.now() - started).toFixed(1) + ' ms over ' + client.transport;
  } catch (error) {
    $('rtt').textContent = 'failed: ' + (error.code || error.message);
  }
});

$('count').addEventListener('click', () => {
  counted.length = 0;
  $('count-got').textContent = '0';
  $('count-ok').textContent = '–';
  client.request('count', { to: 100, everyMs: 50 }).catch((error) => log('error', 'count: ' + (error.code || error.message)));
});

function renderRooms() {
  $('rooms').textContent = rooms.size ? [...rooms].map((r) => '#' + r).join(' ') : 'none';
  const select = $('chat-to');
  const chosen = select.value;
  select.replaceChildren(new Option('everyone', ''));
  for (const r of rooms) select.append(new Option('#' + r, r)); // Option(text, value) sets text, not HTML
  select.value = rooms.has(chosen) ? chosen : '';
}

async function room(action) {
  const name = $('room-name').value.trim();
  if (!name) return;
  try {
    const reply = await client.request(action, { room: name });
    rooms.clear();
    for (const r of reply.rooms) rooms.add(r);
    renderRooms();
    log('info', (action === 'join' ? 'joined #' : 'left #') + name);
  } catch (error) {
    log('error', action + ': ' + (error.code || error.message));
  }
}
$('room-form').addEventListener('submit', (event) => {
  event.preventDefault();
  room('join');
});
$('room-leave').addEventListener('click', () => room('leave'));

$('chat-user').value = params.get('name') || 'guest-' + Math.floor(Math.random() * 900 + 100);
$('chat-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = $('chat-text').value.trim();
  if (!text) return;
  const user = $('chat-user').value.trim() || 'anon';
  const to = $('chat-to').value;
  try {
    client.emit('say', { user, text, room: to || undefined });
    appendChat({ user, text, room: to || null }, true); // the server sends it to the others only
    $('chat-text').value = '';
  } catch (error) {
    log('error', error.code + ': ' + error.message);
  }
  render();
});

$('log-clear').addEventListener('click', () => $('log').replaceChildren());
$('timeline-clear').addEventListener('click', () => $('timeline').replaceChildren());

window.demo = { client: null, stats, timeline, counted, chat, cluster, restart: startClient };
fault('/demo/faults').then(detectCluster);
startClient();
setInterval(render, 500); // queued count changes without lifecycle events
