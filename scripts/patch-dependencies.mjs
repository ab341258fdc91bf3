// Run by `npm install` / `npm ci` (postinstall): fixes to installed dependencies, each small,
// exact and meant for upstream. A patch whose code is not found (the dependency changed) is
// reported and left out; test/unit/patched-dependencies.unit.test.ts fails until it is looked at.
//   node scripts/patch-dependencies.mjs [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const PATCHES = [
  {
    name: 'isomorphic-git: pack index fan-out in one pass',
    // GitPackIndex.toBuffer counted, for each of the 256 first bytes, every hash at or below it:
    // 256 × N parseInt calls (0.9 s of a 20,000-file clone). One count per hash, then running sums.
    files: ['node_modules/isomorphic-git/index.cjs', 'node_modules/isomorphic-git/index.js'],
    find: `    for (let i = 0; i < 256; i++) {
      let count = 0;
      for (const hash of this.hashes) {
        if (parseInt(hash.slice(0, 2), 16) <= i) count++;
      }
      fanoutBuffer.writeUInt32BE(count);
    }`,
    replace: `    const byFirstByte = new Uint32Array(256);
    for (const hash of this.hashes) byFirstByte[parseInt(hash.slice(0, 2), 16)]++;
    let count = 0;
    for (let i = 0; i < 256; i++) {
      count += byFirstByte[i];
      fanoutBuffer.writeUInt32BE(count);
    }`,
  },
  {
    name: "isomorphic-git: Node's own SHA-1, synchronously",
    // The Node build hashes with Node's crypto (createSha1) only when crypto.subtle is missing; Node
    // has it, so every object of a pack went through an async subtle digest on the thread pool
    // (20,000 objects, 20,000 round trips). Node's createHash is synchronous and faster for objects
    // this small. The browser build (index.js, sha.js) keeps crypto.subtle.
    files: ['node_modules/isomorphic-git/index.cjs'],
    find: `async function shasum(buffer) {
  if (supportsSubtleSHA1 === null) {
    supportsSubtleSHA1 = await testSubtleSHA1();
  }
  return supportsSubtleSHA1 ? subtleSHA1(buffer) : shasumSync(buffer)
}`,
    replace: `async function shasum(buffer) {
  // Node's crypto (createSha1): synchronous, no thread-pool round trip per object.
  return shasumSync(buffer)
}`,
  },
  {
    name: 'isomorphic-git: a push of one commit sends what differs from its parent, path by path',
    // push listed every object of the new commit's whole tree, then every object of the remote
    // HEAD's whole tree to leave out again: two walks of all trees (0.3 s for 20,000 files, where
    // native git takes 0.06 s). A single new commit whose parent the remote has (the walk of new
    // commits stopped at it) needs only the trees and blobs that differ from the parent's at the
    // same path: the walk descends only where they differ. Anything else keeps the original walk.
    files: ['node_modules/isomorphic-git/index.cjs', 'node_modules/isomorphic-git/index.js'],
    find: `      objects = await listObjects({ fs, cache, gitdir, oids: commits });
    }

    if (thinPack) {`,
    replace: `      objects =
        (thinPack && commits.size === 1
          ? await listObjectsAgainstParent({ fs, cache, gitdir, oid: [...commits][0] })
          : undefined) ?? (await listObjects({ fs, cache, gitdir, oids: commits }));
    }

    // Objects listed against the parent leave out what the remote has already.
    if (thinPack && !objects.againstParent) {`,
  },
  {
    name: 'isomorphic-git: listObjectsAgainstParent (used by the push patch)',
    files: ['node_modules/isomorphic-git/index.cjs', 'node_modules/isomorphic-git/index.js'],
    find: `async function listObjects({`,
    replace: `// The objects of commit \`oid\` that its one parent's tree lacks at the same path (the commit, the
// trees on the way to each change, the new blobs); undefined for a merge or a root commit.
async function listObjectsAgainstParent({ fs, cache, gitdir, oid }) {
  const read = async (id) => (await _readObject({ fs, cache, gitdir, oid: id })).object;
  const headers = GitCommit.from(await read(oid)).headers();
  if (headers.parent.length !== 1) return undefined
  const parentTree = GitCommit.from(await read(headers.parent[0])).headers().tree;
  const objects = new Set([oid]);
  objects.againstParent = true;
  async function walk(tree, before) {
    if (tree === before) return
    objects.add(tree);
    const old = new Map();
    if (before) for (const entry of GitTree.from(await read(before))) old.set(entry.path, entry);
    for (const entry of GitTree.from(await read(tree))) {
      const was = old.get(entry.path);
      if (was && was.oid === entry.oid) continue
      if (entry.type === 'blob') objects.add(entry.oid);
      else if (entry.type === 'tree') await walk(entry.oid, was && was.type === 'tree' ? was.oid : undefined);
    }
  }
  await walk(headers.tree, parentTree);
  return objects
}

async function listObjects({`,
  },
  {
    name: "isomorphic-git: Node's zlib (used by listpackBuffer)",
    files: ['node_modules/isomorphic-git/index.cjs'],
    find: `var pako = _interopDefault(require('pako'));
`,
    replace: `var pako = _interopDefault(require('pako'));
var nodeZlib = require('zlib');
`,
  },
  // fromPack kept its objects in a plain object keyed by pack offset: integer keys in the millions
  // make it a dictionary, and the two passes over it (Object.keys(...).map(Number), for-in with
  // Number(offset)) converted every key to a string and back (together with an earlier require()
  // of zlib per object, now the one `nodeZlib` above: ≈ 100 ms of a 20,000-object clone).
  // A Map keyed by offset, filled in pack order (listpack reads the pack front to back, so its
  // order is the ascending order Object.keys gave).
  {
    name: "isomorphic-git: fromPack's objects in a Map by offset (1/4: the map)",
    files: ['node_modules/isomorphic-git/index.cjs'],
    find: `    const offsetToObject = {};
`,
    replace: `    const offsetToObject = new Map();
`,
  },
  {
    name: 'isomorphic-git: fromPack lists the in-memory pack synchronously (1/2: the loop)',
    // fromPack hands its pack, already one Buffer, to listpack, a stream reader awaiting several
    // times per object (the header's bytes, the chunk, undo, read, the callback, the SHA-1): ≈ 1 KB
    // of promises and async frames per object and most of a 20,000-object clone's garbage. It
    // reads the Buffer in one synchronous pass instead (listpackBuffer, below), inflating each
    // object with Node's zlib; the SHA-1 synchronously; the objects by offset in the Map.
    files: ['node_modules/isomorphic-git/index.cjs'],
    find: `    await listpack([pack], async ({ data, type, reference, offset, num }) => {
      if (totalObjectCount === null) totalObjectCount = num;`,
    replace: `    for (const { data, type: typeNumber, reference, offset, num } of listpackBuffer(pack)) {
      if (totalObjectCount === null) totalObjectCount = num;`,
  },
  {
    name: 'isomorphic-git: fromPack lists the in-memory pack synchronously (2/2: each object)',
    files: ['node_modules/isomorphic-git/index.cjs'],
    find: `      // Change type from a number to a meaningful string
      type = listpackTypes[type];

      if (['commit', 'tree', 'blob', 'tag'].includes(type)) {
        offsetToObject[offset] = {
          type,
          offset,
        };
      } else if (type === 'ofs-delta') {
        offsetToObject[offset] = {
          type,
          offset,
        };
      } else if (type === 'ref-delta') {
        offsetToObject[offset] = {
          type,
          offset,
        };
      }

      // The object is already inflated, so get its oid now. Then the loop below
      // does not inflate it again. That loop reads all other objects.
      const o = offsetToObject[offset];
      if (!o) return
      const resolved = resolveInflated(
        { type, data, reference, offset },
        cache,
        offsetByOid
      );
      if (!resolved) return
      o.oid = await shasum(GitObject.wrap(resolved));
      offsetByOid.set(o.oid, offset);
      cache.set(offset, resolved);
    });`,
    replace: `      // Change type from a number to a meaningful string; any other number is left out.
      const type = listpackTypes[typeNumber];
      if (type === undefined) continue
      const o = { type, offset };
      offsetToObject.set(offset, o);

      // The object is already inflated, so get its oid now. Then the loop below
      // does not inflate it again. That loop reads all other objects.
      const resolved = resolveInflated({ type, data, reference, offset }, cache, offsetByOid);
      if (!resolved) continue
      o.oid = shasumSync(GitObject.wrap(resolved));
      offsetByOid.set(o.oid, offset);
      cache.set(offset, resolved);
    }`,
  },
  {
    name: 'isomorphic-git: listpackBuffer (used by the fromPack patch)',
    files: ['node_modules/isomorphic-git/index.cjs'],
    find: `// My version of git-list-pack - roughly 15x faster than the original
`,
    replace: `// The objects of a pack held in memory, front to back, as listpack gives them, each inflated
// by Node's zlib (which says how many bytes the object used) in one synchronous pass.
function* listpackBuffer(pack) {
  const magic = pack.toString('utf8', 0, 4);
  if (magic !== 'PACK') throw new InternalError(\`Invalid PACK header '\${magic}'\`)
  const version = pack.readUInt32BE(4);
  if (version !== 2) throw new InternalError(\`Invalid packfile version: \${version}\`)
  let numObjects = pack.readUInt32BE(8);
  let pos = 12;
  while (pos < pack.length && numObjects-- > 0) {
    const offset = pos;
    let byte = pack[pos++];
    const type = (byte >> 4) & 0b111;
    let length = byte & 0b1111;
    for (let shift = 4; byte & 0b10000000; shift += 7) {
      byte = pack[pos++];
      length |= (byte & 0b01111111) << shift;
    }
    let ofs;
    let reference;
    if (type === 6) {
      const start = pos;
      ofs = 0;
      let shift = 0;
      do {
        byte = pack[pos++];
        ofs |= (byte & 0b01111111) << shift;
        shift += 7;
      } while (byte & 0b10000000)
      reference = pack.subarray(start, pos);
    } else if (type === 7) {
      reference = pack.subarray(pos, pos + 20);
      pos += 20;
    }
    if (pos >= pack.length) throw new InternalError(\`The packfile ends inside the object at \${offset}\`)
    let inflated;
    try {
      // Output buffers of the object's size: the default 16 KB each cost more than the inflating.
      inflated = nodeZlib.inflateSync(pack.subarray(pos), { info: true, chunkSize: Math.max(64, length + 64) });
    } catch (err) {
      throw new InternalError(\`Inflating the object at \${offset} failed: \${err.message}\`)
    }
    if (inflated.buffer.length !== length) {
      throw new InternalError(\`Inflated object size is different from that stated in packfile.\`)
    }
    pos += inflated.engine.bytesWritten;
    yield { data: inflated.buffer, type, num: numObjects, offset, end: pos, reference, ofs };
  }
}

// My version of git-list-pack - roughly 15x faster than the original
`,
  },
  {
    name: "isomorphic-git: fromPack's objects in a Map by offset (2/4: CRCs)",
    files: ['node_modules/isomorphic-git/index.cjs'],
    find: `    const offsetArray = Object.keys(offsetToObject).map(Number);
    for (const [i, start] of offsetArray.entries()) {
      const end =
        i + 1 === offsetArray.length ? pack.byteLength - 20 : offsetArray[i + 1];
      const o = offsetToObject[start];`,
    replace: `    const offsetArray = [...offsetToObject.keys()];
    for (let i = 0; i < offsetArray.length; i++) {
      const start = offsetArray[i];
      const end =
        i + 1 === offsetArray.length ? pack.byteLength - 20 : offsetArray[i + 1];
      const o = offsetToObject.get(start);`,
  },
  {
    name: "isomorphic-git: fromPack's objects in a Map by offset (3/4: oids)",
    files: ['node_modules/isomorphic-git/index.cjs'],
    find: `    for (let offset in offsetToObject) {
      offset = Number(offset);
      const percent`,
    replace: `    for (const [offset, o] of offsetToObject) {
      const percent`,
  },
  {
    name: "isomorphic-git: fromPack's objects in a Map by offset (4/4: the loop's entry)",
    files: ['node_modules/isomorphic-git/index.cjs'],
    find: `      lastPercent = percent;

      const o = offsetToObject[offset];
      if (!o.oid) {`,
    replace: `      lastPercent = percent;

      if (!o.oid) {`,
  },
  {
    name: 'isomorphic-git: the index a fetch built serves the same operation',
    // A fetch built the pack's index in memory, wrote it, and clone's checkout step (run even
    // with noCheckout, to read the commit) then read it back from disk and parsed it again:
    // ≈ 18 ms of a 20,000-object clone. The index goes into the operation's pack cache under the
    // name readObjectPacked looks it up by.
    files: ['node_modules/isomorphic-git/index.cjs', 'node_modules/isomorphic-git/index.js'],
    find: `    await fs.write(fullpath.replace(/\\.pack$/, '.idx'), await idx.toBuffer());
  }
  return res`,
    replace: `    await fs.write(fullpath.replace(/\\.pack$/, '.idx'), await idx.toBuffer());
    if (!cache[PackfileCache]) cache[PackfileCache] = new Map();
    cache[PackfileCache].set(\`\${gitdir}/objects/pack/pack-\${packfileSha}.idx\`, Promise.resolve(idx));
  }
  return res`,
  },
  // Bottleneck (under @octokit/plugin-throttling, which SPEC §2 names) yields to the event loop with
  // setTimeout(0) several times per job and starts a job due now with another: Node clamps each to
  // 1 ms, and a POST passes three limiters (write, notifications, global): ≈ 24 ms of a 27 ms POST
  // to a local server (a GET ≈ 14 of 16). A zero wait yields with setImmediate (the same turn of the
  // loop later, no clamp); a job with a real wait keeps its timer; stopping clears either.
  {
    name: 'bottleneck: a zero wait yields with setImmediate (yieldLoop)',
    files: ['node_modules/bottleneck/lib/LocalDatastore.js', 'node_modules/bottleneck/light.js'],
    find: `return setTimeout(resolve, t);`,
    replace: `return t > 0 ? setTimeout(resolve, t) : setImmediate(resolve);`,
  },
  // The full build (lib/, our own groups) and the light build (one file, the plugin's), whose
  // lines carry one tab more.
  ...[
    ['node_modules/bottleneck/lib/Bottleneck.js', ''],
    ['node_modules/bottleneck/light.js', '\t'],
  ].flatMap(([file, tab]) => {
    const indent = (text) => text.replace(/^(?=.)/gm, tab);
    return [
      {
        name: `bottleneck: a job due now starts with setImmediate (_run${tab ? ', the light build' : ''})`,
        files: [file],
        find: indent(`      free = this._free.bind(this, index, job);
      return this._scheduled[index] = {
        timeout: setTimeout(() => {
          return job.doExecute(this._limiter, clearGlobalState, run, free);
        }, wait),
`),
        replace: indent(`      free = this._free.bind(this, index, job);
      const execute = () => job.doExecute(this._limiter, clearGlobalState, run, free);
      return this._scheduled[index] = {
        timeout: wait > 0 ? setTimeout(execute, wait) : void 0,
        immediate: wait > 0 ? void 0 : setImmediate(execute),
`),
      },
      {
        name: `bottleneck: stop clears a job started either way${tab ? ' (the light build)' : ''}`,
        files: [file],
        find: indent(`              clearTimeout(v.timeout);
`),
        replace: indent(`              clearTimeout(v.timeout);
              clearImmediate(v.immediate);
`),
      },
    ];
  }),
];

/** Each patch's state in each of its files: 'applied', 'patched now' or 'not found'. */
export function patchDependencies({ write }) {
  const report = [];
  for (const patch of PATCHES) {
    for (const file of patch.files) {
      const full = path.join(root, file);
      let text;
      try {
        text = readFileSync(full, 'utf8');
      } catch {
        report.push({ patch: patch.name, file, state: 'not found' });
        continue;
      }
      if (text.includes(patch.replace)) report.push({ patch: patch.name, file, state: 'applied' });
      else if (!text.includes(patch.find)) report.push({ patch: patch.name, file, state: 'not found' });
      else {
        if (write) writeFileSync(full, text.replace(patch.find, patch.replace));
        report.push({ patch: patch.name, file, state: write ? 'patched now' : 'not applied' });
      }
    }
  }
  return report;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const report = patchDependencies({ write: !process.argv.includes('--check') });
  for (const r of report)
    if (r.state !== 'applied') console.log(`patch-dependencies: ${r.patch}: ${r.file} ${r.state}`);
  if (process.argv.includes('--check') && report.some((r) => r.state !== 'applied')) process.exit(1);
}
