// Unit tests of the playback view's replay logic (rivendell/components/playback_engine.mjs) on
// timelines made with real Yjs documents, the way the room's editors and the server make them.
// Run by tests/components/test_playback_engine.py, or by hand: node --test tests/node/playback.test.mjs

import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as Y from 'yjs'
import {
  IDLE_GAP_MS,
  KEPT_GAP_MS,
  Replay,
  activity,
  authorship,
  clientAuthors,
  compressIdle,
  describe,
  formatClock,
  parseTime,
  textAt
} from '../../rivendell/components/playback_engine.mjs'

const SEED = 'def solve():\n    pass\n'
const T0 = Date.parse('2026-12-01T11:00:00.000Z')

const iso = (ms) => new Date(ms).toISOString().replace('Z', '000Z') // microseconds, as the API
const b64 = (bytes) => Buffer.from(bytes).toString('base64')

/**
 * A recorded interview: the server seeds the document, then each `step` is
 * `{ at: seconds after T0, who: participant id, edit: (ytext) => void }` made in that
 * participant's own Y.Doc (its own client id), or `{ at, kind, who, data }` for other entries.
 * Every participant's document sees every earlier update (they are connected).
 */
function record (steps) {
  const server = new Y.Doc()
  server.getText('code').insert(0, SEED)
  const events = [{ id: 1, at: iso(T0), kind: 'seed', participant_id: null, data: {}, update: b64(Y.encodeStateAsUpdate(server)) }]
  const docs = new Map()
  const docOf = (who) => {
    if (!docs.has(who)) {
      const doc = new Y.Doc()
      Y.applyUpdate(doc, Y.encodeStateAsUpdate(server))
      docs.set(who, doc)
    }
    return docs.get(who)
  }
  for (const step of steps) {
    const at = iso(T0 + step.at * 1000)
    if (!step.edit) {
      events.push({ id: events.length + 1, at, kind: step.kind, participant_id: step.who ?? null, data: step.data ?? {}, update: null })
      continue
    }
    const doc = docOf(step.who)
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(server)) // catch up with the others first
    const before = Y.encodeStateVector(doc)
    step.edit(doc.getText('code'))
    const update = Y.encodeStateAsUpdate(doc, before)
    Y.applyUpdate(server, update)
    events.push({ id: events.length + 1, at, kind: 'edit', participant_id: step.who, data: {}, update: b64(update) })
  }
  return {
    timeline: {
      format: 'rivendell-timeline',
      version: 1,
      interview: { id: 'abc', title: 'T', language: 'python', problem_markdown: '', created_at: iso(T0), ended_at: null, final_code: server.getText('code').toString() },
      participants: [
        { id: 1, name: 'Alex', role: 'interviewer', color: '#e5484d' },
        { id: 2, name: 'Sam', role: 'candidate', color: '#0090ff' }
      ],
      events,
      notes: []
    },
    final: server.getText('code').toString()
  }
}

const append = (text) => (ytext) => ytext.insert(ytext.length, text)

test('parseTime reads the API times, microseconds included', () => {
  assert.equal(parseTime('2026-12-01T11:00:00.123456Z'), Date.parse('2026-12-01T11:00:00.123Z'))
  assert.equal(parseTime('2026-12-01T11:00:00Z'), T0)
  assert.throws(() => parseTime('yesterday'), RangeError)
})

test('compressIdle keeps short gaps and cuts idle stretches to KEPT_GAP_MS', () => {
  const times = [0, 1000, 3000, 3000 + 5 * 60_000, 3000 + 5 * 60_000 + 2000].map((t) => T0 + t)
  const clock = compressIdle(times)
  assert.equal(clock.duration, 3000 + KEPT_GAP_MS + 2000)
  assert.deepEqual(clock.skipped, [{ at: 3000, kept: KEPT_GAP_MS, realStart: times[2], realEnd: times[3] }])
  assert.deepEqual(times.map(clock.toPlayback), [0, 1000, 3000, 3000 + KEPT_GAP_MS, clock.duration])
  // Inside the idle stretch, time runs proportionally; the maps invert each other.
  assert.equal(clock.toPlayback(times[2] + 150_000), 3000 + KEPT_GAP_MS / 2)
  for (const p of [0, 500, 2999, 3500, 4000, 5500, clock.duration]) {
    assert.ok(Math.abs(clock.toPlayback(clock.toReal(p)) - p) < 1e-6, `round trip of ${p}`)
  }
  // Outside the interview: clamped.
  assert.equal(clock.toPlayback(T0 - 10_000), 0)
  assert.equal(clock.toPlayback(T0 + 10 * 60_000), clock.duration)
  // A gap of exactly the limit is not idle.
  assert.equal(compressIdle([T0, T0 + IDLE_GAP_MS]).duration, IDLE_GAP_MS)
  assert.equal(compressIdle([]).duration, 0)
  assert.equal(compressIdle([T0]).duration, 0)
})

test('textAt replays the seed and the edits up to a moment', () => {
  const { timeline, final } = record([
    { at: 1, who: 1, edit: append('# by Alex\n') },
    { at: 2, who: 2, edit: append('# by Sam\n') },
    { at: 3, who: 2, edit: (t) => t.delete(0, 4) }
  ])
  assert.equal(textAt(Y, timeline, 0), SEED)
  assert.equal(textAt(Y, timeline, 1000), SEED + '# by Alex\n')
  assert.equal(textAt(Y, timeline, 1999), SEED + '# by Alex\n')
  assert.equal(textAt(Y, timeline, 2000), SEED + '# by Alex\n# by Sam\n')
  assert.equal(textAt(Y, timeline, Infinity), final)
  assert.equal(final, SEED.slice(4) + '# by Alex\n# by Sam\n')
})

test('the starter code shows from the start, even when a join came before the seed', () => {
  const { timeline } = record([{ at: 2, who: 1, edit: append('x\n') }])
  const [seed, ...rest] = timeline.events
  const join = { id: 0, at: iso(T0 - 1000), kind: 'join', participant_id: 1, data: {}, update: null }
  const replay = new Replay(Y, { ...timeline, events: [join, seed, ...rest] })
  assert.equal(replay.textAt(0), SEED)
  assert.equal(replay.textAt(replay.duration), SEED + 'x\n')
})

test('a replay scrubbed back and forth always shows the same text for the same moment', () => {
  const steps = []
  for (let i = 0; i < 300; i++) steps.push({ at: i * 0.5, who: 1 + (i % 2), edit: append(String.fromCharCode(97 + (i % 26))) })
  const { timeline } = record(steps)
  const replay = new Replay(Y, timeline)
  const fresh = (t) => new Replay(Y, timeline).textAt(t)
  for (const t of [150_000, 3000, 100_000, 0, 149_000, 60_250, 1e9, 500]) {
    assert.equal(replay.textAt(t), fresh(t), `at ${t}`)
  }
  assert.ok(replay.checkpoints.length > 1, 'checkpoints were taken')
})

test('authorship colours each participant text and leaves the seed to no one', () => {
  const { timeline } = record([
    { at: 1, who: 1, edit: append('alex = 1\n') },
    { at: 2, who: 2, edit: append('sam = 2\n') },
    // Sam types inside Alex's line, and Alex deletes part of the seed.
    { at: 3, who: 2, edit: (t) => t.insert(SEED.length + 4, 'X') },
    { at: 4, who: 1, edit: (t) => t.delete(0, 4) }
  ])
  const replay = new Replay(Y, timeline)
  const segments = replay.authorshipAt(Infinity)
  assert.deepEqual(
    segments.map(({ text, participantId }) => [text, participantId]),
    [
      [SEED.slice(4), null],
      ['alex', 1],
      ['X', 2],
      [' = 1\n', 1],
      ['sam = 2\n', 2]
    ]
  )
  // Offsets are UTF-16 positions in the text, as Monaco counts.
  const text = replay.textAt(Infinity)
  for (const s of segments) assert.equal(text.slice(s.start, s.start + s.text.length), s.text)
  // Earlier, Sam had written nothing yet.
  assert.deepEqual(replay.authorshipAt(1000).map((s) => s.participantId), [null, 1])
})

test('clientAuthors maps each Yjs client to the participant whose edits carried it', () => {
  const { timeline } = record([
    { at: 1, who: 1, edit: append('a') },
    { at: 2, who: 2, edit: append('b') },
    { at: 3, who: 1, edit: append('c') }
  ])
  const authors = clientAuthors(Y, timeline.events)
  const byOwner = [...authors.values()].sort()
  assert.deepEqual(byOwner, [1, 2, null])
  // An update replayed later by another participant (a reconnecting tab's leftovers) does not
  // move the client to them.
  const forwarded = { ...timeline.events[1], id: 99, participant_id: 2 }
  const again = clientAuthors(Y, [...timeline.events, forwarded])
  assert.deepEqual([...again.values()].sort(), [1, 2, null])
})

test('authorship handles text outside the Basic Multilingual Plane', () => {
  const { timeline } = record([
    { at: 1, who: 2, edit: append('s = "👩‍💻 漢字"\n') },
    { at: 2, who: 1, edit: append('t = 1\n') }
  ])
  const replay = new Replay(Y, timeline)
  const text = replay.textAt(Infinity)
  const segments = authorship(replay.docAt(Infinity).getText('code'), replay.authors)
  assert.deepEqual(segments.map((s) => s.participantId), [null, 2, 1])
  for (const s of segments) assert.equal(text.slice(s.start, s.start + s.text.length), s.text)
})

test('markers, their playback times and the idle stretches between them', () => {
  const { timeline } = record([
    { at: 1, who: 1, edit: append('x = 1\n') },
    { at: 2, kind: 'run', who: 1, data: { status: 'ok', language: 'python', stdout: '1\n' } },
    { at: 600, kind: 'paste', who: 2, data: { lines: 5, chars: 80 } },
    { at: 601, who: 2, edit: append('y = 2\n') },
    { at: 602, kind: 'language', who: 2, data: { language: 'go' } },
    { at: 603, kind: 'ended' }
  ])
  const replay = new Replay(Y, timeline)
  assert.equal(replay.duration, 2000 + KEPT_GAP_MS + 3000)
  const markers = replay.markers()
  assert.deepEqual(markers.map((m) => [m.kind, m.t]), [
    ['run', 2000],
    ['paste', 2000 + KEPT_GAP_MS],
    ['language', 2000 + KEPT_GAP_MS + 2000],
    ['ended', 2000 + KEPT_GAP_MS + 3000]
  ])
  // The text at a marker includes everything up to it.
  assert.equal(replay.textAt(markers[0].t), SEED + 'x = 1\n')
  const names = new Map(timeline.participants.map((p) => [p.id, p.name]))
  assert.deepEqual(markers.map((m) => describe(m, names)), [
    'Run by Alex: ok',
    'Paste by Sam: 5 lines, 80 characters',
    'Language by Sam: go',
    'Interview ended'
  ])
  // The language follows the changes; before the first one, what the first run ran.
  assert.equal(replay.languageAt(0), 'python')
  assert.equal(replay.languageAt(markers[2].t), 'go')
  const bins = activity(replay, 6)
  assert.equal(bins.reduce((n, b) => n + b.count, 0), 2)
  assert.equal(bins[1].participantId, 1)
  assert.equal(bins[4].participantId, 2) // at 4000 of 6000
})

test('events out of id order are replayed in time order', () => {
  const { timeline } = record([
    { at: 1, who: 1, edit: append('one\n') },
    { at: 2, kind: 'run', who: 1, data: { status: 'ok' } },
    { at: 3, who: 2, edit: append('two\n') }
  ])
  // The server stores a batch of edits after a run it saw later: ids do not follow time.
  const [seed, first, run, second] = timeline.events
  const shuffled = { ...timeline, events: [seed, { ...run, id: 2 }, { ...first, id: 3 }, { ...second, id: 4 }] }
  const replay = new Replay(Y, shuffled)
  assert.deepEqual(replay.events.map((e) => e.kind), ['seed', 'edit', 'run', 'edit'])
  assert.equal(replay.textAt(replay.markers()[0].t), SEED + 'one\n')
})

test('a note sits at the moment it is about, not when it was written', () => {
  const { timeline } = record([
    { at: 1, who: 2, edit: append('a\n') },
    { at: 5, who: 2, edit: append('b\n') },
    { at: 9, kind: 'note', who: 1, data: { note_id: 1, markdown: 'look', moment: iso(T0 + 1500) } },
    { at: 9.5, kind: 'hint', who: 1, data: { note_id: 2, markdown: 'x', moment: 'garbage' } }
  ])
  const replay = new Replay(Y, timeline)
  const [note, hint] = replay.markers()
  assert.equal(note.kind, 'note')
  assert.equal(note.t, 1500)
  assert.equal(replay.textAt(note.t), SEED + 'a\n')
  assert.equal(hint.t, 9500) // an unreadable moment: where it was written
})

test('describe says what each kind of entry was', () => {
  const names = new Map([[1, 'Alex'], [2, 'Sam']])
  const say = (kind, data = {}, who = 1) => describe({ kind, data, participant_id: who }, names)
  assert.equal(say('control', { locked: true }), 'Editor locked for candidates by Alex')
  assert.equal(say('control', { locked: false }), 'Editor unlocked by Alex')
  assert.equal(say('control', { run_disabled: true }), 'Run disabled by Alex')
  assert.equal(say('tests', { passed: 2, total: 3 }, 2), 'Tests by Sam: 2/3 passed')
  assert.equal(say('note', { line_start: 2, line_end: 3 }), 'Note by Alex (line 2–3)')
  assert.equal(say('hint', { line_start: null }), 'Hint by Alex')
  assert.equal(say('join', {}, 2), 'Sam joined')
  assert.equal(say('leave', {}, 9), 'Someone left')
  assert.equal(say('ended', {}, null), 'Interview ended')
  assert.equal(say('problem'), 'Problem edited by Alex')
})

test('formatClock', () => {
  assert.equal(formatClock(0), '0:00')
  assert.equal(formatClock(61_999), '1:01')
  assert.equal(formatClock(3_600_000 + 5000), '1:00:05')
})
