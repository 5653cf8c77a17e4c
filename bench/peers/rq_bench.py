"""RQ peer figures for the bench: enqueue-then-wait latency and drain, on the bench's Redis.

usage: python3 rq_bench.py REDIS_URL LATENCY_N DRAIN_N
RQ 1.x has no blocking wait for a result, so the latency loop polls the job's status
every 0.5 ms. Its worker is one SimpleWorker (one job at a time, in-process: the default forks per job and ran at about 10 jobs/s here).
Keys on Redis db 4, apart from the bench's on db 0.
"""
import json, os, subprocess, sys, time

url, latency_n, drain_n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import redis  # noqa: E402
from rq import Queue  # noqa: E402
from rq_tasks import echo  # noqa: E402

conn = redis.Redis.from_url(f'{url}/4')
conn.flushdb()
queue = Queue('bench', connection=conn)
worker_cmd = [sys.executable, '-m', 'rq.cli', 'worker', '--url', f'{url}/4', '--worker-class', 'rq.worker.SimpleWorker', '--quiet', 'bench']
here = os.path.dirname(os.path.abspath(__file__))
env = dict(os.environ, PYTHONPATH=here)


def wait(job):
    while True:
        status = job.get_status(refresh=True)
        if status == 'finished':
            return
        if status == 'failed':
            raise SystemExit(f'rq job {job.id} failed')
        time.sleep(0.0005)


worker = subprocess.Popen(worker_cmd, cwd=here, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    data = {'hello': 'world', 'n': 1}
    for _ in range(min(50, latency_n)):
        wait(queue.enqueue(echo, data))
    lat = []
    for _ in range(latency_n):
        t0 = time.perf_counter()
        wait(queue.enqueue(echo, data))
        lat.append((time.perf_counter() - t0) * 1000)
finally:
    worker.terminate()
    worker.wait(30)
lat.sort()
pct = lambda p: round(lat[min(len(lat) - 1, max(0, -(-p * len(lat) // 100) - 1))], 3)

# Drain: fill with no worker running, then a burst worker; timed from its first job's start to its last job's end.
jobs = [queue.enqueue(echo, {'bench': True, 'n': i}) for i in range(drain_n)]
subprocess.run(worker_cmd[:6] + ['--burst'] + worker_cmd[6:], cwd=here, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
for j in jobs:
    j.refresh()
if any(j.get_status() != 'finished' for j in jobs):
    raise SystemExit('rq drain: not every job finished')
seconds = (max(j.ended_at for j in jobs) - min(j.started_at for j in jobs)).total_seconds()
conn.flushdb()
print(json.dumps({'p50': pct(50), 'p95': pct(95), 'p99': pct(99), 'n': latency_n, 'drainJobs': drain_n, 'drainRate': round(drain_n / seconds)}))
