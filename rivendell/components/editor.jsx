// Client-side glue for rivendell.components.editor (a bundled Monaco editor).
//
// Reflex loads this module lazily (NoSSRComponent), and this module loads Monaco
// lazily again (loadMonaco), so neither the server prerender nor pages without an
// editor ever touch Monaco or its CSS.
//
// monaco-editor >= 0.56 ships tree-shakeable entry points: `monaco-editor/editor` is the
// bare API, and each feature and grammar registers itself from its own module. We take
// only what an interview needs; the `monaco-editor` entry would add every feature,
// ~80 grammars and the TS/JSON/CSS/HTML language services.
// Only the editor worker is bundled (loaded on demand, e.g. for diffs): the Monarch
// grammars need no language service, and the language workers would add megabytes.
//
// Live co-editing (collabRoom + collabToken) lives in collab.jsx, imported lazily again and
// only in that mode: Yjs, y-websocket and y-monaco load in interview rooms only. y-monaco
// imports Monaco statically, so rxconfig must register MonacoVitePlugin (see editor.py).
import React, { useEffect, useId, useRef, useState } from "react";

// Languages the room offers. Aliases map the names people type to Monaco ids.
const LANGUAGE_ALIASES = {
  "c++": "cpp",
  bash: "shell",
  sh: "shell",
  js: "javascript",
  ts: "typescript",
  py: "python",
  md: "markdown",
};

const THEMES = { light: "vs", dark: "vs-dark" };
const CHANGE_DEBOUNCE_MS = 400;
// A new `value` from the server is shown only after the local user has paused this long,
// so it never lands in the middle of their typing.
const REMOTE_IDLE_MS = 1500;
// A lost connection shows "Reconnecting…" for this long, then "Offline" (still retrying).
const OFFLINE_AFTER_MS = 8000;

let monacoPromise = null;

/**
 * Load Monaco once per page: the core API, the few editor contributions an
 * interview needs, the grammars of the supported languages and the editor worker.
 * Resolves to the `monaco` namespace.
 */
export function loadMonaco() {
  if (monacoPromise) return monacoPromise;
  monacoPromise = Promise.all([
    import("monaco-editor/editor"),
    import("monaco-editor/editor/editor.worker.js?worker"),
    // The bare API has typing and cursor commands only; these are the features an
    // interviewer expects, plus Ctrl+M (Tab moves focus) and the icon font they use.
    // No folding: its margin chevrons fetch the 150 KB icon font on every load (the find
    // widget fetches it only when opened), and interview solutions are short.
    import("monaco-editor/features/codicon/register"),
    import("monaco-editor/features/bracketMatching/register"),
    import("monaco-editor/features/caretOperations/register"),
    import("monaco-editor/features/clipboard/register"),
    import("monaco-editor/features/comment/register"),
    import("monaco-editor/features/contextmenu/register"),
    import("monaco-editor/features/cursorUndo/register"),
    import("monaco-editor/features/find/register"),
    import("monaco-editor/features/indentation/register"),
    import("monaco-editor/features/linesOperations/register"),
    import("monaco-editor/features/multicursor/register"),
    import("monaco-editor/features/readOnlyMessage/register"),
    import("monaco-editor/features/toggleTabFocusMode/register"),
    import("monaco-editor/features/wordHighlighter/register"),
    import("monaco-editor/features/wordOperations/register"),
    // Monarch grammars: each registers its id now and loads its tokenizer on first use.
    // cpp also registers "c".
    import("monaco-editor/languages/definitions/python/register"),
    import("monaco-editor/languages/definitions/javascript/register"),
    import("monaco-editor/languages/definitions/typescript/register"),
    import("monaco-editor/languages/definitions/java/register"),
    import("monaco-editor/languages/definitions/cpp/register"),
    import("monaco-editor/languages/definitions/go/register"),
    import("monaco-editor/languages/definitions/rust/register"),
    import("monaco-editor/languages/definitions/ruby/register"),
    import("monaco-editor/languages/definitions/sql/register"),
    import("monaco-editor/languages/definitions/shell/register"),
    import("monaco-editor/languages/definitions/markdown/register"),
  ]).then(([monaco, { default: EditorWorker }]) => {
    // Every label gets the editor worker: no language-service worker is bundled, and an
    // unanswered label would fail with "Failed to load worker script" (prod only).
    self.MonacoEnvironment = {
      getWorker: () => new EditorWorker(),
    };
    return monaco;
  });
  // A failed chunk load must not poison every later editor on the page.
  monacoPromise.catch(() => {
    monacoPromise = null;
  });
  return monacoPromise;
}

let collabPromise = null;

/** collab.jsx (Yjs, y-websocket, y-monaco), loaded once, and only by a co-editing editor. */
function loadCollab() {
  if (!collabPromise) {
    collabPromise = import("./collab.jsx");
    collabPromise.catch(() => {
      collabPromise = null;
    });
  }
  return collabPromise;
}

const sameText = (a, b) => a.replace(/\r\n?/g, "\n") === b.replace(/\r\n?/g, "\n");

/** Lines of `text` as people count them: a trailing line break starts no new line. */
function countLines(text) {
  const breaks = (text.match(/\r\n|\r|\n/g) || []).length;
  return breaks + (/[\r\n]$/.test(text) || text === "" ? 0 : 1);
}

/**
 * Call `getHandler()({lines, chars})` for each paste into `editor` that did not come from a
 * copy or cut in this same editor (the interview's timeline marks large outside pastes).
 * Monaco sets the clipboard in its own copy handler, which runs on the input element before
 * the event bubbles to the editor's node: what it wrote is readable there.
 */
function watchPastes(editor, getHandler) {
  const node = editor.getDomNode();
  let ownCopy = null;
  const remember = (event) => {
    ownCopy = event.clipboardData?.getData("text/plain") ?? null;
  };
  node?.addEventListener("copy", remember);
  node?.addEventListener("cut", remember);
  const pasted = editor.onDidPaste((event) => {
    const handler = getHandler();
    const model = editor.getModel();
    if (typeof handler !== "function" || !model) return;
    const text = event.clipboardEvent?.clipboardData?.getData("text/plain") || model.getValueInRange(event.range);
    if (ownCopy !== null && sameText(text, ownCopy)) return;
    handler({ lines: countLines(text), chars: [...text].length });
  });
  return [
    pasted,
    () => {
      node?.removeEventListener("copy", remember);
      node?.removeEventListener("cut", remember);
    },
  ];
}

function resolveLanguage(monaco, language) {
  const id = LANGUAGE_ALIASES[language] || language || "plaintext";
  const known = monaco.languages.getLanguages().some((l) => l.id === id);
  return known ? id : "plaintext";
}

// Live editors by id, for code outside React (tests, bindings, devtools).
function registry() {
  if (typeof window === "undefined") return {};
  window.__rivendellEditors = window.__rivendellEditors || {};
  return window.__rivendellEditors;
}

const mountHooks = new Set();

/**
 * Run `hook({ editor, monaco, id })` for every editor that mounts (and for those already
 * mounted). It may return a cleanup function, called when that editor unmounts.
 * Returns a function that unregisters the hook (already-run cleanups still run on unmount).
 * This is the seam for bindings such as y-monaco.
 */
export function onEditorMount(hook) {
  mountHooks.add(hook);
  for (const entry of Object.values(registry())) entry.runHook(hook);
  return () => mountHooks.delete(hook);
}

/** The live editor registered under `id`, or undefined. */
export function getEditor(id) {
  return registry()[id]?.editor;
}

/**
 * Uncontrolled Monaco editor. `value` seeds the model and is applied again only when
 * `documentKey` changes, so a server round trip can never overwrite what is being typed.
 *
 * With `collabRoom` and `collabToken` set, the text is the room's shared Yjs document
 * instead (see collab.jsx): `value` is only shown, read-only, until the first sync (or
 * when the server refuses the connection), `onChange` never fires, and a connection
 * badge shows "Synced", "Reconnecting…" or "Offline" ("Connecting…" before the first
 * connection settles; "Degraded" while the server cannot reach the other servers).
 */
export function CodeEditor({
  id,
  value = "",
  documentKey,
  language = "plaintext",
  theme = "light",
  readOnly = false,
  ariaLabel = "Code",
  collabRoom = "",
  collabToken = "",
  userName = "",
  userColor = "",
  onChange,
  onPaste,
  onMount,
  className,
  style,
}) {
  const generatedId = useId();
  const editorId = id || generatedId;
  const hostRef = useRef(null);
  const editorRef = useRef(null);
  const monacoRef = useRef(null);
  const hintId = `${editorId}-hint`;
  const [ready, setReady] = useState(false);
  const collabActive = !!collabRoom && !!collabToken;
  // Collaboration status from collab.jsx ({connected, synced, bound, refused, lastClose}).
  const [collab, setCollab] = useState(null);
  const collabSession = useRef(null);
  // Bumped when the server turns out to hold another copy of the document: start afresh.
  const [collabEpoch, setCollabEpoch] = useState(0);

  // Latest props for callbacks that outlive a render (debounce timer, Monaco listeners).
  const latest = useRef({});
  latest.current = {
    value, language, theme, readOnly, ariaLabel, onChange, onPaste, onMount, userName, userColor, collab: collabActive,
  };

  const pending = useRef(null); // debounce timer id
  const lastLocalEdit = useRef(0); // Date.now() of the user's last keystroke
  const applyingValue = useRef(false); // true while we set the text ourselves

  const flushChange = () => {
    if (pending.current === null) return;
    clearTimeout(pending.current);
    pending.current = null;
    const editor = editorRef.current;
    // Keystrokes never travel through Reflex events while Yjs carries the text.
    if (editor && latest.current.onChange && !latest.current.collab) latest.current.onChange(editor.getValue());
  };

  useEffect(() => {
    let disposed = false;
    const cleanups = [];
    // Fetch the co-editing code alongside Monaco rather than after it: typing waits for sync.
    if (latest.current.collab) loadCollab().catch(() => {});
    loadMonaco().then((monaco) => {
      if (disposed || !hostRef.current) return;
      const p = latest.current;
      monaco.editor.setTheme(THEMES[p.theme] || THEMES.light);
      const editor = monaco.editor.create(hostRef.current, {
        value: p.value ?? "",
        language: resolveLanguage(monaco, p.language),
        readOnly: !!p.readOnly,
        ariaLabel: p.ariaLabel,
        automaticLayout: true,
        minimap: { enabled: false },
        folding: false,
        scrollBeyondLastLine: false,
        fontSize: 14,
        tabSize: 4,
      });
      editorRef.current = editor;
      monacoRef.current = monaco;

      // Monaco owns its input element (an EditContext div where the browser has the API,
      // else a textarea): point whichever carries the label at the Ctrl+M hint below.
      editor
        .getDomNode()
        ?.querySelectorAll('[role="textbox"], textarea')
        .forEach((el) => el.hasAttribute("aria-label") && el.setAttribute("aria-describedby", hintId));

      // Monaco marks the language on its container; mirror it on the .monaco-editor node,
      // where tests and CSS look for it (`.monaco-editor[data-mode-id="rust"]`).
      const markLanguage = () =>
        editor.getDomNode()?.setAttribute("data-mode-id", editor.getModel()?.getLanguageId() ?? "");
      markLanguage();

      cleanups.push(
        editor.onDidChangeModelLanguage(markLanguage),
        editor.onDidChangeModelContent(() => {
          if (applyingValue.current || latest.current.collab) return;
          lastLocalEdit.current = Date.now();
          if (!latest.current.onChange) return;
          if (pending.current !== null) clearTimeout(pending.current);
          pending.current = setTimeout(flushChange, CHANGE_DEBOUNCE_MS);
        }),
        // Leaving the editor (e.g. to press Run) should not wait for the debounce.
        editor.onDidBlurEditorText(flushChange),
        ...watchPastes(editor, () => latest.current.onPaste),
      );

      const hookCleanups = new Map();
      const entry = {
        editor,
        monaco,
        runHook(hook) {
          if (hookCleanups.has(hook)) return;
          const cleanup = hook({ editor, monaco, id: editorId });
          hookCleanups.set(hook, cleanup);
        },
      };
      registry()[editorId] = entry;
      for (const hook of mountHooks) entry.runHook(hook);
      cleanups.push(() => {
        for (const cleanup of hookCleanups.values()) {
          if (typeof cleanup === "function") cleanup();
        }
        if (registry()[editorId] === entry) delete registry()[editorId];
      });
      if (typeof p.onMount === "function") p.onMount(editor, monaco);
      setReady(true);
    });
    return () => {
      disposed = true;
      flushChange();
      // Unbind Yjs before the model goes (the collab effect's own cleanup runs after this).
      collabSession.current?.destroy();
      collabSession.current = null;
      for (const cleanup of cleanups.reverse()) {
        if (typeof cleanup === "function") cleanup();
        else cleanup?.dispose?.();
      }
      const editor = editorRef.current;
      editorRef.current = null;
      if (editor) {
        editor.getModel()?.dispose();
        editor.dispose();
      }
    };
    // The editor lives as long as the component; everything else is applied below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [editorId]);

  // A new document: replace the text. Pending changes belonged to the old one.
  const firstKey = useRef(true);
  useEffect(() => {
    if (firstKey.current) {
      firstKey.current = false;
      return;
    }
    const editor = editorRef.current;
    // The shared document is the text in collaboration mode.
    if (!editor || latest.current.collab) return;
    if (pending.current !== null) {
      clearTimeout(pending.current);
      pending.current = null;
    }
    applyingValue.current = true;
    try {
      editor.setValue(latest.current.value ?? "");
    } finally {
      applyingValue.current = false;
    }
  }, [documentKey]);

  // Someone else's saved text: show it once this user is idle, keeping their cursor.
  // (Until the CRDT binding lands, concurrent typists resolve last-write-wins.)
  useEffect(() => {
    const editor = editorRef.current;
    if (!editor || value == null) return;
    let timer = null;
    const apply = () => {
      // Checked when applying, not when scheduled: the binding may have started meanwhile,
      // and a setValue would then overwrite the shared text for everyone.
      if (latest.current.collab) return;
      const idleFor = Date.now() - lastLocalEdit.current;
      if (pending.current !== null || idleFor < REMOTE_IDLE_MS) {
        timer = setTimeout(apply, Math.max(50, REMOTE_IDLE_MS - idleFor));
        return;
      }
      if (editor.getValue() === latest.current.value) return;
      const selections = editor.getSelections();
      applyingValue.current = true;
      try {
        editor.setValue(latest.current.value ?? "");
        if (selections) editor.setSelections(selections);
      } finally {
        applyingValue.current = false;
      }
    };
    apply();
    return () => timer && clearTimeout(timer);
  }, [value]);

  useEffect(() => {
    const editor = editorRef.current;
    const monaco = monacoRef.current;
    const model = editor?.getModel();
    if (model) monaco.editor.setModelLanguage(model, resolveLanguage(monaco, language));
  }, [language]);

  useEffect(() => {
    // Themes are global in Monaco: the last editor to set one wins for the page.
    monacoRef.current?.editor.setTheme(THEMES[theme] || THEMES.light);
  }, [theme]);

  // Collaboration: a Yjs session per (room, token), started once the editor exists.
  useEffect(() => {
    if (!ready || !collabActive) return;
    const editor = editorRef.current;
    const monaco = monacoRef.current;
    if (!editor || !monaco) return;
    let cancelled = false;
    let session = null;
    setCollab({ connected: false, synced: false, bound: false, refused: null, lastClose: null });
    loadCollab()
      .then(({ startCollab }) => {
        if (cancelled || editorRef.current !== editor) return;
        const p = latest.current;
        session = startCollab({
          editor,
          monaco,
          room: collabRoom,
          token: collabToken,
          user: { name: p.userName, color: p.userColor },
          onChange: setCollab,
          onLost: () => setCollabEpoch((n) => n + 1),
        });
        collabSession.current = session;
        const entry = registry()[editorId];
        if (entry) {
          Object.defineProperties(entry, {
            ydoc: { value: session.ydoc, configurable: true },
            provider: { value: session.provider, configurable: true },
            awareness: { value: session.awareness, configurable: true },
            undoManager: { get: () => session.undoManager, configurable: true },
            binding: { get: () => session.binding, configurable: true },
          });
        }
      })
      .catch((error) => {
        console.error("Could not start live co-editing", error);
        if (!cancelled) {
          setCollab((s) => ({ ...s, refused: { code: 0, reason: "Could not load live co-editing." } }));
        }
      });
    return () => {
      cancelled = true;
      if (session) session.destroy();
      if (collabSession.current === session) collabSession.current = null;
      const entry = registry()[editorId];
      if (entry) for (const key of ["ydoc", "provider", "awareness", "undoManager", "binding"]) delete entry[key];
      setCollab(null);
      // Leaving a room without unmounting: back to the uncontrolled text. (On unmount the
      // editor is already gone here.) The binding is destroyed, so this stays local.
      const alive = editorRef.current;
      if (alive === editor) {
        applyingValue.current = true;
        try {
          alive.setValue(latest.current.value ?? "");
        } finally {
          applyingValue.current = false;
        }
      }
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [ready, collabActive, collabRoom, collabToken, collabEpoch]);

  useEffect(() => {
    collabSession.current?.setUser({ name: userName, color: userColor });
  }, [userName, userColor]);

  // "Reconnecting…" turns into "Offline" when the connection stays lost (or the browser is
  // offline); y-websocket keeps retrying either way.
  const [lostLong, setLostLong] = useState(false);
  const [browserOffline, setBrowserOffline] = useState(false);
  const healthy = !!(collab?.connected && collab?.synced);
  useEffect(() => {
    setLostLong(false);
    if (!collab || healthy || collab.refused) return;
    const timer = setTimeout(() => setLostLong(true), OFFLINE_AFTER_MS);
    return () => clearTimeout(timer);
  }, [!!collab, healthy, !!collab?.refused]);
  useEffect(() => {
    if (!collabActive) return;
    const update = () => setBrowserOffline(navigator.onLine === false);
    update();
    window.addEventListener("online", update);
    window.addEventListener("offline", update);
    return () => {
      window.removeEventListener("online", update);
      window.removeEventListener("offline", update);
    };
  }, [collabActive]);

  // Until the first sync binds the shared text, typing would be lost: read-only, as after a
  // refusal (e.g. the interview has ended).
  const collabBlocked = collabActive && (!collab?.bound || !!collab?.refused);
  const effectiveReadOnly = !!readOnly || collabBlocked;
  let readOnlyMessage = "Cannot edit in read-only editor"; // Monaco's own wording
  if (collab?.refused) readOnlyMessage = `Offline: ${collab.refused.reason}`;
  else if (collabActive && !collab?.bound) readOnlyMessage = "Connecting to the shared editor…";
  useEffect(() => {
    editorRef.current?.updateOptions({
      readOnly: effectiveReadOnly,
      ariaLabel,
      readOnlyMessage: { value: escapeMarkdown(readOnlyMessage) },
    });
  }, [ready, effectiveReadOnly, ariaLabel, readOnlyMessage]);

  let badge = null;
  if (collabActive) {
    if (collab?.refused) badge = { text: "Offline", tone: "red", title: collab.refused.reason };
    // The browser knows it has no network before the socket does (up to 30 s later).
    else if (browserOffline) {
      badge = { text: "Offline", tone: "red", title: "This browser is offline. Edits made meanwhile are sent once it is back." };
    } else if (healthy && collab?.degraded) {
      badge = {
        text: "Degraded",
        tone: "amber",
        title: "This server lost its link to the other Rivendell servers: people connected elsewhere may not see your edits until it is back. Nothing is lost.",
      };
    } else if (healthy) badge = { text: "Synced", tone: "green", title: "Everyone sees the same code." };
    else if (lostLong) {
      badge = { text: "Offline", tone: "red", title: "The connection is lost; trying again. Edits made meanwhile are sent once it is back." };
    } else if (!collab?.bound && !collab?.lastClose) {
      badge = { text: "Connecting…", tone: "amber", title: "Connecting to the shared editor." };
    } else {
      const why = collab?.lastClose?.reason;
      badge = { text: "Reconnecting…", tone: "amber", title: why ? `Reconnecting (${why})` : "Reconnecting." };
    }
  }

  return (
    <div
      id={id}
      role="region"
      aria-label="Code editor"
      aria-busy={!ready}
      data-synced={collabActive ? String(badge?.text === "Synced") : undefined}
      className={className}
      style={{ position: "relative", width: "100%", height: "100%", minHeight: 0, minWidth: 0, ...style }}
    >
      {/* Absolutely positioned so automaticLayout can shrink inside flex/resizable parents. */}
      <div ref={hostRef} style={{ position: "absolute", inset: 0 }} />
      {!ready && (
        <div role="status" style={LOADING}>
          Loading editor…
        </div>
      )}
      {badge && (
        <div role="status" aria-label="Connection" title={badge.title} style={BADGE}>
          <span aria-hidden="true" style={{ ...BADGE_DOT, background: `var(--${badge.tone}-9, ${TONES[badge.tone]})` }} />
          {badge.text}
        </div>
      )}
      <span id={hintId} style={VISUALLY_HIDDEN}>
        Press Control+M (Control+Shift+M on macOS) to toggle whether Tab moves focus out of the editor.
      </span>
    </div>
  );
}

const LOADING = {
  position: "absolute",
  inset: 0,
  display: "flex",
  alignItems: "center",
  justifyContent: "center",
  color: "var(--gray-a10, #888)",
  fontSize: 14,
};

// Top-right, clear of Monaco's vertical scrollbar; Radix variables follow light/dark.
const BADGE = {
  position: "absolute",
  top: 6,
  right: 20,
  zIndex: 1,
  display: "flex",
  alignItems: "center",
  gap: 5,
  padding: "1px 7px",
  borderRadius: 999,
  fontSize: 11,
  lineHeight: "16px",
  fontFamily: "var(--default-font-family, system-ui, sans-serif)",
  color: "var(--gray-11, #666)",
  background: "var(--color-panel-solid, #fff)",
  border: "1px solid var(--gray-a5, rgba(0, 0, 0, 0.15))",
  opacity: 0.9,
  userSelect: "none",
};

const BADGE_DOT = { width: 6, height: 6, borderRadius: "50%", flex: "none" };
const TONES = { green: "#30a46c", amber: "#ffc53d", red: "#e5484d" };

function escapeMarkdown(text) {
  return String(text).replace(/[\\`*_{}[\]()#+\-.!<>|~]/g, "\\$&");
}

const VISUALLY_HIDDEN = {
  position: "absolute",
  width: 1,
  height: 1,
  padding: 0,
  margin: -1,
  overflow: "hidden",
  clip: "rect(0, 0, 0, 0)",
  whiteSpace: "nowrap",
  border: 0,
};
