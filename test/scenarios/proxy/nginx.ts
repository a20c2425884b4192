/**
 * Debian's nginx as the reverse proxy in front of the server under test: the config is written into a temp dir and
 * nginx runs in the foreground (`-p DIR -c FILE -g 'daemon off;'`) in its own process group, so killing the group
 * by pid takes its workers too. Every instance is stopped by `stopAllNginx()` (afterEach/afterAll) on every exit
 * path, and at process exit.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { freePort } from '../../../demo/free-port.mjs';

export { freePort };
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NGINX_CANDIDATES = ['/usr/sbin/nginx', '/usr/bin/nginx'];

/** The nginx binary; a missing one fails loudly: CI installs it (.ci/run), and these claims need the real thing. */
export function nginxPath(): string {
  const found = [process.env.NGINX_PATH, ...NGINX_CANDIDATES].find((p): p is string => p !== undefined && existsSync(p));
  if (found) return found;
  throw new Error("nginx not found: these tests run Debian's nginx as the reverse proxy. Install it (apt-get install nginx; .ci/run does) or set NGINX_PATH.");
}

/** How the proxy is set up (docs/deploy.md explains the recommended one line by line). */
export type ProxyConfig =
  /** docs/deploy.md: upgrade headers, Host and X-Forwarded-* passed on, buffering off, long read timeout. */
  | 'recommended'
  /** `proxy_pass` alone: HTTP/1.0 upstream, no upgrade headers, Host replaced, buffering on (X-Accel-Buffering honoured). */
  | 'naive'
  /** Buffering on, and the server's `X-Accel-Buffering: no` ignored; no upgrade headers. */
  | 'buffering';

export interface NginxOptions {
  upstreamPort: number;
  config: ProxyConfig;
  /** Terminate TLS with a certificate made now (`openssl req -x509`). */
  tls?: boolean;
  /** Extra listening ports with the same setup (another origin for the same app). */
  extraPorts?: number;
  /** Ports to listen on (from `freePort()`), when the app must know them first; default: free ones. */
  ports?: number[];
  /** Compress event streams and JSON too (`gzip on` + `gzip_types`), as many site-wide configs do. */
  gzip?: boolean;
}

export interface Nginx {
  port: number;
  extraPorts: number[];
  /** `http://127.0.0.1:port` or `https://…` */
  origin: string;
  /** SIGKILL to the whole process group: in-flight connections die as in a crash. */
  kill(): Promise<void>;
  /** Starts again with the same config on the same ports. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** What nginx wrote to its error log. */
  errorLog(): string;
}

const running = new Set<ChildProcess>();
const dirs = new Set<string>();

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

process.on('exit', () => {
  for (const child of running) killGroup(child);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function makeCertificate(dir: string): void {
  const r = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
    { encoding: 'utf8' },
  );
  if (r.error || r.status !== 0) throw new Error(`openssl req -x509 failed (install openssl; .ci/run does): ${r.error?.message ?? r.stderr}`);
}

function locationBlock(config: ProxyConfig, upstreamPort: number): string {
  switch (config) {
    case 'recommended':
      return `
      proxy_pass http://realtime_upstream;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_buffering off;
      proxy_read_timeout 75s;`;
    case 'naive':
      return `
      proxy_pass http://127.0.0.1:${upstreamPort};`;
    case 'buffering':
      return `
      proxy_pass http://127.0.0.1:${upstreamPort};
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_buffering on;
      proxy_ignore_headers X-Accel-Buffering;`;
  }
}

function nginxConf(dir: string, ports: number[], options: NginxOptions): string {
  const listen = ports.map((p) => `    listen 127.0.0.1:${p}${options.tls ? ' ssl' : ''};`).join('\n');
  const tls = options.tls ? `    ssl_certificate ${dir}/cert.pem;\n    ssl_certificate_key ${dir}/key.pem;\n` : '';
  const asRoot = process.getuid?.() === 0;
  return `# written by test/proxy/nginx.ts
${asRoot ? 'user root;' : ''}
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 2048; }
http {
  access_log off;
${options.gzip ? '  gzip on;\n  gzip_types text/event-stream application/json;\n  gzip_proxied any;' : ''}
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  map $http_upgrade $connection_upgrade {
    default upgrade;
    '' '';
  }
  upstream realtime_upstream {
    server 127.0.0.1:${options.upstreamPort};
    keepalive 16;
  }
  server {
${listen}
${tls}    location / {${locationBlock(options.config, options.upstreamPort)}
    }
  }
}
`;
}

async function waitForPort(port: number, child: ChildProcess, dir: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`nginx exited (${child.exitCode ?? child.signalCode}): ${readLog(dir)}`);
    }
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (up) return;
    if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port} within ${timeoutMs} ms: ${readLog(dir)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const readLog = (dir: string): string => (existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '');

/** Starts nginx in front of `upstreamPort` with the given config. */
export async function startNginx(options: NginxOptions): Promise<Nginx> {
  const binary = nginxPath();
  const dir = mkdtempSync(join(tmpdir(), 'rf-nginx-'));
  dirs.add(dir);
  // Workers run as another user when nginx starts as root: they must reach the temp files.
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'tmp'));
  if (options.tls) makeCertificate(dir);
  const ports = options.ports ?? [await freePort()];
  for (let i = 0; i < (options.extraPorts ?? 0); i++) ports.push(await freePort());
  const confFile = join(dir, 'nginx.conf');
  writeFileSync(confFile, nginxConf(dir, ports, options));

  let child: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    const c = spawn(binary, ['-p', dir, '-c', confFile, '-e', join(dir, 'error.log'), '-g', 'daemon off;'], {
      cwd: dir,
      detached: true, // its own process group: kill(-pid) takes master and workers
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    c.stderr?.resume();
    running.add(c);
    c.once('exit', () => running.delete(c));
    child = c;
    await waitForPort(ports[0]!, c, dir);
  };
  const kill = async (): Promise<void> => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    killGroup(c);
    await exited;
    running.delete(c);
  };
  await start();
  const nginx: Nginx = {
    port: ports[0]!,
    extraPorts: ports.slice(1),
    origin: `${options.tls ? 'https' : 'http'}://127.0.0.1:${ports[0]}`,
    kill,
    restart: start,
    async stop() {
      await kill();
      instances.delete(nginx);
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    },
    errorLog: () => readLog(dir),
  };
  instances.add(nginx);
  return nginx;
}

const instances = new Set<Nginx>();

/** Stops every nginx still running (afterEach / afterAll). */
export async function stopAllNginx(): Promise<void> {
  await Promise.all([...instances].map((n) => n.stop()));
}
