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
    name: "isomorphic-git: pack objects inflated by Node's zlib",
    // Reading a pack, every object got a new pako (JavaScript) inflater, 64 KB of state each: ≈ 0.3 s
    // and most of the garbage of a 20,000-file clone. Node's zlib inflates an object whose deflated
    // bytes are all in hand at once and says how many it used; one that runs past them (split
    // across the network's chunks) still goes through pako. The Node build only (index.cjs).
    files: ['node_modules/isomorphic-git/index.cjs'],
    find: `    const { type, length, ofs, reference } = await parseHeader(reader);
    const inflator = new pako.Inflate();`,
    replace: `    const { type, length, ofs, reference } = await parseHeader(reader);
    const whole = await reader.chunk();
    if (whole) {
      let inflated;
      try {
        // Output buffers of the object's size: the default 16 KB each cost more than the inflating.
        inflated = require('zlib').inflateSync(whole, { info: true, chunkSize: Math.max(64, length + 64) });
      } catch (err) {
        inflated = undefined; // the deflated bytes run past this chunk
      }
      await reader.undo();
      if (inflated && inflated.buffer.length === length) {
        await reader.read(inflated.engine.bytesWritten);
        const end = reader.tell();
        await onData({ data: inflated.buffer, type, num: numObjects, offset, end, reference, ofs });
        continue
      }
    }
    const inflator = new pako.Inflate();`,
  },
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
