// Test-only preload for worker processes (`node --import`): the names listed in
// RELYLOOP_TEST_LOOPBACK_HOSTS resolve to 127.0.0.1, so a worker reaches the GitHub sandbox under
// github.com-style names (`{host}` and `api.{host}`) over real https. Name resolution is the one
// part that cannot run here for real; every other name resolves as usual. Plain JavaScript:
// Node also runs it in the worker's threads, where the TypeScript loader is not yet active.
import dns from 'node:dns';

const names = new Set(
  (process.env.RELYLOOP_TEST_LOOPBACK_HOSTS ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean),
);

if (names.size > 0) {
  const original = dns.lookup.bind(dns);
  dns.lookup = (hostname, options, callback) => {
    const cb = typeof options === 'function' ? options : callback;
    const opts = typeof options === 'object' && options !== null ? options : {};
    if (!names.has(String(hostname).toLowerCase())) return original(hostname, opts, cb);
    process.nextTick(() =>
      opts.all === true ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4),
    );
    return undefined;
  };
}
