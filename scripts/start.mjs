// `npm start`: the API and one worker, against REDIS_URL. When REDIS_URL is unset and
// nothing answers on 127.0.0.1:6379, a local redis-server is started for them, with its
// data under .data/, and stopped again when they stop. Both run as the JavaScript bundles
// scripts/bundle.mjs writes, rebuilt first so that they are never older than the sources.
// SIGTERM or SIGINT (npm passes them on: the script is `exec`ed) stops them all; the API
// and the worker also stop by themselves when this process dies, as their IPC channel
// to it closes. Once both are up, one plain line says where to point a browser.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import { constants } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { bundle, BUNDLES, NODE_FLAGS } from './bundle.mjs';

const DEFAULT_PORT = 6379;

function redisAnswers(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG') || d.toString().startsWith('-NOAUTH')));
  });
}

async function startLocalRedis() {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).error) {
    console.error(
      'Nothing answers on 127.0.0.1:6379 and redis-server is not on PATH.\n' +
        'Install it (Debian/Ubuntu: apt-get install -y redis-server) or set REDIS_URL to a running Redis.',
    );
    process.exit(1);
  }
  mkdirSync('.data', { recursive: true });
  const args = ['--bind', '127.0.0.1', '--port', String(DEFAULT_PORT), '--dir', '.data', '--appendonly', 'yes', '--save', ''];
  // Its own process group, so that Ctrl-C in the terminal does not stop Redis under the
  // API and worker while they close; it is stopped after them.
  const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'inherit'], detached: true });
  for (let i = 0; i < 50; i++) {
    if (await redisAnswers(DEFAULT_PORT)) {
      console.log(JSON.stringify({ name: 'start', msg: 'started a local redis-server', port: DEFAULT_PORT, dir: '.data' }));
      return child;
    }
    await delay(100);
  }
  child.kill();
  console.error('redis-server did not start; see its output above');
  process.exit(1);
}

// Before Redis: a bundling error then leaves no redis-server behind.
await bundle();

// A Redis Cluster (REDIS_CLUSTER_NODES) is always the user's own; nothing is started for it.
const redis = process.env.REDIS_URL || process.env.REDIS_CLUSTER_NODES || (await redisAnswers(DEFAULT_PORT)) ? null : await startLocalRedis();

// The IPC channel: they report readiness on it, and its end tells them that this process is gone.
const stdio = ['inherit', 'inherit', 'inherit', 'ipc'];
const children = [];
const names = new Map();
const ended = [];

let exitCode = 0;
let stopping = false;
// Passed on as SIGTERM whatever came: Ctrl-C also reaches the children straight from the
// terminal, and a second SIGINT tells them to stop at once (a person pressing it again).
function stop() {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, stop);

/** Starts one of the two; when it ends, for whatever reason, the other is stopped too. */
function start(name, args, readyEvent) {
  const child = spawn(process.execPath, args, { stdio });
  children.push(child);
  names.set(child, name);
  ended.push(
    new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (code) exitCode = code;
        // Killed outright (an OOM kill, kill -9): no log line of its own says so, and exit code
        // null read as a clean stop. Said here, and exited with as a shell would (128 + signal).
        if (signal && !stopping) {
          const others = children.filter((c) => c !== child).map((c) => names.get(c));
          console.error(`${name} (pid ${child.pid}) was killed by ${signal}${others.length ? `; stopping ${others.join(' and ')}` : ''}`);
          exitCode = 128 + (constants.signals[signal] ?? 0);
        }
        stop();
        resolve(null);
      }),
    ),
  );
  const up = new Promise((resolve) => child.on('message', (m) => m?.event === readyEvent && resolve(m)));
  // Settles with null if the child ends first.
  return Promise.race([up, ended.at(-1)]);
}

/** A URL a browser on this machine can open, also when the API listens on every address. */
function baseUrl(host, port) {
  const local = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${local.includes(':') ? `[${local}]` : local}:${port}`;
}

// The worker only once the API listens: an API that cannot start (its port taken, say) then
// stops the launcher before a worker has taken a job it would have to hand back.
const listening = await start('the API', [...NODE_FLAGS.api, BUNDLES.api], 'api listening');
if (listening && !stopping) {
  const ready = await start('the worker', [...NODE_FLAGS.worker, BUNDLES.worker], 'worker ready');
  if (ready && !stopping) {
    const url = baseUrl(listening.host, listening.port);
    // For a person, among the JSON log lines: where to go, and how to stop.
    const what = redis ? 'the API, the worker and the redis-server started for them' : 'the API and the worker';
    console.log(
      `async-jobs is up: the API at ${url}, the index page at ${url}/, Bull Board at ${url}/admin/queues, the API docs at ${url}/docs. Ctrl-C stops ${what}.`,
    );
  }
}
await Promise.all(ended);
if (redis) {
  redis.kill('SIGTERM');
  await new Promise((r) => redis.once('exit', r));
}
process.exit(exitCode);
