// Client-side glue for rivendell.components.playback: the interview's playback view.
//
// Fetches the timeline (GET /api/v1/sessions/<id>/timeline with the interviewer's token) and
// replays it: a read-only editor (the room's own bundled Monaco, through editor.jsx) shows the
// code as it was at the scrubber's moment, each author's text tinted in their colour; the bar
// under it carries the runs, tests, pastes, notes and the other events as markers. The replay
// itself (text at a moment, attribution, idle compression) is playback_engine.mjs.
//
// Reflex loads this module lazily (NoSSRComponent), and editor.jsx loads Monaco lazily again,
// so the server prerender never touches Monaco.
import React, { useCallback, useEffect, useMemo, useRef, useState } from "react";
import * as Y from "yjs";
import { getBackendURL } from "$/utils/state";
import env from "$/env.json";
import { CodeEditor } from "$/public/external/rivendell/components/editor/editor.jsx";
import { Replay, activity, describe, formatClock } from "./playback_engine.mjs";

export const SPEEDS = [1, 2, 4, 8, 16, 32];
// The editor's id in window.__rivendellEditors (tests and devtools read the text there).
const EDITOR_ID = "playback-editor";
const ACTIVITY_BINS = 240;
// Arrow keys on the scrubber move this far (Shift: ten times); Page Up/Down a larger step.
const ARROW_STEP_MS = 1000;
const PAGE_STEP_MS = 30_000;
const REFUSED = "Only the interview's interviewers can watch its playback.";

/** `http(s)://host[:port][/prefix]/api/v1/sessions/<id>/timeline`, from Reflex's own URLs. */
function timelineUrl(sessionId) {
  const url = getBackendURL(env.PING);
  url.pathname = `${url.pathname.replace(/\/ping\/?$/, "")}/api/v1/sessions/${encodeURIComponent(sessionId)}/timeline`;
  url.search = "";
  url.hash = "";
  return url.toString();
}

// Colours come from the server, but they end up in CSS: only `#rrggbb` gets through.
function safeColor(color) {
  return /^#[0-9a-f]{6}$/i.test(String(color ?? "")) ? color : "#8b8d98";
}

const KIND_STYLE = {
  run: { glyph: "▶", color: "#30a46c" },
  tests: { glyph: "✓", color: "#12a594" },
  paste: { glyph: "P", color: "#f76b15" },
  note: { glyph: "N", color: "#8e4ec6" },
  hint: { glyph: "H", color: "#d6409f" },
  language: { glyph: "L", color: "#0090ff" },
  problem: { glyph: "Q", color: "#0090ff" },
  join: { glyph: "+", color: "#8b8d98" },
  leave: { glyph: "−", color: "#8b8d98" },
  control: { glyph: "C", color: "#ad7f58" },
  ended: { glyph: "■", color: "#e5484d" },
};

function markerStyle(event) {
  const base = KIND_STYLE[event.kind] ?? { glyph: "•", color: "#8b8d98" };
  if (event.kind === "run" && event.data?.status && event.data.status !== "ok") return { ...base, color: "#e5484d" };
  return base;
}

/** The prefix/suffix-preserving edit from `before` to `after`, so the view keeps its scroll. */
function minimalEdit(before, after) {
  let start = 0;
  const max = Math.min(before.length, after.length);
  while (start < max && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  let end = 0;
  while (end < max - start && before.charCodeAt(before.length - 1 - end) === after.charCodeAt(after.length - 1 - end)) end++;
  return { start, deleteCount: before.length - start - end, text: after.slice(start, after.length - end) };
}

function useTimeline(sessionId, token) {
  const [state, setState] = useState({ status: "loading" });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (!sessionId || !token) return;
    const controller = new AbortController();
    setState((s) => (s.status === "ready" ? { ...s, refreshing: true } : { status: "loading" }));
    fetch(timelineUrl(sessionId), { headers: { Authorization: `Bearer ${token}` }, signal: controller.signal })
      .then(async (response) => {
        if (response.status === 401 || response.status === 403) throw new Error(REFUSED);
        if (response.status === 404) throw new Error("This interview does not exist any more.");
        if (!response.ok) throw new Error(`The server could not send the timeline (HTTP ${response.status}).`);
        const timeline = await response.json();
        if (timeline?.format !== "rivendell-timeline") throw new Error("The server sent something that is not a timeline.");
        setState({ status: "ready", timeline, replay: new Replay(Y, timeline) });
      })
      .catch((error) => {
        if (controller.signal.aborted) return;
        setState({ status: "error", message: error?.message || String(error) });
      });
    return () => controller.abort();
  }, [sessionId, token, attempt]);
  return [state, () => setAttempt((n) => n + 1)];
}

/**
 * The playback view of interview `sessionId`, for the holder of `token` (an interviewer's).
 * `languages` maps the room's language ids to Monaco's; `theme` is "light" or "dark".
 */
export function Playback({ sessionId = "", token = "", languages = {}, theme = "light" }) {
  const [loaded, reload] = useTimeline(sessionId, token);
  if (loaded.status === "loading") {
    return (
      <div role="status" style={CENTERED}>
        Loading the interview's timeline…
      </div>
    );
  }
  if (loaded.status === "error") {
    return (
      <div role="alert" style={CENTERED}>
        <div style={{ display: "flex", flexDirection: "column", gap: 12, alignItems: "center" }}>
          <span>{loaded.message}</span>
          {loaded.message !== REFUSED && (
            <button type="button" onClick={reload} style={BUTTON}>
              Try again
            </button>
          )}
        </div>
      </div>
    );
  }
  return (
    <PlaybackView
      timeline={loaded.timeline}
      replay={loaded.replay}
      languages={languages}
      theme={theme}
      refreshing={!!loaded.refreshing}
      onReload={reload}
    />
  );
}

function PlaybackView({ timeline, replay, languages, theme, refreshing, onReload }) {
  const duration = replay.duration;
  const [t, setT] = useState(duration); // opens on the end: the final code
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState(4);
  const [selectedId, setSelectedId] = useState(null);
  const [editorReady, setEditorReady] = useState(false);
  const editorRef = useRef(null);
  const decorations = useRef(null);
  const sliderRef = useRef(null);
  const tRef = useRef(t);
  tRef.current = t;

  const participants = timeline.participants ?? [];
  const names = useMemo(() => new Map(participants.map((p) => [p.id, p.name])), [participants]);
  const colors = useMemo(() => new Map(participants.map((p) => [p.id, safeColor(p.color)])), [participants]);
  const markers = useMemo(() => replay.markers(), [replay]);
  const bins = useMemo(() => activity(replay, ACTIVITY_BINS), [replay]);
  const lanes = useMemo(() => markerLanes(markers, duration), [markers, duration]);
  const laneCount = Math.max(0, ...lanes) + 1;
  const selected = markers.find((m) => m.id === selectedId) ?? null;
  const language = languages[replay.languageAt(t)] ?? replay.languageAt(t);

  // A refreshed timeline (the interview goes on) keeps the position, or the end if it was there.
  const previousDuration = useRef(duration);
  useEffect(() => {
    if (tRef.current >= previousDuration.current) setT(duration);
    previousDuration.current = duration;
  }, [duration]);

  const seek = useCallback(
    (value) => setT(Math.min(duration, Math.max(0, Number.isFinite(value) ? value : 0))),
    [duration],
  );

  // The text and its authors at `t`, applied as a minimal edit (the view keeps its scroll).
  useEffect(() => {
    const editor = editorRef.current;
    const model = editor?.getModel();
    if (!editorReady || !model) return;
    const text = replay.textAt(t);
    const before = model.getValue();
    if (before !== text) {
      const { start, deleteCount, text: inserted } = minimalEdit(before, text);
      const from = model.getPositionAt(start);
      const to = model.getPositionAt(start + deleteCount);
      model.applyEdits([
        { range: { startLineNumber: from.lineNumber, startColumn: from.column, endLineNumber: to.lineNumber, endColumn: to.column }, text: inserted },
      ]);
      if (playing) editor.revealLineInCenterIfOutsideViewport(model.getPositionAt(start + inserted.length).lineNumber);
    }
    const decos = [];
    for (const segment of replay.authorshipAt(t)) {
      if (segment.participantId == null || !colors.has(segment.participantId)) continue;
      const a = model.getPositionAt(segment.start);
      const b = model.getPositionAt(segment.start + segment.text.length);
      decos.push({
        range: { startLineNumber: a.lineNumber, startColumn: a.column, endLineNumber: b.lineNumber, endColumn: b.column },
        options: {
          inlineClassName: `rv-author-${segment.participantId}`,
          hoverMessage: { value: `Written by ${String(names.get(segment.participantId) ?? "someone").replace(/[\\`*_{}[\]()#+\-.!<>|~]/g, "\\$&")}` },
        },
      });
    }
    if (!decorations.current) decorations.current = editor.createDecorationsCollection();
    decorations.current.set(decos);
  }, [t, editorReady, replay, colors, names, playing]);

  // Play: advance at `speed` times real time, in playback time (idle stretches already cut).
  useEffect(() => {
    if (!playing) return;
    let frame = null;
    let last = performance.now();
    const tick = (now) => {
      const next = tRef.current + (now - last) * speed;
      last = now;
      if (next >= duration) {
        setT(duration);
        setPlaying(false);
        return;
      }
      setT(next);
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(frame);
  }, [playing, speed, duration]);

  const togglePlay = () => {
    if (!playing && tRef.current >= duration) setT(0); // from the start again
    setPlaying((p) => !p);
  };

  // Playwright's fill() and some assistive tools set the value and fire a native `input` event
  // that React's change tracking can swallow: listen to the element itself as well.
  useEffect(() => {
    const el = sliderRef.current;
    if (!el) return;
    const onInput = () => seek(Number(el.value));
    el.addEventListener("input", onInput);
    el.addEventListener("change", onInput);
    return () => {
      el.removeEventListener("input", onInput);
      el.removeEventListener("change", onInput);
    };
  }, [seek]);

  const onSliderKey = (event) => {
    const step = event.shiftKey ? ARROW_STEP_MS * 10 : ARROW_STEP_MS;
    const moves = {
      ArrowLeft: -step,
      ArrowDown: -step,
      ArrowRight: step,
      ArrowUp: step,
      PageDown: -PAGE_STEP_MS,
      PageUp: PAGE_STEP_MS,
    };
    if (event.key in moves) seek(tRef.current + moves[event.key]);
    else if (event.key === "Home") seek(0);
    else if (event.key === "End") seek(duration);
    else if (event.key === " " || event.key === "k") togglePlay();
    else return;
    event.preventDefault();
  };

  const jumpTo = (marker) => {
    setPlaying(false);
    setSelectedId(marker.id);
    seek(marker.t);
  };
  const previous = [...markers].reverse().find((m) => m.t < t - 0.5);
  const next = markers.find((m) => m.t > t + 0.5);

  const realNow = replay.clock.toReal(t);
  const valueText = `${formatClock(t)} of ${formatClock(duration)}${
    Number.isFinite(realNow) && replay.events.length ? `, at ${new Date(realNow).toLocaleTimeString()}` : ""
  }`;

  const css = participants
    .map((p) => {
      const c = safeColor(p.color);
      return `.rv-author-${Number(p.id)}{background-color:${c}2e;border-bottom:2px solid ${c}}`;
    })
    .join("\n");

  if (replay.events.length === 0) {
    return (
      <div role="status" style={CENTERED}>
        Nothing has been recorded for this interview yet.
      </div>
    );
  }

  return (
    <div style={ROOT} data-testid="playback">
      <style>{css}</style>
      <div style={MAIN}>
        <div style={EDITOR_BOX}>
          <CodeEditor
            id={EDITOR_ID}
            readOnly
            language={language}
            theme={theme}
            ariaLabel="Code at this moment of the interview"
            onMount={(editor) => {
              editorRef.current = editor;
              setEditorReady(true);
            }}
          />
        </div>
        <div style={TRANSPORT}>
          <div style={{ ...BAR, marginTop: laneCount * MARKER_LANE_PX + 2 }}>
            <div aria-hidden="true" style={ACTIVITY}>
              {bins.map((bin, i) => (
                <span
                  key={i}
                  style={{
                    flex: 1,
                    alignSelf: "flex-end",
                    height: bin.count ? `${Math.min(100, 25 + bin.count * 8)}%` : 0,
                    background: bin.participantId != null ? colors.get(bin.participantId) ?? "#8b8d98" : "#8b8d98",
                    opacity: 0.55,
                  }}
                />
              ))}
              {replay.clock.skipped.map((gap) => (
                <span
                  key={gap.at}
                  title={`${formatClock(gap.realEnd - gap.realStart)} without activity, skipped`}
                  style={{ ...SKIPPED, left: `${(gap.at / (duration || 1)) * 100}%`, width: `${(gap.kept / (duration || 1)) * 100}%` }}
                />
              ))}
            </div>
            <input
              ref={sliderRef}
              type="range"
              min={0}
              max={duration}
              step={1}
              value={Math.round(t)}
              aria-label="Playback position"
              aria-valuetext={valueText}
              onChange={(e) => seek(Number(e.target.value))}
              onKeyDown={onSliderKey}
              style={SLIDER}
            />
            <MarkerRow markers={markers} lanes={lanes} duration={duration} names={names} selectedId={selectedId} onPick={jumpTo} />
          </div>
          <div style={CONTROLS}>
            <button type="button" onClick={togglePlay} aria-label={playing ? "Pause" : "Play"} style={BUTTON}>
              {playing ? "❚❚ Pause" : "▶ Play"}
            </button>
            <button type="button" disabled={!previous} onClick={() => previous && jumpTo(previous)} aria-label="Previous event" style={previous ? BUTTON : DISABLED}>
              ‹ Previous
            </button>
            <button type="button" disabled={!next} onClick={() => next && jumpTo(next)} aria-label="Next event" style={next ? BUTTON : DISABLED}>
              Next ›
            </button>
            <label style={{ display: "flex", alignItems: "center", gap: 6 }}>
              <span>Speed</span>
              <select aria-label="Playback speed" value={speed} onChange={(e) => setSpeed(Number(e.target.value))} style={SELECT}>
                {SPEEDS.map((s) => (
                  <option key={s} value={s}>
                    {s}×
                  </option>
                ))}
              </select>
            </label>
            <span role="timer" aria-label="Playback time" style={{ fontVariantNumeric: "tabular-nums" }}>
              {formatClock(t)} / {formatClock(duration)}
            </span>
            {replay.clock.skipped.length > 0 && (
              <span style={MUTED}>
                idle stretches over 10 s skipped ({replay.clock.skipped.length})
              </span>
            )}
            <span style={{ flex: 1 }} />
            {/* The interview may still be going on: fetch what happened since. */}
            <button type="button" onClick={onReload} disabled={refreshing} style={refreshing ? DISABLED : BUTTON}>
              {refreshing ? "Refreshing…" : "Refresh"}
            </button>
          </div>
        </div>
      </div>
      <aside aria-label="Playback details" style={SIDE}>
        <section aria-labelledby="pb-authors">
          <h2 id="pb-authors" style={H2}>
            Authors
          </h2>
          <ul aria-label="Authors" style={LIST}>
            {participants.map((p) => (
              <li key={p.id} style={{ display: "flex", alignItems: "center", gap: 8 }}>
                <span aria-hidden="true" style={{ width: 12, height: 12, borderRadius: 3, background: safeColor(p.color), flex: "none" }} />
                <span>
                  {p.name} <span style={MUTED}>({p.role})</span>
                </span>
              </li>
            ))}
            <li style={{ display: "flex", alignItems: "center", gap: 8 }}>
              <span aria-hidden="true" style={{ width: 12, height: 12, borderRadius: 3, border: "1px solid var(--gray-a7, #bbb)", flex: "none" }} />
              <span style={MUTED}>Starter code (no colour)</span>
            </li>
          </ul>
        </section>
        <section aria-labelledby="pb-event" aria-live="polite">
          <h2 id="pb-event" style={H2}>
            Event
          </h2>
          {selected ? (
            <EventDetails event={selected} names={names} />
          ) : (
            <p style={MUTED}>Pick a marker on the bar to see what happened there.</p>
          )}
        </section>
      </aside>
    </div>
  );
}

/** The markers over the bar: one tab stop, arrow keys move between them (a toolbar). */
function MarkerRow({ markers, lanes, duration, names, selectedId, onPick }) {
  const [focus, setFocus] = useState(0);
  const refs = useRef([]);
  const onKeyDown = (event, index) => {
    const moves = { ArrowRight: 1, ArrowLeft: -1 };
    let target = null;
    if (event.key in moves) target = Math.min(markers.length - 1, Math.max(0, index + moves[event.key]));
    else if (event.key === "Home") target = 0;
    else if (event.key === "End") target = markers.length - 1;
    if (target === null) return;
    event.preventDefault();
    setFocus(target);
    refs.current[target]?.focus();
  };
  return (
    <div role="toolbar" aria-label="Timeline events" aria-orientation="horizontal" style={MARKERS}>
      {markers.map((marker, index) => {
        const { glyph, color } = markerStyle(marker);
        const label = `${describe(marker, names)}, at ${formatClock(marker.t)}`;
        return (
          <button
            key={marker.id}
            ref={(el) => (refs.current[index] = el)}
            type="button"
            tabIndex={index === Math.min(focus, markers.length - 1) ? 0 : -1}
            aria-label={label}
            aria-pressed={marker.id === selectedId}
            title={label}
            data-kind={marker.kind}
            onClick={() => {
              setFocus(index);
              onPick(marker);
            }}
            onKeyDown={(e) => onKeyDown(e, index)}
            style={{
              ...MARKER,
              left: `${(marker.t / (duration || 1)) * 100}%`,
              bottom: lanes[index] * MARKER_LANE_PX,
              background: color,
              outline: marker.id === selectedId ? "2px solid var(--accent-9, #3e63dd)" : undefined,
            }}
          >
            <span aria-hidden="true">{glyph}</span>
          </button>
        );
      })}
    </div>
  );
}

// Markers closer than this (a share of the bar) would overlap: the later one goes a lane up.
const MARKER_MIN_GAP = 0.02;
const MARKER_LANES = 3;
const MARKER_LANE_PX = 20;

/** The lane (0 = on the bar) of each marker, so that close ones do not hide each other. */
function markerLanes(markers, duration) {
  const lastInLane = Array(MARKER_LANES).fill(-Infinity);
  return markers.map((marker) => {
    const x = marker.t / (duration || 1);
    let lane = lastInLane.findIndex((last) => x - last >= MARKER_MIN_GAP);
    // All lanes crowded: the one whose last marker is furthest back.
    if (lane === -1) lane = lastInLane.indexOf(Math.min(...lastInLane));
    lastInLane[lane] = x;
    return lane;
  });
}

function Field({ label, children }) {
  return (
    <>
      <dt style={DT}>{label}</dt>
      <dd style={DD}>{children}</dd>
    </>
  );
}

function Pre({ label, text }) {
  return (
    <pre aria-label={label} style={PRE}>
      {text || "(empty)"}
    </pre>
  );
}

function EventDetails({ event, names }) {
  const d = event.data ?? {};
  const title = describe(event, names);
  const when = new Date(event.real).toLocaleTimeString();
  if (event.kind === "run") {
    return (
      <div role="region" aria-label="Run details" style={{ display: "flex", flexDirection: "column", gap: 8 }}>
        <strong>{title}</strong>
        <dl style={DL}>
          <Field label="When">{when}</Field>
          <Field label="Status">{d.status ?? "—"}</Field>
          <Field label="Where">{d.runner === "browser" ? "in the browser" : d.runner ?? "—"}</Field>
          <Field label="Language">{d.language ?? "—"}</Field>
          <Field label="Exit code">{d.exit_code ?? "—"}</Field>
          <Field label="Duration">{d.duration_ms != null ? `${d.duration_ms} ms` : "—"}</Field>
        </dl>
        <h3 style={H3}>Code</h3>
        <Pre label="Code that ran" text={d.code} />
        <h3 style={H3}>Input</h3>
        <Pre label="Standard input" text={d.stdin} />
        <h3 style={H3}>Output</h3>
        <Pre label="Standard output" text={d.stdout} />
        {d.stderr ? (
          <>
            <h3 style={H3}>Errors</h3>
            <Pre label="Standard error" text={d.stderr} />
          </>
        ) : null}
      </div>
    );
  }
  return (
    <div role="region" aria-label="Event details" style={{ display: "flex", flexDirection: "column", gap: 8 }}>
      <strong>{title}</strong>
      <dl style={DL}>
        <Field label="When">{when}</Field>
      </dl>
      {event.kind === "tests" && Array.isArray(d.results) && (
        <ul style={LIST}>
          {d.results.map((r, i) => (
            <li key={i}>
              {r.passed ? "✓" : "✗"} {r.name} <span style={MUTED}>({r.status})</span>
            </li>
          ))}
        </ul>
      )}
      {(event.kind === "note" || event.kind === "hint") && <Pre label={event.kind === "note" ? "Note" : "Hint"} text={d.markdown} />}
      {event.kind === "problem" && <Pre label="Problem statement" text={d.markdown} />}
    </div>
  );
}

const FONT = "var(--default-font-family, system-ui, sans-serif)";
const ROOT = { display: "flex", width: "100%", height: "100%", minHeight: 0, fontFamily: FONT, fontSize: 14 };
const MAIN = { flex: 1, minWidth: 0, display: "flex", flexDirection: "column" };
const EDITOR_BOX = { flex: 1, minHeight: 0, position: "relative" };
const TRANSPORT = {
  flex: "none",
  padding: "10px 16px 12px",
  borderTop: "1px solid var(--gray-a5, rgba(0,0,0,.15))",
  display: "flex",
  flexDirection: "column",
  gap: 8,
};
// Its top margin makes room for the marker lanes above it.
const BAR = { position: "relative", height: 64 };
const ACTIVITY = {
  position: "absolute",
  left: 8,
  right: 8,
  top: 0,
  height: 28,
  display: "flex",
  gap: 0,
  alignItems: "flex-end",
  background: "var(--gray-a2, rgba(0,0,0,.03))",
  borderRadius: 4,
  overflow: "hidden",
};
const SKIPPED = {
  position: "absolute",
  top: 0,
  bottom: 0,
  minWidth: 3,
  background: "repeating-linear-gradient(135deg, var(--gray-a6, #ccc) 0 3px, transparent 3px 6px)",
};
// The native range keeps keyboard, touch and assistive-technology support for free.
const SLIDER = { position: "absolute", left: 0, right: 0, top: 30, width: "100%", margin: 0, accentColor: "var(--accent-9, #3e63dd)" };
const MARKERS = { position: "absolute", left: 8, right: 8, bottom: "calc(100% + 2px)", height: 20 };
const MARKER = {
  position: "absolute",
  transform: "translateX(-50%)",
  width: 18,
  height: 18,
  padding: 0,
  border: "1px solid var(--color-panel-solid, #fff)",
  borderRadius: 4,
  color: "#fff",
  fontSize: 10,
  lineHeight: "16px",
  cursor: "pointer",
  fontFamily: FONT,
};
const CONTROLS = { display: "flex", alignItems: "center", gap: 10, flexWrap: "wrap", marginTop: 2 };
const BUTTON = {
  font: "inherit",
  padding: "4px 12px",
  borderRadius: 6,
  border: "1px solid var(--gray-a7, #bbb)",
  background: "var(--color-panel-solid, #fff)",
  color: "var(--gray-12, #111)",
  cursor: "pointer",
};
const SELECT = { ...BUTTON, padding: "3px 6px" };
const DISABLED = { ...BUTTON, opacity: 0.45, cursor: "default" };
const SIDE = {
  width: 360,
  flex: "none",
  borderLeft: "1px solid var(--gray-a5, rgba(0,0,0,.15))",
  padding: 16,
  overflow: "auto",
  display: "flex",
  flexDirection: "column",
  gap: 16,
};
const H2 = { fontSize: 13, fontWeight: 600, textTransform: "uppercase", letterSpacing: ".04em", margin: "0 0 8px", color: "var(--gray-11, #555)" };
const H3 = { fontSize: 12, fontWeight: 600, margin: "4px 0 0", color: "var(--gray-11, #555)" };
const LIST = { listStyle: "none", margin: 0, padding: 0, display: "flex", flexDirection: "column", gap: 6 };
const MUTED = { color: "var(--gray-11, #666)" };
const DL = { display: "grid", gridTemplateColumns: "auto 1fr", gap: "2px 12px", margin: 0 };
const DT = { color: "var(--gray-11, #666)" };
const DD = { margin: 0 };
const PRE = {
  margin: 0,
  padding: 8,
  maxHeight: 180,
  overflow: "auto",
  background: "var(--gray-a3, rgba(0,0,0,.05))",
  borderRadius: 6,
  fontSize: 12,
  whiteSpace: "pre-wrap",
  wordBreak: "break-word",
};
const CENTERED = { display: "flex", alignItems: "center", justifyContent: "center", height: "100%", padding: 32, fontFamily: FONT };
