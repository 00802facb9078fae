// Client-side glue for rivendell.components.notes: interviewers' notes pinned to code.
//
// A note pinned to lines keeps two Yjs relative positions in the room's shared Y.Text "code":
// the first character of its first line (sticking to the character after it) and the last
// character of its last line (sticking to the one before it). They name characters, not
// offsets, so the note stays on the same code when lines above it change, whoever types.
// rivendell/anchors.py resolves the same bytes on the server.
//
// The live document comes from the editor registry editor.jsx keeps on `window`
// (`__rivendellEditors[id].ydoc`, set by collab.jsx once co-editing starts). Importing
// collab.jsx here would drag Monaco into this module's chunk, so it is looked up instead.
import React, { useEffect, useRef, useState } from "react";
import * as Y from "yjs";

const POLL_MS = 400; // until the room's co-editing session is up (and after it restarts)

function liveEntry(room) {
  const editors = typeof window === "undefined" ? {} : window.__rivendellEditors || {};
  const wanted = encodeURIComponent(room || "");
  for (const entry of Object.values(editors)) {
    if (!entry?.ydoc || !entry.binding) continue;
    if (!room || entry.provider?.roomname === wanted) return entry;
  }
  return null;
}

function toBase64(bytes) {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function fromBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function lineAt(text, index) {
  let line = 1;
  const end = Math.max(0, Math.min(index, text.length));
  for (let i = 0; i < end; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** The lines two anchors cover in `ydoc` now, `[first, last]`, or null (as anchors.py). */
export function resolveLines(ydoc, anchorStart, anchorEnd) {
  if (!ydoc || !anchorStart || !anchorEnd) return null;
  try {
    const start = Y.createAbsolutePositionFromRelativePosition(Y.decodeRelativePosition(fromBase64(anchorStart)), ydoc);
    const end = Y.createAbsolutePositionFromRelativePosition(Y.decodeRelativePosition(fromBase64(anchorEnd)), ydoc);
    const ytext = ydoc.getText("code");
    if (!start || !end || start.type !== ytext || end.type !== ytext) return null;
    const text = ytext.toString();
    const first = lineAt(text, start.index);
    // The end sits just after the range's last character: that character's line.
    const last = lineAt(text, Math.max(start.index, end.index - 1));
    return [first, Math.max(first, last)];
  } catch {
    return null;
  }
}

/**
 * The lines selected in the room's editor as a note's pin: `{anchor_start, anchor_end,
 * line_start, line_end}` (anchors base64), or `{}` when the editor is not co-editing yet.
 * A selection ending at the start of a line does not take that line.
 */
export function selectionPin(room) {
  const entry = liveEntry(room);
  const editor = entry?.editor;
  const model = editor?.getModel();
  const selection = editor?.getSelection();
  if (!entry || !model || !selection) return {};
  const first = selection.startLineNumber;
  let last = selection.endLineNumber;
  if (last > first && selection.endColumn === 1) last--;
  const ytext = entry.ydoc.getText("code");
  const start = model.getOffsetAt({ lineNumber: first, column: 1 });
  const end = model.getOffsetAt({ lineNumber: last, column: model.getLineMaxColumn(last) });
  const anchorStart = Y.createRelativePositionFromTypeIndex(ytext, start, 0);
  const anchorEnd = Y.createRelativePositionFromTypeIndex(ytext, Math.max(start, end), -1);
  return {
    anchor_start: toBase64(Y.encodeRelativePosition(anchorStart)),
    anchor_end: toBase64(Y.encodeRelativePosition(anchorEnd)),
    line_start: first,
    line_end: last,
  };
}

if (typeof window !== "undefined") {
  // For rx.call_script (the "Add note" button reads the selection through it).
  window.__rivendellNotes = { selectionPin, resolveLines };
}

/** The room's live document, re-rendering its user on every change (null until it is up). */
function useLiveDoc(room) {
  const [entry, setEntry] = useState(null);
  const [, setVersion] = useState(0);
  useEffect(() => {
    let current = null;
    let frame = null;
    const bump = () => {
      if (frame === null) frame = requestAnimationFrame(() => {
        frame = null;
        setVersion((n) => n + 1);
      });
    };
    const check = () => {
      const found = liveEntry(room);
      if (found?.ydoc === current?.ydoc) return;
      current?.ydoc?.off("update", bump);
      current = found;
      current?.ydoc?.on("update", bump);
      setEntry(found);
    };
    check();
    const timer = setInterval(check, POLL_MS);
    return () => {
      clearInterval(timer);
      if (frame !== null) cancelAnimationFrame(frame);
      current?.ydoc?.off("update", bump);
    };
  }, [room]);
  return entry;
}

function linesLabel(first, last) {
  return first === last ? `line ${first}` : `lines ${first}–${last}`;
}

/** "lines 4–6": where a pinned note's code is now (the stored lines until the editor syncs). */
export function NoteLines({ room, anchorStart, anchorEnd, lineStart = 0, lineEnd = 0 }) {
  const entry = useLiveDoc(room);
  const resolved = resolveLines(entry?.ydoc, anchorStart, anchorEnd);
  const [first, last] = resolved ?? [lineStart, lineEnd];
  if (!first) return null;
  return (
    <span data-note-lines={`${first}-${last}`} title={resolved ? "Where this code is now" : "Where it was"}>
      {linesLabel(first, last)}
    </span>
  );
}

/**
 * Marks every pinned note's lines in the room's editor: a bar in the gutter and a tint on the
 * lines, with the note as hover text. `notes` is JSON: `[{id, anchor_start, anchor_end, label}]`.
 */
export function PinnedNotes({ room, notes = "[]" }) {
  const entry = useLiveDoc(room);
  const collection = useRef(null);
  let pinned = [];
  try {
    pinned = JSON.parse(notes || "[]");
  } catch {
    pinned = [];
  }
  const editor = entry?.editor;
  const monaco = entry?.monaco;
  const ranges = pinned
    .map((note) => ({ note, lines: resolveLines(entry?.ydoc, note.anchor_start, note.anchor_end) }))
    .filter((item) => item.lines);
  const key = JSON.stringify(ranges.map(({ note, lines }) => [note.id, note.label, lines]));
  useEffect(() => {
    if (!editor || !monaco) return;
    const decorations = ranges.map(({ note, lines: [first, last] }) => ({
      range: new monaco.Range(first, 1, last, 1),
      options: {
        isWholeLine: true,
        className: "rivendell-note-line",
        linesDecorationsClassName: "rivendell-note-gutter",
        hoverMessage: { value: String(note.label || "Note").slice(0, 500), isTrusted: false, supportHtml: false },
        stickiness: monaco.editor.TrackedRangeStickiness.NeverGrowsWhenTypingAtEdges,
      },
    }));
    if (!collection.current || collection.current.editor !== editor) {
      collection.current?.clear();
      collection.current = editor.createDecorationsCollection(decorations);
      collection.current.editor = editor;
    } else {
      collection.current.set(decorations);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [editor, monaco, key]);
  useEffect(() => () => collection.current?.clear(), []);
  return null;
}
