// The upload-pack ref advertisement a sync reads its branch from (adapters/git/ref-advertisement.ts),
// on pkt-lines written by hand from gitprotocol-http(5) and on what native git's http-backend
// answers (the int test of the repo cache).
import { describe, expect, test } from '@jest/globals';
import { parseRefAdvertisement } from '../../adapters/git/ref-advertisement.js';

const pkt = (line: string) => `${(Buffer.byteLength(line) + 4).toString(16).padStart(4, '0')}${line}`;
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

describe('parseRefAdvertisement', () => {
  test('a v1 list: every ref with its id, the capabilities after NUL left out', () => {
    const body = [
      pkt('# service=git-upload-pack\n'),
      '0000',
      pkt(`${A} HEAD\0multi_ack thin-pack side-band-64k symref=HEAD:refs/heads/main agent=git/2.39.5\n`),
      pkt(`${A} refs/heads/main\n`),
      pkt(`${B} refs/heads/relyloop/x\n`),
      '0000',
    ].join('');
    expect(parseRefAdvertisement(Buffer.from(body))).toEqual(
      new Map([
        ['HEAD', A],
        ['refs/heads/main', A],
        ['refs/heads/relyloop/x', B],
      ]),
    );
  });

  test("an empty repository's list (capabilities^{} under the zero id) holds no ref", () => {
    const body = [
      pkt('# service=git-upload-pack\n'),
      '0000',
      pkt(`${'0'.repeat(40)} capabilities^{}\0agent=x\n`),
      '0000',
    ];
    expect(parseRefAdvertisement(Buffer.from(body.join('')))).toEqual(new Map());
  });

  test.each([
    ['cut before its closing flush', [pkt('# service=git-upload-pack\n'), '0000', pkt(`${A} refs/heads/main\n`)]],
    ['cut inside a line', [pkt('# service=git-upload-pack\n'), '0000', pkt(`${A} refs/heads/main\n`).slice(0, 20)]],
    ['another service', [pkt('# service=git-receive-pack\n'), '0000', pkt(`${A} refs/heads/main\n`), '0000']],
    ['protocol v2', [pkt('# service=git-upload-pack\n'), '0000', pkt('version 2\n'), pkt('ls-refs\n'), '0000']],
    ['a line that is not `id ref`', [pkt('# service=git-upload-pack\n'), '0000', pkt('nonsense\n'), '0000']],
    ['a bad length', ['zzzz# service=git-upload-pack\n', '0000']],
  ])('%s: no list (the caller asks the remote)', (_, parts) => {
    expect(parseRefAdvertisement(Buffer.from(parts.join('')))).toBeUndefined();
  });
});
