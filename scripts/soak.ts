// `npm run soak`: the long fault-injection soak. Options: --clients N (100), --seconds S (60), --seed X, --restarts R (2),
// --nodes N (cluster mode: N nodes on a real redis-server behind a round-robin balancer; restarts are node SIGKILLs).
import { formatReport, runSoak } from '../test/scenarios/soak/soak';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};

const options = {
  clients: arg('clients', 100),
  durationMs: arg('seconds', 60) * 1000,
  seed: arg('seed', Date.now() % 1e9),
  maxRestarts: arg('restarts', 2),
  nodes: arg('nodes', 0),
};
console.log(`soak: ${options.clients} clients, ${options.durationMs / 1000} s of faults, seed ${options.seed}${options.nodes > 0 ? `, ${options.nodes} nodes on Redis` : ''}`);
const report = await runSoak({ ...options, log: (line) => console.log(line) });
console.log(formatReport(report));
const ok =
  report.serverToClient.lost === 0 &&
  report.serverToClient.duplicated === 0 &&
  report.serverToClient.outOfOrder === 0 &&
  report.unexplainedLostSessions === 0 &&
  report.clientToServer.lost === 0 &&
  report.clientToServer.outOfOrder === 0 &&
  report.clientToServer.duplicated <= report.clientToServer.duplicatesAllowedByResync &&
  report.requests.unsettled === 0;
console.log(ok ? 'soak: PASS' : 'soak: FAIL');
process.exit(ok ? 0 : 1);
