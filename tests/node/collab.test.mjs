// The reference Yjs client (yjs + y-websocket, `ws` as Node's WebSocket) against a running
// Rivendell. Driven by tests/collab/test_node_client.py, which creates the interview and sets:
//   SERVER_URL    http://HOST:PORT (or ws://HOST:PORT)
//   INTERVIEW_ID  the interview whose room the clients join
//   TOKENS        JSON array of at least 5 participant tokens of that interview
//   SEED          the starter code the server seeds the room with
//   RNG_SEED      optional: seeds the random edits (default 7)
// Run by hand: SERVER_URL=… INTERVIEW_ID=… TOKENS='[…]' SEED=… node --test tests/node/collab.test.mjs
//
// The tests share one room and run in order; the edit test removes its own text again, so each
// test starts from a room that holds exactly SEED.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { isDeepStrictEqual } from 'node:util'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

const required = (name) => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`set ${name} (see the top of ${import.meta.url})`)
  return value
}

const SERVER_URL = required('SERVER_URL').replace(/^http/, 'ws').replace(/\/+$/, '')
const COLLAB_URL = `${SERVER_URL}/ws/collab`
const INTERVIEW_ID = required('INTERVIEW_ID')
const TOKENS = JSON.parse(required('TOKENS'))
const SEED = required('SEED')
const RNG_SEED = Number(process.env.RNG_SEED ?? 7)
const CLIENTS = 5

assert.ok(Array.isArray(TOKENS) && TOKENS.length >= CLIENTS, `TOKENS needs ${CLIENTS} tokens`)

// Every piece is a trap for offset arithmetic: surrogate pairs, ZWJ sequences, flags, CJK,
// combining marks, CRLF, tabs.
const PIECES = ['👩‍💻', '漢字', 'e\u0301', '\r\n', '\t', 'x', 'Ω≈ç', '🇫🇷', ' ', '😀']

/** A small seeded PRNG (mulberry32), so a failing run can be replayed with RNG_SEED. */
function prng (seed) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    random: next,
    below: (n) => Math.floor(next() * n),
    pick (items) { return items[this.below(items.length)] }
  }
}

/** Resolves once `condition()` is truthy; rejects after `ms` with `describe()` in the message. */
async function until (condition, ms, describe) {
  const deadline = Date.now() + ms
  for (;;) {
    if (condition()) return
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${describe()}`)
    }
    await sleep(10)
  }
}

/** Settles like `promise`, or rejects after `ms` (and leaves no timer behind either way). */
function within (promise, ms, describe) {
  let timer
  const timeout = new Promise((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${describe()}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** The state vector as a plain sorted object (its encoding's order is not canonical). */
const stateVector = (doc) =>
  Object.fromEntries([...Y.decodeStateVector(Y.encodeStateVector(doc))].sort((a, b) => a[0] - b[0]))

const preview = (value) => JSON.stringify(value.length > 120 ? `${value.slice(0, 120)}…` : value)

/**
 * One replica: a Y.Doc bound to the room through the reference WebsocketProvider. `log` records
 * what the socket saw: every socket opened, every message received, every close from the server.
 */
function connect (token, { interviewId = INTERVIEW_ID, label = 'client' } = {}) {
  const doc = new Y.Doc()
  const text = doc.getText('code')
  const log = { sockets: [], messages: 0, closes: [], remoteUpdates: 0 }
  class TrackedWebSocket extends WebSocket {
    constructor (url, protocols) {
      super(url, protocols)
      log.sockets.push(this)
      this.addEventListener('message', () => { log.messages++ })
    }
  }
  const provider = new WebsocketProvider(COLLAB_URL, interviewId, doc, {
    params: { token },
    WebSocketPolyfill: TrackedWebSocket,
    // Node 20 has a global BroadcastChannel: left on, replicas in this one process would sync
    // with each other directly and the test would not be testing the server.
    disableBc: true,
    maxBackoffTime: 1000
  })
  provider.on('connection-close', (event) => {
    if (event) log.closes.push({ code: event.code, reason: event.reason })
  })
  doc.on('update', (_update, origin) => {
    if (origin === provider) log.remoteUpdates++
  })
  let destroyed = false
  const client = {
    label,
    doc,
    text,
    provider,
    awareness: provider.awareness,
    log,
    value: () => text.toString(),
    /** Waits for the first sync; fails at once if the server closes the socket instead. */
    async synced (ms = 10_000) {
      await until(
        () => {
          if (log.closes.length) {
            const { code, reason } = log.closes[0]
            throw new Error(`${label}: the server closed the socket (${code} ${reason})`)
          }
          return provider.synced
        },
        ms,
        () => `${label} to sync`
      )
    },
    /** Disconnects and frees everything (timers included), waiting for the socket to close. */
    async destroy () {
      if (destroyed) return
      destroyed = true
      const sockets = log.sockets.filter((s) => s.readyState !== WebSocket.CLOSED)
      const closed = sockets.map((socket) => new Promise((resolve) => socket.once('close', resolve)))
      provider.destroy()
      doc.destroy()
      await Promise.all(closed.map((promise, i) =>
        within(promise, 2000, () => `${label}'s socket to close`).catch(() => sockets[i].terminate())))
    }
  }
  return client
}

const destroyAll = (clients) => Promise.all(clients.map((client) => client.destroy()))

/** Waits until every replica holds the same text and has seen the same updates. */
async function settle (clients, ms = 15_000) {
  await until(
    () => {
      const first = clients[0]
      return clients.every((c) =>
        c.value() === first.value() && isDeepStrictEqual(stateVector(c.doc), stateVector(first.doc)))
    },
    ms,
    () => `replicas to converge: ${clients.map((c) => `${c.label}=${preview(c.value())}`).join(', ')}`
  )
}

const occurrences = (haystack, needle) => haystack.split(needle).length - 1

test('every client receives the seeded document exactly once', { timeout: 20_000 }, async (t) => {
  const clients = TOKENS.slice(0, CLIENTS).map((token, i) => connect(token, { label: `c${i}` }))
  t.after(() => destroyAll(clients))
  await Promise.all(clients.map((c) => c.synced()))
  for (const c of clients) assert.equal(c.value(), SEED, `${c.label} after its sync`)
  // A second seeding (or a duplicated initial update) would arrive right after the sync.
  await sleep(500)
  for (const c of clients) assert.equal(c.value(), SEED, `${c.label} half a second later`)
  // Seeded by the server: one author, and none of the clients.
  const vectors = clients.map((c) => stateVector(c.doc))
  for (const vector of vectors) assert.deepEqual(vector, vectors[0])
  const authors = Object.keys(vectors[0]).map(Number)
  assert.equal(authors.length, SEED === '' ? 0 : 1, `one author of the seed: ${authors}`)
  for (const c of clients) assert.ok(!authors.includes(c.doc.clientID), `${c.label} wrote the seed`)
  for (const c of clients) assert.deepEqual(c.log.closes, [], `${c.label} was disconnected`)
})

test('concurrent inserts and deletes converge without loss or duplication', { timeout: 45_000 }, async (t) => {
  const rng = prng(RNG_SEED)
  const clients = TOKENS.slice(0, CLIENTS).map((token, i) => connect(token, { label: `c${i}` }))
  const extra = []
  t.after(() => destroyAll([...clients, ...extra]))
  await Promise.all(clients.map((c) => c.synced()))
  for (const c of clients) assert.equal(c.value(), SEED, `${c.label} starts from the seed`)

  const kept = new Map() // token -> client number
  const deleted = new Set()
  let inserted = 0

  async function typist (number) {
    const { text, value, label } = clients[number]
    const mine = []
    for (let step = 0; step < 40; step++) {
      const current = value()
      if (mine.length && rng.random() < 0.25) {
        const victim = mine.splice(rng.below(mine.length), 1)[0]
        const at = current.indexOf(victim)
        assert.ok(at >= 0, `${label}: its own ${JSON.stringify(victim)} vanished (RNG_SEED=${RNG_SEED})`)
        text.delete(at, victim.length) // UTF-16 code units, as Yjs counts
        deleted.add(victim)
      } else {
        const token = `⟦${number}.${step}${rng.pick(PIECES)}${rng.pick(PIECES)}⟧`
        // Only between tokens (⟧ is one UTF-16 unit), so no token, surrogate pair or CRLF is split.
        const boundaries = [0, current.length]
        for (let i = 0; i < current.length; i++) if (current[i] === '⟧') boundaries.push(i + 1)
        text.insert(rng.pick(boundaries), token)
        mine.push(token)
        inserted++
      }
      await sleep(rng.random() * 20)
    }
    for (const token of mine) kept.set(token, number)
  }

  await Promise.all(clients.map((_, n) => typist(n)))
  await settle(clients)
  const final = clients[0].value()
  assert.ok(final.isWellFormed(), 'a surrogate pair was split')
  for (const c of clients) {
    assert.ok(Buffer.from(c.value(), 'utf8').equals(Buffer.from(final, 'utf8')), `${c.label} differs`)
  }

  const late = connect(TOKENS[0], { label: 'late' })
  extra.push(late)
  await late.synced()
  assert.equal(late.value(), final, 'the late joiner got a different document')
  assert.deepEqual(stateVector(late.doc), stateVector(clients[0].doc))

  for (const [token, number] of kept) {
    assert.equal(occurrences(final, token), 1, `c${number}'s ${JSON.stringify(token)}`)
  }
  for (const token of deleted) {
    assert.equal(occurrences(final, token), 0, `deleted ${JSON.stringify(token)} is back`)
  }
  let remainder = final
  for (const token of kept.keys()) remainder = remainder.replaceAll(token, '')
  assert.equal(remainder, SEED, 'removing every surviving token does not leave the seed')
  assert.equal(kept.size + deleted.size, inserted)

  // Now remove them for real, each client its own, concurrently: every replica is the seed again.
  await Promise.all(clients.map(async (client, number) => {
    for (const [token, owner] of kept) {
      if (owner !== number) continue
      const at = client.value().indexOf(token)
      assert.ok(at >= 0, `${client.label} lost ${JSON.stringify(token)}`)
      client.text.delete(at, token.length)
      await sleep(rng.random() * 5)
    }
  }))
  const everyone = [...clients, late]
  await settle(everyone)
  for (const c of everyone) assert.equal(c.value(), SEED, `${c.label} after removing every token`)
  // Converged by live updates alone: no socket was closed and resynced along the way.
  for (const c of everyone) assert.deepEqual(c.log.closes, [], `${c.label} was disconnected`)
  for (const c of everyone) assert.equal(c.log.sockets.length, 1, `${c.label} reconnected`)
})

test('awareness: names and colours are shared, and removed when a client leaves', { timeout: 20_000 }, async (t) => {
  const clients = []
  t.after(() => destroyAll(clients))
  const join = (token, label) => {
    const client = connect(token, { label })
    clients.push(client)
    return client
  }
  const userOf = (viewer, client) => viewer.awareness.getStates().get(client.doc.clientID)?.user
  const sees = (viewer, client, user, ms = 5000) => until(
    () => isDeepStrictEqual(userOf(viewer, client), user),
    ms,
    () => `${viewer.label} to see ${client.label} as ${JSON.stringify(user)}, ` +
      `it sees ${JSON.stringify(userOf(viewer, client))}`
  )
  const forgets = (viewer, client, ms = 5000) => until(
    () => !viewer.awareness.getStates().has(client.doc.clientID),
    ms,
    () => `${viewer.label} to drop ${client.label}'s state, still ` +
      JSON.stringify(viewer.awareness.getStates().get(client.doc.clientID))
  )

  const aliceUser = { name: 'Alice 漢字 👩‍💻', color: '#e91e63' }
  const alice = join(TOKENS[0], 'alice')
  await alice.synced()
  alice.awareness.setLocalStateField('user', aliceUser)
  await sleep(200) // Alice's update reaches the server before Bob exists
  // Bob joins after Alice set her name: the server tells a joiner who is already here
  // (Alice's provider would only repeat her state in its 15 s keep-alive).
  const bob = join(TOKENS[1], 'bob')
  await bob.synced()
  await sees(bob, alice, aliceUser)

  const bobUser = { name: 'Bob', color: '#2196f3' }
  bob.awareness.setLocalStateField('user', bobUser)
  await sees(alice, bob, bobUser)

  // A change is relayed live.
  const renamed = { name: 'Alice (interviewer)', color: '#4caf50' }
  alice.awareness.setLocalStateField('user', renamed)
  await sees(bob, alice, renamed)

  // Alice leaves the way a closing tab does: the provider says goodbye, then closes.
  await alice.destroy()
  await forgets(bob, alice)

  // Carol's connection drops without a goodbye: only the server can tell Bob she left.
  const carolUser = { name: 'Carol', color: '#ff9800' }
  const carol = join(TOKENS[2], 'carol')
  await carol.synced()
  carol.awareness.setLocalStateField('user', carolUser)
  await sees(bob, carol, carolUser)
  const socket = carol.provider.ws
  socket.terminate() // no close frame, no awareness removal: the TCP connection just ends
  carol.provider.destroy() // the socket is no longer open: nothing more is sent, no reconnect
  await forgets(bob, carol)
  assert.equal(carol.log.sockets.length, 1, 'carol reconnected')

  for (const c of [alice, bob]) assert.deepEqual(c.log.closes, [], `${c.label} was disconnected`)
})

test('a wrong token is refused with 4401 before any document byte', { timeout: 30_000 }, async (t) => {
  const cases = [
    { label: 'forged token', interviewId: INTERVIEW_ID, token: 'forged-token', code: 4401 },
    { label: 'empty token', interviewId: INTERVIEW_ID, token: '', code: 4401 },
    { label: 'unknown interview', interviewId: 'nosuchinterview', token: TOKENS[0], code: 4404 }
  ]
  const clients = []
  t.after(() => destroyAll(clients))
  for (const { label, interviewId, token, code } of cases) {
    const client = connect(token, { interviewId, label })
    clients.push(client)
    const terminal = new Promise((resolve) => client.provider.once('closed', resolve))
    const closed = await within(terminal, 10_000, () =>
      `${label}: a terminal close (closes so far: ${JSON.stringify(client.log.closes)})`)
    assert.equal(closed.code, code, `${label}: ${closed.reason}`)
    assert.ok(closed.reason.length > 0, `${label}: no reason given`)
    // The server reads the provider's first sync message before it closes a refused socket,
    // so the close frame and its reason arrive on the first try (no reset, no 1006 retry).
    assert.deepEqual(client.log.closes, [closed], `${label}: ${JSON.stringify(client.log.closes)}`)
    // Long enough for a reconnect or a stray sync message to show.
    await sleep(700)
    assert.equal(client.log.sockets.length, 1, `${label}: reconnected after ${code}`)
    assert.equal(client.log.messages, 0, `${label}: the server sent messages before refusing`)
    assert.equal(client.log.remoteUpdates, 0, `${label}: the document received updates`)
    assert.equal(client.value(), '', `${label}: the document has content`)
    assert.deepEqual(stateVector(client.doc), {}, `${label}: the document has content`)
    assert.equal(client.provider.synced, false, `${label}: synced`)
    assert.equal(client.awareness.getStates().size, 1, `${label}: it was shown someone's cursor`)
  }
})
