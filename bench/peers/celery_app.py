"""The Celery app of the bench's peer figure: one no-op task that returns its input, as echo does."""
import os
from celery import Celery

url = os.environ['BENCH_REDIS_URL']
app = Celery('bench', broker=f'{url}/2', backend=f'{url}/3')
app.conf.task_default_queue = 'bench'


@app.task
def echo(data):
    return data
