import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { BenchArgs } from './args';

const pkgVersion = (name: string) => {
  try {
    return (JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
};

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** Where and when the numbers were taken, with the run's settings, so a reader can judge them. */
export function machineInfo(args: BenchArgs) {
  return {
    date: new Date().toISOString(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    arch: os.arch(),
    mode: args.quick ? 'quick' : 'full',
    settings: {
      runs: args.runs,
      durationS: args.durationS,
      connections: args.connections,
      drainJobs: args.drainJobs,
      e2eCount: args.e2eCount,
      waiters: args.waiters,
      profile: args.profile,
    },
  };
}

export function versionInfo(redisVersion: string) {
  return {
    asyncJobs: commit(),
    node: process.version,
    redis: redisVersion,
    bullmq: pkgVersion('bullmq'),
    ioredis: pkgVersion('ioredis'),
    express: pkgVersion('express'),
    autocannon: pkgVersion('autocannon'),
    tsx: pkgVersion('tsx'),
  };
}
