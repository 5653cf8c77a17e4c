// Preloaded (node --expose-gc --import) into the processes the soak figure measures: on
// SIGUSR2 it collects garbage fully and writes the heap left, so that growth between two
// probes is what the process kept, not what V8 had yet to collect. Only the bench loads it.
import { renameSync, writeFileSync } from 'node:fs';

const file = process.env.GC_PROBE_FILE;
if (file && typeof globalThis.gc === 'function') {
  process.on('SIGUSR2', () => {
    // Twice: objects with finalizers (weak references, sockets' handles) go on the second.
    globalThis.gc();
    globalThis.gc();
    const { heapUsed, rss } = process.memoryUsage();
    // Written whole, then renamed: the bench never reads half a file.
    writeFileSync(`${file}.tmp`, JSON.stringify({ heapUsed, rss, at: Date.now() }));
    renameSync(`${file}.tmp`, file);
  });
}
