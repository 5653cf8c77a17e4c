"""Celery peer figures for the bench: delay().get() latency and drain, on the bench's Redis.

usage: python3 celery_bench.py REDIS_URL LATENCY_N DRAIN_N CONCURRENCY
Starts a Celery worker (prefork, CONCURRENCY processes) of its own, prints one JSON line.
Broker on Redis db 2, results on db 3, so nothing meets the bench's keys on db 0.
"""
import json, os, subprocess, sys, time

url, latency_n, drain_n, concurrency = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
os.environ['BENCH_REDIS_URL'] = url
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from celery_app import app, echo  # noqa: E402
import redis  # noqa: E402

results = redis.Redis.from_url(f'{url}/3')
for db in (2, 3):
    redis.Redis.from_url(f'{url}/{db}').flushdb()
worker = subprocess.Popen(
    [sys.executable, '-m', 'celery', '-A', 'celery_app', 'worker', '-Q', 'bench', '-c', concurrency, '-P', 'prefork',
     '--without-gossip', '--without-mingle', '--without-heartbeat', '-l', 'WARNING'],
    cwd=os.path.dirname(os.path.abspath(__file__)), env=os.environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    deadline = time.time() + 60
    while not app.control.ping(timeout=0.5):
        if time.time() > deadline:
            raise SystemExit('celery worker did not answer ping within 60 s')
    data = {'hello': 'world', 'n': 1}
    for _ in range(min(100, latency_n)):
        echo.delay(data).get(timeout=10)
    lat = []
    for _ in range(latency_n):
        t0 = time.perf_counter()
        echo.delay(data).get(timeout=10)
        lat.append((time.perf_counter() - t0) * 1000)
    lat.sort()
    pct = lambda p: round(lat[min(len(lat) - 1, max(0, -(-p * len(lat) // 100) - 1))], 3)
    # Drain: stop consuming, fill, then time from "consume again" until every result is stored.
    app.control.cancel_consumer('bench', reply=True)
    results.flushdb()
    for i in range(drain_n):
        echo.apply_async(args=[{'bench': True, 'n': i}], queue='bench')
    t0 = time.perf_counter()
    app.control.add_consumer('bench', reply=True)
    while results.dbsize() < drain_n:
        time.sleep(0.01)
    seconds = time.perf_counter() - t0
    print(json.dumps({'p50': pct(50), 'p95': pct(95), 'p99': pct(99), 'n': latency_n, 'drainJobs': drain_n, 'drainRate': round(drain_n / seconds)}))
finally:
    worker.terminate()
    worker.wait(30)
