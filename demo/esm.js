// The ES module build, resolved through the import map in esm.html. Uses the browser's own WebSocket, EventSource
// and fetch; event-source-polyfill is only fetched if this browser had no EventSource.
import { RealtimeClient } from 'realtime-fallback';

const $ = (id) => document.getElementById(id);
const client = new RealtimeClient(location.origin + '/realtime');

const render = () => {
  $('state').textContent = client.state;
  $('state').className = 'state-' + client.state;
  $('transport').textContent = client.transport ?? '–';
};
client.lifecycle.on('state', render);
client.lifecycle.on('transport', render);
client.on('tick', (data) => {
  $('ticks').textContent = String(data.n);
});
$('echo').addEventListener('click', async () => {
  const started = performance.now();
  try {
    await client.request('echo', { started }, { timeout: 10000 });
    $('rtt').textContent = (performance.now() - started).toFixed(1) + ' ms over ' + client.transport;
  } catch (error) {
    $('rtt').textContent = 'failed: ' + (error.code ?? error.message);
  }
});
$('code').textContent = `import { RealtimeClient } from 'realtime-fallback';

const client = new RealtimeClient(location.origin + '/realtime');
client.on('tick', (data) => show(data.n));
client.lifecycle.on('transport', (e) => console.log('now on', e.transport, e.reason));
const reply = await client.request('echo', { started }, { timeout: 10000 });`;

window.demo = { client };
render();
