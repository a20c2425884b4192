/**
 * A reader that stops reading is cut on time, not only once it has let `maxBufferedBytes` pile up: an event stream
 * whose socket passed nothing on between two heartbeats goes, and its session waits for a resume.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Session } from '../../src/server';
import { closeAll, startServer, waitFor } from './helpers';

afterEach(closeAll);

describe('an event stream that is never read', () => {
  it('is cut a heartbeat after its socket stopped taking bytes, though far below maxBufferedBytes', async () => {
    const s = await startServer({ maxBufferedBytes: 256 * 1024 * 1024, heartbeatMs: 300, sessionGraceMs: 60_000 });
    const sessions: Session[] = [];
    s.rt.on('connection', (x) => void sessions.push(x));
    const socket = connect(s.port, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.pause();
    socket.write('GET /realtime/sse?v=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n');
    await waitFor(() => sessions[0]?.transport === 'sse', 3000, 'the stream');
    // Enough to fill loopback socket buffers once; then nothing but heartbeats.
    const pad = 'z'.repeat(256 * 1024);
    for (let i = 0; i < 64; i++) sessions[0]!.emit('big', pad);
    await waitFor(() => sessions[0]!.transport === null, 3000, 'the cut');
    expect(JSON.stringify(s.logger.warnings)).toContain('a heartbeat without progress');
    socket.destroy();
  });
});
