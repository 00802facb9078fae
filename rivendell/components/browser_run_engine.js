// The main-thread half of browser runs (rivendell.components.browser_run): workers, limits,
// Stop. browser_run.jsx imports this module on the first request only, and this module
// starts the Python worker (and through it Pyodide) on the first Python run only, so a
// room that never runs in the browser downloads none of it.
//
// Every limit is enforced from here, outside the program's thread: a worker stuck in
// `while True: pass` cannot answer messages, so timeout, Stop and the output cap all end it
// with `worker.terminate()`. The JavaScript worker is single-use anyway; the Python worker
// (a loaded interpreter) is kept between runs and replaced after it was terminated.
import JavaScriptWorker from "./browser_run_js_worker.js?worker";

// The server's limits for what goes in (rivendell.executor.base.MAX_INPUT_BYTES).
const MAX_INPUT_BYTES = 1024 * 1024;
// Loading Pyodide the first time (~6 MB over the wire) has its own, generous, limit.
const LOAD_TIMEOUT_MS = 120_000;
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_OUTPUT_LIMIT = 64 * 1024;

function browserName() {
  const ua = globalThis.navigator?.userAgent ?? "";
  if (/Firefox\//.test(ua)) return "Firefox";
  if (/Chrome\//.test(ua)) return "Chromium";
  if (/Safari\//.test(ua)) return "Safari";
  return "browser";
}

const JS_RUNTIME = `JavaScript (${browserName()} Web Worker)`;

/** Same wording as the server's executor (rivendell.executor.base.TRUNCATED_MARKER). */
function truncatedMarker(limit) {
  return `\n[output truncated: ${Math.floor(limit / 1024)} KiB limit reached]\n`;
}

class Capture {
  constructor(limit) {
    this.limit = limit;
    this.chunks = [];
    this.size = 0;
  }

  /** Keep at most limit + 1 bytes; true once the stream has gone past the limit. */
  add(bytes) {
    const room = this.limit + 1 - this.size;
    if (room > 0) {
      const kept = bytes.byteLength > room ? bytes.subarray(0, room) : bytes;
      this.chunks.push(kept);
      this.size += kept.byteLength;
    }
    return this.size > this.limit;
  }

  get truncated() {
    return this.size > this.limit;
  }

  text() {
    const all = new Uint8Array(Math.min(this.size, this.limit));
    let offset = 0;
    for (const chunk of this.chunks) {
      const part = chunk.subarray(0, all.byteLength - offset);
      all.set(part, offset);
      offset += part.byteLength;
      if (offset >= all.byteLength) break;
    }
    // Invalid UTF-8 (or a character cut at the limit) becomes U+FFFD, as on the server.
    const text = new TextDecoder("utf-8", { fatal: false }).decode(all);
    return this.truncated ? text + truncatedMarker(this.limit) : text;
  }
}

function positive(value, fallback) {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : fallback;
}

function utf8Length(text) {
  return new TextEncoder().encode(text).byteLength;
}

/** The code the room's editor shows now, from its live Yjs document, or an error message. */
async function roomCode(room) {
  const { liveSessions } = await import("$/public/external/rivendell/components/editor/collab.jsx");
  const session = liveSessions.get(room);
  if (!session || !session.binding) {
    return { error: "The shared editor is not connected in this browser yet, so there is no code to run." };
  }
  return { code: session.ydoc.getText("code").toString() };
}

/**
 * A runner for one page. `onResult(result)` receives one result per run request (see
 * browser_run.py for its fields). `handle(request)` takes the parsed request.
 */
export function createRunner(onResult) {
  let python = null; // { worker, runtime } while a Python worker is alive
  let current = null; // the run in progress
  let pyodideUrl = null; // known from the first Python run on

  function spawnPython() {
    // Pyodide refuses classic workers: this one must be a module worker (Vite bundles the
    // file all the same; only this `new Worker(new URL(...))` form lets it pass the type).
    const worker = new Worker(new URL("./browser_run_python_worker.js", import.meta.url), {
      type: "module",
      name: "rivendell-python-run",
    });
    const entry = { worker, runtime: "" };
    // Between runs, only "loaded" matters: it names the runtime.
    worker.onmessage = ({ data }) => {
      if (data?.type === "loaded") entry.runtime = data.runtime;
    };
    python = entry;
    return entry;
  }

  function retire(run) {
    run.worker.terminate();
    if (run.language === "python" && python?.worker === run.worker) {
      // Ended mid-run (Stop, timeout, output cap, a crash): load the next interpreter now,
      // in the background, so the next run does not wait seconds for it.
      python = null;
      if (pyodideUrl) spawnPython().worker.postMessage({ type: "load", pyodideUrl });
    }
  }

  function finish(run, { status, exitCode = null, message = "", note = "" }) {
    if (current !== run) return;
    current = null;
    clearTimeout(run.timer);
    const ended = performance.now();
    if (note) run.stderr.add(new TextEncoder().encode(note));
    onResult({
      id: run.id,
      status,
      stdout: run.stdout.text(),
      stderr: run.stderr.text(),
      exit_code: exitCode,
      duration_ms: Math.round(ended - (run.startedAt ?? ended)),
      language: run.language,
      runtime: run.language === "python" ? run.runtime || "Pyodide" : JS_RUNTIME,
      stdout_truncated: run.stdout.truncated,
      stderr_truncated: run.stderr.truncated,
      // Beyond the contract: why a run ended, and how long Pyodide took to load for it.
      message,
      load_ms: run.loadMs,
    });
  }

  function kill(run, status, message) {
    if (current !== run) return;
    retire(run);
    finish(run, { status, message });
  }

  function refuse(request, message, status = "error") {
    onResult({
      id: request.id,
      status,
      stdout: "",
      stderr: status === "error" ? `${message}\n` : "",
      exit_code: null,
      duration_ms: 0,
      language: String(request.language ?? ""),
      runtime: request.language === "python" ? python?.runtime || "Pyodide" : JS_RUNTIME,
      stdout_truncated: false,
      stderr_truncated: false,
      message,
      load_ms: 0,
    });
  }

  function stopCurrent(message) {
    if (!current) return;
    if (current.worker) return kill(current, "stopped", message);
    // Still reading the code: no worker to end, but the run still gets its one result.
    const { request } = current;
    current = null;
    refuse(request, message, "stopped");
  }

  function onMessage(run, msg) {
    if (current !== run) return;
    if (msg.type === "loaded") {
      run.runtime = msg.runtime;
      if (python?.worker === run.worker) python.runtime = msg.runtime;
      run.loadMs = msg.loadMs;
    } else if (msg.type === "started") {
      clearTimeout(run.timer);
      run.startedAt = performance.now();
      run.timer = setTimeout(
        () => kill(run, "timeout", `The program ran longer than ${run.timeoutMs / 1000} s.`),
        run.timeoutMs,
      );
    } else if (msg.type === "out") {
      const over = (msg.fd === 2 ? run.stderr : run.stdout).add(msg.bytes);
      if (over) kill(run, "output_limit", `Output passed the ${Math.floor(run.outputLimit / 1024)} KiB limit.`);
    } else if (msg.type === "done") {
      if (msg.fatal || run.language === "javascript") retire(run);
      const failed = msg.error || msg.exitCode !== 0;
      finish(run, {
        status: failed ? "error" : "ok",
        exitCode: msg.exitCode,
        note: msg.error ? `${msg.error}\n` : "",
        message: msg.error || (failed ? `The program exited with code ${msg.exitCode}.` : ""),
      });
    }
  }

  async function start(request) {
    const language = request.language;
    if (language !== "python" && language !== "javascript") {
      refuse(request, `A browser run cannot run ${JSON.stringify(String(language))}: only Python and JavaScript.`);
      return;
    }
    const stdin = typeof request.stdin === "string" ? request.stdin : "";
    const found = await roomCode(String(request.room ?? ""));
    // A stop or a newer run may have come while the code was being read.
    if (current?.id !== request.id) return;
    current = null;
    if (found.error) return refuse(request, found.error);
    if (!found.code.trim()) return refuse(request, "There is no code to run.");
    for (const [what, text] of [["code", found.code], ["program input", stdin]]) {
      if (utf8Length(text) > MAX_INPUT_BYTES) return refuse(request, `The ${what} is over the 1 MiB limit.`);
    }
    const outputLimit = positive(request.output_limit_bytes, DEFAULT_OUTPUT_LIMIT);
    const interpreter = language === "python" ? (python ?? spawnPython()) : null;
    const worker = interpreter ? interpreter.worker : new JavaScriptWorker({ name: "rivendell-js-run" });
    const run = {
      id: request.id,
      language,
      worker,
      timeoutMs: positive(request.timeout_ms, DEFAULT_TIMEOUT_MS),
      outputLimit,
      stdout: new Capture(outputLimit),
      stderr: new Capture(outputLimit),
      startedAt: null,
      runtime: interpreter?.runtime ?? "",
      loadMs: 0,
      timer: null,
    };
    current = run;
    worker.onmessage = ({ data }) => onMessage(run, data);
    worker.onerror = (event) => {
      event.preventDefault();
      if (current !== run) return;
      retire(run);
      finish(run, { status: "error", note: `The runner failed: ${event.message || "could not start"}\n`, message: "The runner failed." });
    };
    // Until the program starts, the limit is on loading (the first Python run loads Pyodide).
    run.timer = setTimeout(() => kill(run, "error", "Pyodide did not load in time."), LOAD_TIMEOUT_MS);
    if (language === "python") pyodideUrl = new URL(request.pyodide_url, globalThis.location.href).href;
    worker.postMessage({ type: "run", code: found.code, stdin, outputLimit, pyodideUrl });
  }

  return {
    /** Act on one request: `{id, action: "run", ...}` or `{id, action: "stop"}`. */
    handle(request) {
      if (request.action === "stop") {
        stopCurrent("Stopped.");
        return;
      }
      if (request.action !== "run") return;
      // One run at a time per page: a new one stops the one before.
      stopCurrent("Stopped by a newer run.");
      current = { id: request.id, request };
      start(request).catch((error) => {
        if (current?.id === request.id && !current.worker) current = null;
        refuse(request, `The browser run failed to start: ${error}`);
      });
    },

    /** End everything (the page is leaving the room). */
    dispose() {
      pyodideUrl = null; // no standby interpreter for a page that is leaving
      if (current?.worker) retire(current);
      current = null;
      python?.worker.terminate();
      python = null;
    },
  };
}
