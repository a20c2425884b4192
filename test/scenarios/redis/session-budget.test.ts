// With an adapter, the memory budget for sessions waiting for a resume lets only this process's copies go: the
// journal still holds them, so a client coming back resumes (restored, everything replayed once) instead of resyncing.
import { describe, expect, it } from 'vitest';
import type { MessageFrame, ServerFrame, WelcomeFrame } from '../../../src/protocol/frames';
import type { Session } from '../../../src/server';
import { redisAdapter } from '../../../src/server/redis';
import { isType, startServer, waitFor, WsClient } from '../../server/helpers';
import { useRedisPerFile } from './redis-per-file';

const redis = useRedisPerFile();

const isNews = (f: ServerFrame): f is MessageFrame => f.t === 'msg' && f.e === 'news';

describe('sessionsMaxBytes with the Redis adapter', () => {
  it('drops the oldest local copies; their clients resume from the journal with nothing lost or repeated', async () => {
    const adapter = await redisAdapter({ url: redis.url });
    const s = await startServer({ adapter, sessionGraceMs: 20_000, sessionsMaxBytes: 64 * 1024 });
    const sessions: Session[] = [];
    s.rt.on('connection', (x) => void sessions.push(x));
    const welcomes: WelcomeFrame[] = [];
    for (let i = 0; i < 6; i++) {
      const c = await WsClient.open(s.base);
      welcomes.push(await c.welcome());
      c.close();
      await c.closed;
    }
    await waitFor(() => sessions.length === 6 && sessions.every((x) => x.transport === null), 3000, 'six abandoned sessions');
    for (let i = 1; i <= 100; i++) s.rt.emit('news', { i, pad: 'p'.repeat(200) });
    await waitFor(() => s.rt.sessions < 6, 5000, 'local copies let go');
    expect(s.logger.warnings.some(([m]) => String(m).includes('sessionsMaxBytes'))).toBe(true);

    const oldest = welcomes[0]!;
    const back = await WsClient.open(s.base, { sid: oldest.sid, secret: oldest.secret, last: 0 });
    expect(await back.welcome()).toMatchObject({ sid: oldest.sid, resumed: true });
    const heard: MessageFrame[] = [];
    for (let i = 1; i <= 100; i++) heard.push(await back.frames.next(isNews));
    expect(heard.map((f) => (f.d as { i: number }).i)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    await new Promise((r) => setTimeout(r, 100));
    expect(back.frames.all.filter(isNews)).toHaveLength(100);
    back.close();
  });
});
