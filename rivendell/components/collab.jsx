// Live co-editing for rivendell.components.editor: Yjs + y-websocket + y-monaco.
//
// editor.jsx imports this module lazily, and only for an editor in collaboration mode, so
// Yjs and its friends (~30 KB gzip) never load on other pages. Everything comes from npm.
//
// Server contract: y-websocket sync + awareness at <backend>/ws/collab/<room>?token=...,
// the shared text is the Y.Text "code", the server seeds it (this client never inserts
// initial content), and a 44xx close means "do not retry" (4401 bad token, 4403 interview
// ended, 4404 unknown interview), with a human reason.
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import { MonacoBinding } from "y-monaco";
import { getBackendURL } from "$/utils/state";
import env from "$/env.json";

// At most this many awareness (cursor) updates per second leave this browser.
const AWARENESS_MIN_INTERVAL_MS = 50;
// y-websocket waits forever for a socket that neither opens nor fails (a server still
// starting, a proxy that never upgrades): give up on an attempt after this long.
const CONNECT_TIMEOUT_MS = 10000;
// A peer's name label shows while they move or type, and fades this long after, so an idle
// cursor does not hide the code on the line above it (the coloured caret stays).
const LABEL_IDLE_MS = 5000;
// Names longer than this are cut in cursor labels.
const MAX_NAME_CHARS = 32;
const FALLBACK_COLORS = ["#e5484d", "#0090ff", "#30a46c", "#f76b15", "#8e4ec6", "#12a594", "#d6409f", "#ad7f58"];

/** `ws(s)://host[:port][/prefix]/ws/collab`, derived from Reflex's own event URL. */
export function collabServerUrl() {
  const url = getBackendURL(env.EVENT);
  url.pathname = url.pathname.replace(/\/_event\/?$/, "") + "/ws/collab";
  url.search = "";
  url.hash = "";
  return url.toString().replace(/\/+$/, "");
}

/** A name safe to show: no control characters or lone surrogates, at most 32 characters. */
export function cleanName(name) {
  let out = "";
  let count = 0;
  for (const ch of String(name ?? "")) {
    const cp = ch.codePointAt(0);
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0xd800 && cp <= 0xdfff)) continue;
    if (++count > MAX_NAME_CHARS) {
      out += "…";
      break;
    }
    out += ch;
  }
  return out.trim() || "Anonymous";
}

/** `#rrggbb` from a `#rgb`/`#rrggbb` string, else a stable colour picked by `clientID`. */
export function cleanColor(color, clientID = 0) {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(String(color ?? "").trim());
  if (!m) return FALLBACK_COLORS[Math.abs(clientID) % FALLBACK_COLORS.length];
  const hex = m[1].length === 3 ? [...m[1]].map((c) => c + c).join("") : m[1];
  return `#${hex.toLowerCase()}`;
}

/**
 * A CSS string literal for any text: letters (any script), digits, spaces and inert
 * punctuation stay as they are; quotes, backslashes, braces, angle brackets and every
 * control character become CSS hex escapes, so no name can end the string, the
 * declaration or the rule (`a"}body{display:none}` stays a label).
 */
export function cssString(text) {
  let out = '"';
  for (const ch of text) {
    const cp = ch.codePointAt(0);
    const plain = cp >= 0xa0 ? !(cp >= 0xd800 && cp <= 0xdfff) : /^[A-Za-z0-9 _.,!?()'+\-@#&*=/~^|$%:;]$/.test(ch);
    out += plain ? ch : `\\${cp.toString(16)} `;
  }
  return `${out}"`;
}

// The server's SyncStep1 carries its state vector: [varuint sync type 0][varuint8array].
function readVarUint(arr, pos) {
  let num = 0;
  let mult = 1;
  for (;;) {
    if (pos >= arr.length || mult > 2 ** 49) throw new RangeError("bad varuint");
    const byte = arr[pos++];
    num += (byte & 127) * mult;
    mult *= 128;
    if (byte < 128) return [num, pos];
  }
}

function peekServerStateVector(decoder) {
  try {
    let [syncType, pos] = readVarUint(decoder.arr, decoder.pos);
    if (syncType !== 0) return null;
    let length;
    [length, pos] = readVarUint(decoder.arr, pos);
    return Y.decodeStateVector(decoder.arr.subarray(pos, pos + length));
  } catch {
    return null;
  }
}

function readableOn(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.55 ? "#111" : "#fff";
}

// Shared by every remote cursor. The head is absolutely positioned so it takes no room in
// the line (an inline border would shift the text by 2px wherever a peer's cursor is).
const BASE_CSS = `
.yRemoteSelectionHead{position:absolute;box-sizing:border-box;height:100%;border-left:2px solid;pointer-events:none}
.yRemoteSelectionHead::after{position:absolute;left:-2px;bottom:100%;padding:0 4px;border-radius:3px 3px 3px 0;
font:500 11px/15px system-ui,-apple-system,"Segoe UI",sans-serif;white-space:pre;pointer-events:none;z-index:10;
transition:opacity .4s}`;

/**
 * The live co-editing session of each room open in this page, by interview id: other
 * components read the room's shared text from `session.ydoc` (a browser run runs what the
 * editor shows; `session.binding` is set once the editor shows the shared text).
 */
export const liveSessions = new Map();

// A session can end while its socket is down (the server died, and the page re-rendered the
// editor meanwhile): its last edits then reached no one. Its document is kept here, by room,
// and merged into the room's next session, which sends it on syncing. Yjs merges are
// idempotent, so whatever the server already had changes nothing.
const leftoverByRoom = new Map();

/**
 * Start collaborating on `editor`'s model. The text is bound only after the first sync
 * (until then the caller keeps the editor read-only), so nothing typed before can be lost
 * or duplicated, and nothing local ever seeds the shared text.
 *
 * @returns the session: `{ ydoc, provider, awareness, undoManager, binding, setUser, destroy }`
 */
export function startCollab({ editor, monaco, room, token, user, onChange, onLost }) {
  const ydoc = new Y.Doc();
  const ytext = ydoc.getText("code");
  const leftover = leftoverByRoom.get(room);
  leftoverByRoom.delete(room);
  if (leftover) Y.applyUpdate(ydoc, leftover, "leftover");
  const provider = new WebsocketProvider(collabServerUrl(), encodeURIComponent(room), ydoc, {
    params: { token: token ?? "" },
    connect: false, // once our listeners and awareness state are in place (end of this function)
    // Every tab talks to the server: cross-tab BroadcastChannel sync would bypass its
    // checks (a refused or read-only tab would still exchange edits with a sibling tab).
    disableBc: true,
  });
  const awareness = provider.awareness;
  const model = editor.getModel();
  const session = { ydoc, provider, awareness, undoManager: null, binding: null };
  liveSessions.set(room, session);
  const disposers = [];
  let destroyed = false;

  // ---- status, reported to React -------------------------------------------------------
  // `degraded`: the server says edits may not reach people on other servers (its link to
  // them, Redis, is down); it tells through its own awareness state `{rivendell: {degraded}}`.
  const status = { connected: false, synced: false, bound: false, refused: null, lastClose: null, degraded: false };
  const report = () => !destroyed && onChange?.({ ...status });
  const onStatus = ({ status: s }) => {
    status.connected = s === "connected";
    if (!status.connected) status.synced = false;
    report();
  };
  const onSync = (synced) => {
    status.synced = synced && provider.wsconnected;
    if (status.synced && !status.bound) bind();
    report();
  };
  const onConnectionClose = (event) => {
    if (event) status.lastClose = { code: event.code, reason: event.reason || "" };
    report();
  };
  // y-websocket 3 stops retrying by itself after a 44xx close and then emits `closed`.
  const onClosed = ({ code, reason }) => {
    status.refused = { code, reason: reason || `Refused by the server (${code})` };
    status.connected = false;
    status.synced = false;
    report();
  };
  let connectTimer = null;
  const watchConnect = ({ status: s }) => {
    clearTimeout(connectTimer);
    const ws = provider.ws;
    if (s !== "connecting" || !ws) return;
    // Closing a CONNECTING socket fires its close event: y-websocket then retries.
    connectTimer = setTimeout(() => provider.ws === ws && provider.wsconnecting && ws.close(), CONNECT_TIMEOUT_MS);
  };
  provider.on("status", watchConnect);
  disposers.push(() => {
    provider.off("status", watchConnect);
    clearTimeout(connectTimer);
  });
  provider.on("status", onStatus);
  provider.on("sync", onSync);
  provider.on("connection-close", onConnectionClose);
  provider.on("closed", onClosed);
  disposers.push(() => {
    provider.off("status", onStatus);
    provider.off("sync", onSync);
    provider.off("connection-close", onConnectionClose);
    provider.off("closed", onClosed);
  });

  // Back online: the old socket may be a zombie that the 30 s watchdog would only notice
  // later (a new IP address, a sleeping laptop). Start a fresh one; syncing is idempotent.
  const onOnline = () => {
    if (status.refused || destroyed) return;
    provider.disconnect();
    provider.connect();
  };
  window.addEventListener("online", onOnline);
  disposers.push(() => window.removeEventListener("online", onOnline));

  // ---- a server that lost the document ----------------------------------------------------
  // Reconnecting merges our copy into the server's. If the server lost the document and
  // re-seeded it (a restart before it saved, another worker's copy), both copies hold the
  // whole code under different authors and the merge would show it twice, everywhere.
  // Its SyncStep1 tells: a non-empty server that shares no author with what it sent before
  // is another document. Then drop ours (edits it never got are lost) and start afresh.
  const vouched = new Set(); // authors the server's state vectors listed so far
  let discardOnDestroy = false; // this copy is another document's: never merge it again
  const handleSync = provider.messageHandlers[0];
  provider.messageHandlers[0] = (encoder, decoder, prov, emitSynced, messageType) => {
    const serverVector = peekServerStateVector(decoder);
    if (serverVector) {
      const authors = [...serverVector].filter(([, clock]) => clock > 0).map(([client]) => client);
      if (vouched.size > 0 && authors.length > 0 && !authors.some((client) => vouched.has(client))) {
        console.warn("Live co-editing: the server has another copy of the document; loading it.");
        discardOnDestroy = true;
        provider.disconnect();
        onLost?.();
        return;
      }
      for (const client of authors) vouched.add(client);
    }
    handleSync(encoder, decoder, prov, emitSynced, messageType);
  };

  // ---- our awareness state: who we are, throttled cursor updates -------------------------
  // A nonce per connection lets peers notice that we (re)joined, see announce() below.
  const newSession = () => Math.random().toString(36).slice(2, 10);
  const setUser = (u) => {
    awareness.setLocalStateField("user", { name: cleanName(u?.name), color: cleanColor(u?.color, ydoc.clientID) });
  };
  awareness.setLocalState({ user: null, session: newSession() });
  setUser(user);
  const onConnected = ({ status: s }) => s === "connected" && awareness.setLocalStateField("session", newSession());
  provider.on("status", onConnected);
  disposers.push(() => provider.off("status", onConnected));
  // Closing the tab unmounts nothing: say goodbye while the socket is still open, so our
  // cursor leaves the peers' editors now rather than after the 30 s awareness timeout.
  let hiddenState = null;
  const onPageHide = () => {
    hiddenState = awareness.getLocalState();
    awareness.setLocalState(null);
  };
  const onPageShow = (event) => {
    if (event.persisted && hiddenState !== null) awareness.setLocalState({ ...hiddenState, session: newSession() });
    hiddenState = null;
  };
  window.addEventListener("pagehide", onPageHide);
  window.addEventListener("pageshow", onPageShow);
  disposers.push(() => {
    window.removeEventListener("pagehide", onPageHide);
    window.removeEventListener("pageshow", onPageShow);
  });

  // y-monaco publishes the selection on every cursor move (each keystroke, each held arrow
  // key repeat) and y-protocols sends each at once; coalesce to <= 20 messages per second.
  let pendingFields = null;
  let lastSent = 0;
  let flushTimer = null;
  const flushAwareness = () => {
    flushTimer = null;
    if (destroyed || !pendingFields) return;
    const fields = pendingFields;
    pendingFields = null;
    // y-monaco's own positions stick to the character after the cursor; ours to the one
    // before a caret (see relativeSelection), so peers draw it where it really is.
    if ("selection" in fields && status.bound) {
      const sel = relativeSelection();
      if (sel) fields.selection = sel.direction === 1 ? { anchor: sel.end, head: sel.start } : { anchor: sel.start, head: sel.end };
    }
    lastSent = Date.now();
    const state = awareness.getLocalState();
    if (state !== null) awareness.setLocalState({ ...state, ...fields });
  };
  const throttledAwareness = {
    getStates: () => awareness.getStates(),
    on: (name, fn) => awareness.on(name, fn),
    off: (name, fn) => awareness.off(name, fn),
    setLocalStateField(field, value) {
      if (destroyed) return; // y-monaco never removes its cursor listener
      pendingFields = { ...pendingFields, [field]: value };
      if (flushTimer !== null) return;
      flushTimer = setTimeout(flushAwareness, Math.max(0, lastSent + AWARENESS_MIN_INTERVAL_MS - Date.now()));
    },
  };
  disposers.push(() => flushTimer !== null && clearTimeout(flushTimer));

  // pycrdt-websocket does not hand a newcomer the peers' current awareness (the Node server
  // does), so a newcomer would see no cursors until peers move. Each peer re-sends its state
  // when it sees a client (re)join, i.e. a new `session` nonce. Our re-send keeps our nonce,
  // so it never triggers another round.
  const seenSessions = new Map();
  const activeUntil = new Map(); // clientID -> until when its label shows
  let announceTimer = null;
  const announce = () => {
    announceTimer = null;
    const state = awareness.getLocalState();
    if (!destroyed && state !== null) awareness.setLocalState({ ...state });
  };
  const onAwarenessChange = ({ added, updated, removed }) => {
    let joined = false;
    for (const id of [...added, ...updated]) {
      if (id === ydoc.clientID) continue;
      const nonce = awareness.getStates().get(id)?.session;
      if (nonce !== undefined && seenSessions.get(id) !== nonce) {
        seenSessions.set(id, nonce);
        joined = true;
      }
    }
    for (const id of removed) {
      seenSessions.delete(id);
      activeUntil.delete(id);
    }
    if (joined && announceTimer === null) announceTimer = setTimeout(announce, 100);
    const until = Date.now() + LABEL_IDLE_MS;
    for (const id of [...added, ...updated]) if (id !== ydoc.clientID) activeUntil.set(id, until);
    scheduleCss();
  };
  awareness.on("change", onAwarenessChange);
  const onServerState = () => {
    let degraded = false;
    awareness.getStates().forEach((state) => {
      if (state?.rivendell?.degraded === true) degraded = true;
    });
    if (degraded !== status.degraded) {
      status.degraded = degraded;
      report();
    }
  };
  awareness.on("change", onServerState);
  disposers.push(() => {
    awareness.off("change", onServerState);
    awareness.off("change", onAwarenessChange);
    if (announceTimer !== null) clearTimeout(announceTimer);
  });

  // ---- remote cursors: one <style> with a rule set per remote client ---------------------
  const style = document.createElement("style");
  style.dataset.rivendellCollab = "";
  document.head.appendChild(style);
  disposers.push(() => style.remove());
  let cssFrame = null;
  let fadeTimer = null;
  const renderCss = () => {
    cssFrame = null;
    if (destroyed) return;
    const now = Date.now();
    let nextFade = Infinity;
    const firstVisible = editor.getVisibleRanges()[0]?.startLineNumber ?? 1;
    const rules = [BASE_CSS];
    awareness.getStates().forEach((state, clientID) => {
      if (clientID === ydoc.clientID || !Number.isSafeInteger(clientID) || !state) return;
      const color = cleanColor(state.user?.color, clientID);
      const name = cleanName(state.user?.name);
      // The label sits above the cursor, or below it on the first visible line (where the
      // editor's edge would clip it).
      let flip = false;
      const head = state.selection?.head;
      if (head && status.bound) {
        try {
          const abs = Y.createAbsolutePositionFromRelativePosition(head, ydoc);
          if (abs && abs.type === ytext) flip = model.getPositionAt(abs.index).lineNumber <= firstVisible;
        } catch {
          // A malformed position from a peer: draw the label above.
        }
      }
      const head_ = `.yRemoteSelectionHead-${clientID}`;
      const until = activeUntil.get(clientID) ?? 0;
      if (until > now) nextFade = Math.min(nextFade, until);
      rules.push(
        `.yRemoteSelection-${clientID}{background-color:${color}40}`,
        `${head_}{border-left-color:${color}}`,
        `${head_}::after{content:${cssString(name)};background-color:${color};color:${readableOn(color)}}`,
        flip ? `${head_}::after{bottom:auto;top:100%;border-radius:0 3px 3px 3px}` : "",
        until > now ? "" : `${head_}::after{opacity:0}`,
      );
    });
    const css = rules.join("\n");
    if (style.textContent !== css) style.textContent = css;
    clearTimeout(fadeTimer);
    if (nextFade < Infinity) fadeTimer = setTimeout(scheduleCss, nextFade - now + 20);
  };
  function scheduleCss() {
    if (cssFrame === null && !destroyed) cssFrame = requestAnimationFrame(renderCss);
  }
  renderCss();
  disposers.push(
    editor.onDidScrollChange(scheduleCss),
    model.onDidChangeContent(scheduleCss),
    () => cssFrame !== null && cancelAnimationFrame(cssFrame),
    () => clearTimeout(fadeTimer),
  );

  // ---- binding and per-user undo, once the first sync brought the server's text ----------
  // The local selection as Yjs relative positions. A caret sticks to the character before it
  // (assoc -1): text a peer inserts right at our caret lands after it, so two people typing at
  // the same spot each keep typing their own words instead of interleaving. y-monaco 0.1.6
  // sticks to the character after; bind() swaps in this rule for its cursor bookkeeping.
  function relativeSelection() {
    const sel = editor.getSelection();
    if (!sel || editor.getModel() !== model) return null;
    const collapsed = sel.isEmpty();
    const start = model.getOffsetAt(sel.getStartPosition());
    const end = model.getOffsetAt(sel.getEndPosition());
    return {
      start: Y.createRelativePositionFromTypeIndex(ytext, start, collapsed ? -1 : 0),
      end: Y.createRelativePositionFromTypeIndex(ytext, end, -1),
      direction: sel.getDirection(),
    };
  }

  function bind() {
    status.bound = true;
    const binding = new MonacoBinding(ytext, model, new Set([editor]), throttledAwareness);
    // y-monaco uses the binding as the origin of local edits: track only those, so undo
    // never reverts what others typed.
    const undoManager = new Y.UndoManager(ytext, { trackedOrigins: new Set([binding]), captureTimeout: 500 });
    session.binding = binding;
    session.undoManager = undoManager;

    // y-monaco saves each editor's selection before every transaction and restores it after a
    // remote one (private fields of 0.1.6, pinned): save it with relativeSelection's rule.
    ydoc.off("beforeAllTransactions", binding._beforeTransaction);
    binding._beforeTransaction = () => {
      binding.mux(() => {
        const saved = new Map();
        const sel = relativeSelection();
        if (sel) saved.set(editor, sel);
        binding._savedSelections = saved;
      });
    };
    ydoc.on("beforeAllTransactions", binding._beforeTransaction);

    // Put the cursor back where an undone/redone change happened.
    const onAdded = ({ stackItem }) => stackItem.meta.set("selection", relativeSelection());
    const onPopped = ({ stackItem }) => {
      const saved = stackItem.meta.get("selection");
      if (!saved) return;
      const start = Y.createAbsolutePositionFromRelativePosition(saved.start, ydoc);
      const end = Y.createAbsolutePositionFromRelativePosition(saved.end, ydoc);
      if (!start || !end) return;
      const s = model.getPositionAt(start.index);
      const e = model.getPositionAt(end.index);
      editor.setSelection(monaco.Selection.createWithDirection(s.lineNumber, s.column, e.lineNumber, e.column, saved.direction));
      editor.revealPositionInCenterIfOutsideViewport(editor.getPosition());
    };
    undoManager.on("stack-item-added", onAdded);
    undoManager.on("stack-item-popped", onPopped);

    // Monaco's Undo/Redo commands (Ctrl/Cmd+Z, Ctrl+Y, Ctrl/Cmd+Shift+Z, menus, command
    // palette) all end in model.undo()/redo(): send them to the Yjs undo manager instead of
    // Monaco's stack, which knows nothing of remote edits. Per model, so other editors on
    // the page keep their own undo.
    model.undo = () => {
      undoManager.undo();
    };
    model.redo = () => {
      undoManager.redo();
    };
    model.canUndo = () => undoManager.canUndo();
    model.canRedo = () => undoManager.canRedo();

    disposers.push(() => {
      delete model.undo;
      delete model.redo;
      delete model.canUndo;
      delete model.canRedo;
      undoManager.off("stack-item-added", onAdded);
      undoManager.off("stack-item-popped", onPopped);
      undoManager.destroy();
      binding.destroy();
      session.binding = null;
      session.undoManager = null;
    });

    // Show our cursor to peers now, not only after the next move (flushAwareness fills it in).
    throttledAwareness.setLocalStateField("selection", null);
    scheduleCss();
  }

  provider.connect();

  session.setUser = (u) => !destroyed && setUser(u);
  session.destroy = () => {
    if (destroyed) return;
    // Runs the binding's teardown before the provider's: the provider's disconnect tells
    // peers we left (a null awareness state) while the socket is still open.
    for (const dispose of disposers.reverse()) {
      if (typeof dispose === "function") dispose();
      else dispose?.dispose?.();
    }
    destroyed = true;
    if (liveSessions.get(room) === session) liveSessions.delete(room);
    if (!discardOnDestroy && status.bound) leftoverByRoom.set(room, Y.encodeStateAsUpdate(ydoc));
    provider.destroy();
    ydoc.destroy();
  };
  return session;
}
