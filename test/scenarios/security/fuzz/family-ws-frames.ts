/**
 * WebSocket messages after a welcome: random text and binary, messages over maxFrame, malformed JSON, unknown frame
 * types, seq gaps and duplicates, ack abuse, `upgrade` frames on a socket that is no probe, echo floods and requests
 * the app cannot answer. Then the socket is closed, cut, or left to the server for a moment.
 */
import type { Family } from './family';
import { badRequest, deepNesting, frame } from './frames';
import { clip, fuzzAddress } from './rand';
import { openWs, sleep, wsSend, type Outcome } from './wire';

type Step = { text: string } | { binary: Buffer } | { pauseMs: number };

export const wsFrames: Family = {
  name: 'ws-frames',
  weight: 3,
  make(r, ctx) {
    const addr = fuzzAddress(r);
    const steps: Step[] = [];
    let seq = 1;
    for (let i = r.size(60); i > 0; i--) {
      switch (r.int(0, 11)) {
        case 0:
          steps.push({ text: r.text(r.size(2000)) });
          break;
        case 1:
          steps.push({ binary: r.bytes(r.size(5000)) });
          break;
        case 2:
          steps.push({ text: `{"t":"emit","seq":${seq},"e":"x","d":"${'y'.repeat(r.int(1 << 20, (1 << 20) + 5000))}"}` }); // over maxFrame
          break;
        case 3:
          steps.push({ text: deepNesting(r, 400_000) });
          break;
        case 4: {
          // An echo flood: the answers go to the session's active connection, this socket.
          const n = r.size(3000);
          for (let k = 0; k < n; k++) steps.push({ text: `{"t":"echo","n":${k}}` });
          break;
        }
        case 5:
          steps.push({ text: JSON.stringify(badRequest(r, seq++)) });
          break;
        case 6:
          seq += r.int(-3, 5); // gaps and duplicates
          steps.push({ text: JSON.stringify({ t: 'emit', seq, e: 'say', d: 'gap' }) });
          break;
        case 7:
          steps.push({ pauseMs: r.int(0, 200) });
          break;
        case 8:
          steps.push({ text: JSON.stringify([frame(r, seq), frame(r, seq + 1)]) }); // a batch: only the server sends those
          break;
        default:
          steps.push({ text: JSON.stringify(frame(r, seq++)) });
      }
    }
    const ending = r.pick(['close', 'terminate', 'linger'] as const);
    const lingerMs = r.int(100, 1000);
    const shown = steps
      .slice(0, 12)
      .map((s) => ('text' in s ? clip(s.text, 60) : 'binary' in s ? `<${s.binary.length} bytes>` : `pause ${s.pauseMs}`))
      .join(' | ');
    return {
      describe: `from ${addr}: WebSocket ${ctx.target.path}/ws?v=1, ${steps.length} step(s): ${shown}${steps.length > 12 ? ' | …' : ''}; then ${ending}`,
      async run(): Promise<Outcome> {
        const { outcome, socket } = await openWs(ctx.target, addr, 'v=1');
        if (socket.welcome) ctx.remember(socket.welcome);
        const deadline = Date.now() + 3000;
        for (const s of steps) {
          if (Date.now() > deadline) break;
          if ('pauseMs' in s) await sleep(s.pauseMs);
          else if ('text' in s) wsSend(socket, s.text);
          else wsSend(socket, s.binary, true);
        }
        if (ending === 'close') socket.ws.close();
        else if (ending === 'terminate') socket.ws.terminate();
        else {
          await sleep(lingerMs);
          socket.ws.terminate();
        }
        return outcome;
      },
    };
  },
};
