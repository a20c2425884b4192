// One node of `npm run demo -- --nodes N`, as its own process so the page's "Kill this node" can SIGKILL it: the demo
// server on the Redis adapter, no ticker of its own, `count` streams handed to the launcher's publisher. Started by
// demo/cluster.mjs with REDIS_URL, NODE_NAME and PORT (0: any free port; a restart passes the port it had); reports
// `{ t: 'ready', port }` and `{ t: 'count', ... }` over IPC.
import { redisAdapter } from '../dist/server-redis.mjs';
import { startDemoServer } from './server.mjs';

const name = process.env.NODE_NAME ?? `node-${process.pid}`;
const adapter = await redisAdapter({ url: process.env.REDIS_URL });
const demo = await startDemoServer({
  port: Number(process.env.PORT ?? 0),
  strictPort: true, // a restarted node must come back on its own port: the balancer's targets are ports
  tickMs: 0,
  adapter,
  nodeName: name,
  runCount: (count) => process.send?.({ t: 'count', ...count }),
  log: (...args) => console.log(`[${name}]`, ...args),
});
process.send?.({ t: 'ready', port: demo.port });

// The launcher went away (closed, or crashed): a node must not outlive it.
process.on('disconnect', () => process.exit(0));
