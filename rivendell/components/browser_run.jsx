// Client-side glue for rivendell.components.browser_run: runs the room's code in this browser.
//
// This module is all the room page loads up front (Reflex imports it lazily, as a
// NoSSRComponent), so it stays tiny: the engine (workers, limits) is imported on the first
// request, and the engine starts Pyodide on the first Python run.
import { useEffect, useRef } from "react";

let enginePromise = null;

// Reflex keeps a tab's state across a reload (its token lives in sessionStorage): the same
// request comes back after one, and must not run the program again.
const HANDLED_KEY = "rivendell.browserRun.handled";

function lastHandled() {
  try {
    return sessionStorage.getItem(HANDLED_KEY);
  } catch {
    return null;
  }
}

function remember(id) {
  try {
    sessionStorage.setItem(HANDLED_KEY, id);
  } catch {
    // Storage refused (private mode quotas): only a reload could repeat a run.
  }
}

function loadEngine() {
  if (!enginePromise) {
    enginePromise = import("./browser_run_engine.js");
    // A failed chunk load (a deploy in between, a network blip) may be retried.
    enginePromise.catch(() => {
      enginePromise = null;
    });
  }
  return enginePromise;
}

function failure(request, error) {
  return {
    id: request.id,
    status: "error",
    stdout: "",
    stderr: `The browser runner could not load: ${error}\n`,
    exit_code: null,
    duration_ms: 0,
    language: String(request.language ?? ""),
    runtime: "",
    stdout_truncated: false,
    stderr_truncated: false,
    message: "The browser runner could not load.",
    load_ms: 0,
  };
}

/**
 * Renders nothing. `request` is a JSON string (see browser_run.py); each new `id` is acted
 * on once per tab, reloads included. `onResult(result)` gets one result per run.
 */
export function BrowserRunner({ request = "", pyodideUrl = "", onResult }) {
  const report = useRef(onResult);
  report.current = onResult;
  const seen = useRef(null);
  const runner = useRef(null);

  useEffect(
    () => () => {
      runner.current?.then((r) => r.dispose()).catch(() => {});
      runner.current = null;
    },
    [],
  );

  useEffect(() => {
    let parsed = null;
    try {
      parsed = request ? JSON.parse(request) : null;
    } catch {
      console.error("Browser run: the request is not JSON", request);
    }
    const id = typeof parsed?.id === "string" ? parsed.id : null;
    if (id === null || id === seen.current || id === lastHandled()) return;
    seen.current = id;
    remember(id);
    const emit = (result) => typeof report.current === "function" && report.current(result);
    if (!runner.current) {
      runner.current = loadEngine().then(({ createRunner }) => createRunner(emit));
      runner.current.catch(() => {
        runner.current = null;
      });
    }
    runner.current
      .then((r) => r.handle({ ...parsed, pyodide_url: pyodideUrl }))
      .catch((error) => parsed.action === "run" && emit(failure(parsed, error)));
  }, [request]);

  return null;
}
