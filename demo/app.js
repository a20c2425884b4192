// The demo page: one RealtimeClient from the script-tag build (global RealtimeFallback), no framework.
'use strict';

const { RealtimeClient } = RealtimeFallback;
const ENDPOINT = location.origin + '/realtime';
const $ = (id) => document.getElementById(id);

/** Counters a test (or a curious user) can read: `window.demo.stats`. */
const stats = { lastTick: null, received: 0, gaps: 0, dups: 0, resyncs: 0 };
let client = null;
let unsubscribe = [];

// ---- the client -------------------------------------------------------------------------------------------------

function selectedTransports() {
  return ['websocket', 'sse', 'polling'].filter((t) => $('t-' + t).checked);
}

function startClient() {
  if (client) {
    for (const off of unsubscribe) off();
    client.close();
    log('info', 'client closed; starting a new one');
  }
  const transports = selectedTransports();
  stats.lastTick = null; // a new client is a new session: the tick check starts over
  client = new RealtimeClient(ENDPOINT, {
    transports,
    upgradeProbeMs: 10000, // probe for WebSocket sooner than the default 30 s, so the upgrade is easy to watch
  });
  window.demo.client = client;
  log('info', 'new client, transports: ' + transports.join(' → '));

  const life = client.lifecycle;
  unsubscribe = [
    life.on('state', ({ state, previous }) => {
      log('state', previous + ' → ' + state);
      render();
    }),
    life.on('transport', ({ transport, previous, reason }) => {
      log('transport', (previous ? previous + ' → ' : '') + transport + ' (' + reason + ')');
      render();
    }),
    life.on('open', ({ transport, sessionId, resumed }) => {
      log('open', 'open on ' + transport + ', ' + (resumed ? 'resumed session ' : 'new session ') + short(sessionId));
      render();
    }),
    life.on('transportFailed', ({ transport, opened, probe, failure }) => {
      const what = probe ? 'upgrade probe on ' + transport + ' failed' : transport + (opened ? ' dropped' : ' failed');
      log('failed', what + ': ' + failure.message);
    }),
    life.on('reconnecting', ({ attempt, delayMs, transport, reason }) => {
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

function onChat(msg) {
  const li = document.createElement('li');
  const who = document.createElement('b');
  who.textContent = msg.user;
  li.append(who, ' ', msg.text);
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

for (const t of ['websocket', 'sse', 'polling']) {
  $('t-' + t).addEventListener('change', (event) => {
    if (selectedTransports().length === 0) {
      event.target.checked = true; // at least one transport
      return;
    }
    startClient();
  });
}
$('reconnect').addEventListener('click', startClient);

async function fault(path) {
  try {
    const res = await fetch(path, { method: path === '/demo/faults' ? 'GET' : 'POST', cache: 'no-store' });
    const body = await res.json();
    if ('blockWebSocket' in body) {
      $('fault-block-ws').checked = body.blockWebSocket;
      $('fault-buffer-sse').checked = body.bufferSse;
    }
    return body;
  } catch (error) {
    log('error', 'demo server: ' + error.message);
    return null;
  }
}

$('fault-block-ws').addEventListener('change', (e) => {
  log('fault', (e.target.checked ? 'blocking' : 'unblocking') + ' WebSocket upgrades');
  fault('/demo/block-ws?on=' + (e.target.checked ? 1 : 0));
});
$('fault-buffer-sse').addEventListener('change', (e) => {
  log('fault', 'SSE ' + (e.target.checked ? 'now buffered (silent) by the "proxy"' : 'streams normally again'));
  fault('/demo/buffer-sse?on=' + (e.target.checked ? 1 : 0));
});
$('fault-drop').addEventListener('click', async () => {
  const body = await fault('/demo/drop');
  if (body) log('fault', 'dropped ' + body.dropped + ' TCP connections');
});
$('fault-reset').addEventListener('click', () => {
  log('fault', 'faults cleared');
  fault('/demo/reset');
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

$('chat-user').value = 'guest-' + Math.floor(Math.random() * 900 + 100);
$('chat-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = $('chat-text').value.trim();
  if (!text) return;
  try {
    client.emit('say', { user: $('chat-user').value.trim() || 'anon', text });
    $('chat-text').value = '';
  } catch (error) {
    log('error', error.code + ': ' + error.message);
  }
  render();
});

$('log-clear').addEventListener('click', () => $('log').replaceChildren());

window.demo = { client: null, stats, restart: startClient };
fault('/demo/faults');
startClient();
setInterval(render, 500); // queued count changes without lifecycle events
