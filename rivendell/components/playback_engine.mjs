// The replay logic of the playback view (playback.jsx): what the code was at a moment, who
// wrote which part of it, and the interview's time with its idle stretches squeezed out.
//
// Plain functions over the timeline the API serves (GET /api/v1/sessions/{id}/timeline, see
// docs/timeline.md), with no React and no imports: Yjs is handed in as `Y`, so the page uses
// the one copy of Yjs its bundle already holds (two copies break Yjs's type checks) and the
// Node unit tests (tests/node/playback.test.mjs) use tests/node's.
//
// Two clocks: "real" is milliseconds since the epoch (the server's receive times); "playback"
// is milliseconds since the first event, with every idle stretch cut down to KEPT_GAP_MS. The
// scrubber, the markers and play/pause all work in playback time.

/** A stretch with no event for longer than this is idle: playback skips most of it. */
export const IDLE_GAP_MS = 10_000;
/** How long an idle stretch lasts on the bar and on playback (long enough to see a jump). */
export const KEPT_GAP_MS = 1_000;
/** Entries that carry a Yjs update: replaying them in order rebuilds the document. */
export const UPDATE_KINDS = new Set(["seed", "edit"]);
// A snapshot of the document every this many updates, so scrubbing backwards replays at most
// this many updates instead of the whole interview.
const CHECKPOINT_EVERY = 64;

/** Milliseconds since the epoch of an ISO 8601 time ("…T11:00:00.123456Z" included). */
export function parseTime(iso) {
  // Date.parse is only specified for millisecond precision: cut the microseconds off.
  const ms = Date.parse(String(iso).replace(/(\.\d{3})\d+/, "$1"));
  if (Number.isNaN(ms)) throw new RangeError(`not a time: ${iso}`);
  return ms;
}

/** The bytes of a base64 string. */
export function decodeBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * The mapping between real time and playback time for events at `times` (real ms, sorted).
 * Each gap longer than `maxGapMs` plays as `keptGapMs`.
 *
 * @returns `{ duration, toPlayback(real), toReal(playback), skipped }`: `skipped` lists the idle
 *   stretches as `{ at, kept, realStart, realEnd }` (`at`: where it starts in playback time).
 */
export function compressIdle(times, { maxGapMs = IDLE_GAP_MS, keptGapMs = KEPT_GAP_MS } = {}) {
  // Breakpoints of a piecewise-linear, non-decreasing map: [real, playback] pairs.
  const points = [];
  const skipped = [];
  let playback = 0;
  for (let i = 0; i < times.length; i++) {
    if (i > 0) {
      const gap = times[i] - times[i - 1];
      if (gap > maxGapMs) {
        skipped.push({ at: playback, kept: keptGapMs, realStart: times[i - 1], realEnd: times[i] });
        playback += keptGapMs;
      } else playback += Math.max(0, gap);
    }
    points.push([times[i], playback]);
  }
  const duration = playback;
  const interpolate = (value, from, to) => {
    if (points.length === 0) return 0;
    if (value <= points[0][from]) return points[0][to];
    // Binary search for the last breakpoint at or before `value`.
    let lo = 0;
    let hi = points.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (points[mid][from] <= value) lo = mid;
      else hi = mid - 1;
    }
    const a = points[lo];
    const b = points[lo + 1];
    if (!b) return a[to] + (value - a[from]);
    const span = b[from] - a[from];
    if (span <= 0) return a[to];
    return a[to] + ((value - a[from]) / span) * (b[to] - a[to]);
  };
  return {
    duration,
    skipped,
    toPlayback: (real) => Math.min(duration, Math.max(0, interpolate(real, 0, 1))),
    toReal: (p) => interpolate(Math.min(duration, Math.max(0, p)), 1, 0),
  };
}

/**
 * Which participant each Yjs client id belongs to: the participant whose EDIT entries carried
 * structs of that client. The seed's clients (the starter code) map to `null`: no author.
 */
export function clientAuthors(Y, events) {
  const authors = new Map();
  for (const event of events) {
    if (!UPDATE_KINDS.has(event.kind) || !event.update) continue;
    const bytes = typeof event.update === "string" ? decodeBase64(event.update) : event.update;
    const owner = event.kind === "seed" ? null : event.participant_id ?? null;
    for (const struct of Y.decodeUpdate(bytes).structs) {
      const client = struct.id.client;
      // First come, first served: a client id is one editor's, and an update that merely
      // forwards someone else's structs (a reconnecting tab's leftovers) must not steal it.
      if (!authors.has(client)) authors.set(client, owner);
    }
  }
  return authors;
}

/**
 * The visible text of `ytext` cut into runs of one author each: `[{ text, start, participantId }]`
 * (`start`: UTF-16 offset, as Monaco counts; `participantId` null for seed text and unknown
 * clients). Walks the Y.Text's items: each item keeps the client id that inserted it.
 */
export function authorship(ytext, authors) {
  const segments = [];
  let offset = 0;
  for (let item = ytext._start; item !== null; item = item.right) {
    if (item.deleted || !item.countable || typeof item.content?.str !== "string") continue;
    const text = item.content.str;
    const participantId = authors.has(item.id.client) ? authors.get(item.id.client) : null;
    const last = segments[segments.length - 1];
    if (last && last.participantId === participantId) last.text += text;
    else segments.push({ text, start: offset, participantId });
    offset += text.length;
  }
  return segments;
}

/** Where an entry goes in time: when it happened, or for a note or hint the moment it is about. */
function placement(event) {
  const moment = (event.kind === "note" || event.kind === "hint") && event.data?.moment;
  if (moment) {
    try {
      return parseTime(moment);
    } catch {
      // An unreadable moment: the note stays where it was written.
    }
  }
  return parseTime(event.at);
}

/** The timeline's entries in time order (ties in id order), with their real and playback times. */
export function prepare(timeline, options) {
  const events = [...(timeline?.events ?? [])]
    .map((event) => ({ ...event, real: placement(event) }))
    .sort((a, b) => a.real - b.real || a.id - b.id);
  const clock = compressIdle(
    events.map((event) => event.real),
    options,
  );
  for (const event of events) event.t = clock.toPlayback(event.real);
  return { events, clock };
}

/** The room's language at playback time `t` (the seed may name the first one). */
export function languageAt(timeline, events, t) {
  let language = null;
  for (const event of events) {
    if (event.t > t) break;
    if (event.kind === "language" && event.data?.language) language = event.data.language;
  }
  if (language) return language;
  // Before the first change: the seed's language, else what the first run ran, else the
  // interview's own (right unless someone switched it and nothing ran before).
  const firstChange = events.find((event) => event.kind === "language");
  if (!firstChange) return timeline?.interview?.language ?? "plaintext";
  const seeded = events.find((event) => event.kind === "seed")?.data?.language;
  if (seeded) return seeded;
  const ranBefore = events.find((event) => event.kind === "run" && event.t <= firstChange.t);
  return ranBefore?.data?.language ?? timeline?.interview?.language ?? "plaintext";
}

/**
 * A replay of one timeline: `docAt(t)` is the Yjs document as it was at playback time `t`
 * (every update up to and including `t`), rebuilt incrementally while moving forward and from
 * the nearest checkpoint when moving back.
 */
export class Replay {
  constructor(Y, timeline, options) {
    this.Y = Y;
    this.timeline = timeline;
    const { events, clock } = prepare(timeline, options);
    this.events = events;
    this.clock = clock;
    this.duration = clock.duration;
    this.updates = events
      .filter((event) => UPDATE_KINDS.has(event.kind) && event.update)
      // The seed is the document's first state: the code shows it from the very start, even
      // when a join came first (the room seeds its document once someone opens it).
      .map((event) => ({ t: event.kind === "seed" ? -Infinity : event.t, bytes: decodeBase64(event.update) }))
      .sort((a, b) => (a.t === b.t ? 0 : a.t - b.t));
    this.authors = clientAuthors(Y, events);
    this.checkpoints = [{ count: 0, state: null }];
    this.doc = null;
    this.applied = 0;
  }

  /** How many updates happened at or before playback time `t`. */
  countAt(t) {
    let lo = 0;
    let hi = this.updates.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.updates[mid].t <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The document after its first `count` updates (owned by the replay: read, never edit). */
  docAfter(count) {
    const { Y } = this;
    if (this.doc === null || count < this.applied) {
      let checkpoint = this.checkpoints[0];
      for (const c of this.checkpoints) if (c.count <= count && c.count > checkpoint.count) checkpoint = c;
      this.doc?.destroy();
      this.doc = new Y.Doc();
      this.doc.getText("code");
      if (checkpoint.state) Y.applyUpdate(this.doc, checkpoint.state);
      this.applied = checkpoint.count;
    }
    while (this.applied < count) {
      Y.applyUpdate(this.doc, this.updates[this.applied].bytes);
      this.applied++;
      if (this.applied % CHECKPOINT_EVERY === 0 && !this.checkpoints.some((c) => c.count === this.applied)) {
        this.checkpoints.push({ count: this.applied, state: Y.encodeStateAsUpdate(this.doc) });
      }
    }
    return this.doc;
  }

  docAt(t) {
    return this.docAfter(this.countAt(t));
  }

  /** The code at playback time `t`. */
  textAt(t) {
    return this.docAt(t).getText("code").toString();
  }

  /** Who wrote which part of the code at playback time `t` (see `authorship`). */
  authorshipAt(t) {
    return authorship(this.docAt(t).getText("code"), this.authors);
  }

  /** Everything but the edits: what the bar shows as markers. */
  markers() {
    return this.events.filter((event) => !UPDATE_KINDS.has(event.kind));
  }

  languageAt(t) {
    return languageAt(this.timeline, this.events, t);
  }
}

/** The code at playback time `t` of `timeline` (a one-off `Replay`). */
export function textAt(Y, timeline, t, options) {
  return new Replay(Y, timeline, options).textAt(t);
}

/**
 * Edit activity along the bar: `bins` slots over `[0, duration]`, each `{ count, participantId }`
 * (the participant with most edits in it; null when only unattributed ones).
 */
export function activity(replay, bins) {
  const slots = Array.from({ length: bins }, () => new Map());
  const span = replay.duration || 1;
  for (const event of replay.events) {
    if (event.kind !== "edit") continue;
    const slot = Math.min(bins - 1, Math.floor((event.t / span) * bins));
    const who = event.participant_id ?? null;
    slots[slot].set(who, (slots[slot].get(who) ?? 0) + 1);
  }
  return slots.map((counts) => {
    let best = null;
    let bestCount = 0;
    let count = 0;
    for (const [who, n] of counts) {
      count += n;
      if (n > bestCount) [best, bestCount] = [who, n];
    }
    return { count, participantId: best };
  });
}

/** `m:ss` (or `h:mm:ss`) of a duration in milliseconds. */
export function formatClock(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

const KIND_LABELS = {
  run: "Run",
  tests: "Tests",
  language: "Language",
  problem: "Problem edited",
  join: "Joined",
  leave: "Left",
  note: "Note",
  hint: "Hint",
  paste: "Paste",
  control: "Room control",
  ended: "Interview ended",
};

// What each room control (docs/timeline.md, `control`) means when set, and when cleared.
const CONTROL_WORDS = {
  locked: ["Editor locked for candidates", "Editor unlocked"],
  run_disabled: ["Run disabled", "Run enabled"],
};

/** A short description of a marker, for its label and tooltip ("Run by Sam: ok"). */
export function describe(event, names) {
  const who = event.participant_id != null ? names.get(event.participant_id) ?? "someone" : null;
  const by = who ? ` by ${who}` : "";
  const d = event.data ?? {};
  switch (event.kind) {
    case "run":
      return `Run${by}: ${d.status ?? "unknown"}`;
    case "tests":
      return `Tests${by}: ${d.passed ?? 0}/${d.total ?? 0} passed`;
    case "language":
      return `Language${by}: ${d.language ?? "?"}`;
    case "join":
      return `${names.get(event.participant_id) ?? "Someone"} joined`;
    case "leave":
      return `${names.get(event.participant_id) ?? "Someone"} left`;
    case "paste":
      return `Paste${by}: ${d.lines ?? "?"} lines, ${d.chars ?? "?"} characters`;
    case "control": {
      const said = Object.entries(d).map(([key, on]) => CONTROL_WORDS[key]?.[on ? 0 : 1] ?? `${key}: ${on}`);
      return `${said.join(", ") || "Room controls changed"}${by}`;
    }
    case "note":
    case "hint": {
      const lines = d.line_start ? ` (line ${d.line_start}${d.line_end && d.line_end !== d.line_start ? `–${d.line_end}` : ""})` : "";
      return `${KIND_LABELS[event.kind]}${by}${lines}`;
    }
    default:
      return `${KIND_LABELS[event.kind] ?? event.kind}${by}`;
  }
}
