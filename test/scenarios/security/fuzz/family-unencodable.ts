/**
 * Requests to the app's `bad` handler, whose reply or emit cannot be encoded (BigInt, a cycle, nesting too deep for
 * JSON.stringify, a throwing toJSON) or which throws: an app bug any client can trigger, over WebSocket and POST.
 */
import type { Family } from './family';
import { badRequest } from './frames';
import { fuzzAddress } from './rand';
import { openWs, pollHandshake, post, sleep, wsSend, type Outcome } from './wire';

export const unencodable: Family = {
  name: 'unencodable',
  weight: 1,
  make(r, ctx) {
    const addr = fuzzAddress(r);
    const n = r.int(1, 5);
    const frames = Array.from({ length: n }, (_, k) => badRequest(r, k + 1));
    const over = r.pick(['ws', 'post'] as const);
    return {
      describe: `from ${addr}: over ${over}: ${JSON.stringify(frames)}`,
      async run(): Promise<Outcome> {
        if (over === 'post') {
          const w = await pollHandshake(ctx.target, addr);
          if (!w) return 'no-answer';
          return (await post(ctx.target, addr, w, JSON.stringify(frames))).outcome;
        }
        const { outcome, socket } = await openWs(ctx.target, addr, 'v=1');
        for (const f of frames) wsSend(socket, JSON.stringify(f));
        await sleep(r.int(50, 300));
        socket.ws.terminate();
        return outcome;
      },
    };
  },
};
