// A loopback port nothing listens on right now, for servers that need a number before they start (redis-server,
// nginx). Another process may take it before they bind: callers that can, retry on "address in use".
import { createServer } from 'node:net';

export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}
