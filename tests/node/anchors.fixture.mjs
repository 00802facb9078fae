// Makes tests/node/anchors.json: note anchors exactly as the browser encodes them (yjs's
// encodeRelativePosition), for tests/test_anchors.py to resolve with pycrdt. Run by hand after
// a yjs upgrade: `node tests/node/anchors.fixture.mjs > tests/node/anchors.json`.
//
// Two replicas start from the same document; the anchors pin lines 2-3 on replica A; then both
// edit concurrently above them (A inserts a line at the top, B deletes line 1 and inserts two
// lines, with non-ASCII text so UTF-16 and UTF-8 offsets differ) and the updates are merged.

import * as Y from 'yjs'

const b64 = (bytes) => Buffer.from(bytes).toString('base64')
const seed = 'def solve(xs):\n    seen = {}  # é → 😀\n    return seen\n\nprint(solve([1]))\n'

const a = new Y.Doc()
a.clientID = 101
a.getText('code').insert(0, seed)
const initial = Y.encodeStateAsUpdate(a)
const b = new Y.Doc()
b.clientID = 202
Y.applyUpdate(b, initial)

// The pinned range: from the first character of line 2 to the last character of line 3, the
// start sticking to the character after it, the end to the character before it (notes.jsx).
const text = a.getText('code')
const lines = seed.split('\n')
const start = lines[0].length + 1
const end = start + lines[1].length + 1 + lines[2].length
const anchorStart = Y.encodeRelativePosition(Y.createRelativePositionFromTypeIndex(text, start, 0))
const anchorEnd = Y.encodeRelativePosition(Y.createRelativePositionFromTypeIndex(text, end, -1))

a.getText('code').insert(0, '# 👩‍💻 a comment above\n')
const bText = b.getText('code')
bText.delete(0, lines[0].length + 1)
bText.insert(0, 'import sys\n# ünïcode\ndef solve(xs):  # renamed\n')

const aUpdate = Y.encodeStateAsUpdate(a, Y.encodeStateVector(b))
const bUpdate = Y.encodeStateAsUpdate(b, Y.encodeStateVector(a))
Y.applyUpdate(a, bUpdate)
Y.applyUpdate(b, aUpdate)
const merged = a.getText('code').toString()
if (merged !== b.getText('code').toString()) throw new Error('replicas did not converge')
const resolve = (encoded) => Y.createAbsolutePositionFromRelativePosition(Y.decodeRelativePosition(encoded), a).index
const lineOf = (index) => merged.slice(0, index).split('\n').length

console.log(JSON.stringify({
  seed,
  initial: b64(initial),
  anchor_start: b64(anchorStart),
  anchor_end: b64(anchorEnd),
  merged: b64(Y.encodeStateAsUpdate(a)),
  merged_text: merged,
  lines: [lineOf(resolve(anchorStart)), lineOf(resolve(anchorEnd))],
  pinned_code: lines.slice(1, 3).join('\n'),
}, null, 2))
