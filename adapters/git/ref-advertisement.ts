// The refs a git server lists when a fetch begins (smart HTTP, protocol v0/v1: the answer to
// `GET …/info/refs?service=git-upload-pack`, gitprotocol-http(5) "Smart Clients"). A sync reads
// the proposal's branch from it, so a branch that is not on the remote needs no request of its own.
import type { HttpClient } from 'isomorphic-git';

/** What a sync saw of the remote's refs: `refs/heads/x` → oid; undefined until a whole list arrived. */
export interface AdvertisementTap {
  http: HttpClient;
  refs(): Map<string, string> | undefined;
}

/**
 * Parses a v0/v1 upload-pack advertisement: `# service=…`, a flush, then `oid SP ref` lines (the
 * first with `\0capabilities`) up to a flush. Undefined for anything else (a v2 capability list,
 * a truncated answer): the caller then asks the remote itself.
 */
export function parseRefAdvertisement(body: Buffer): Map<string, string> | undefined {
  const refs = new Map<string, string>();
  let offset = 0;
  let flushes = 0;
  let first = true;
  while (offset + 4 <= body.length) {
    const length = Number.parseInt(body.subarray(offset, offset + 4).toString('latin1'), 16);
    if (!Number.isInteger(length) || (length > 0 && length < 4)) return undefined;
    if (length === 0) {
      offset += 4;
      if (++flushes === 2) return refs;
      continue;
    }
    if (offset + length > body.length) return undefined;
    const line = body.subarray(offset + 4, offset + length).toString('utf8');
    offset += length;
    if (flushes === 0) {
      if (!line.startsWith('# service=git-upload-pack')) return undefined;
      continue;
    }
    const text = (first ? line.split('\0')[0]! : line).replace(/\n$/, '');
    first = false;
    if (text.startsWith('version ')) return undefined; // protocol v2: no refs here
    const match = /^([0-9a-f]{40}|[0-9a-f]{64}) (\S+)$/.exec(text);
    if (match === null) return undefined;
    // An empty repository advertises `capabilities^{}` under the zero id: no ref.
    if (match[2] !== 'capabilities^{}') refs.set(match[2]!, match[1]!);
  }
  return undefined;
}

/** `http`, keeping a copy of the upload-pack advertisement each fetch or clone receives. */
export function tapRefAdvertisement(http: HttpClient): AdvertisementTap {
  let chunks: Uint8Array[] | undefined;
  return {
    http: {
      async request(req) {
        const res = await http.request(req);
        const url = new URL(req.url);
        if (
          (req.method ?? 'GET') !== 'GET' ||
          !url.pathname.endsWith('/info/refs') ||
          url.searchParams.get('service') !== 'git-upload-pack' ||
          res.statusCode !== 200 ||
          res.body === undefined
        )
          return res;
        const kept: Uint8Array[] = [];
        chunks = kept; // the latest advertisement counts (a re-clone asks again)
        const body = res.body;
        return {
          ...res,
          body: (async function* () {
            for await (const chunk of body) {
              kept.push(chunk);
              yield chunk;
            }
          })(),
        };
      },
    },
    refs: () => (chunks === undefined ? undefined : parseRefAdvertisement(Buffer.concat(chunks))),
  };
}
