// Dedicated worker for browser runs of JavaScript (rivendell.components.browser_run).
//
// One worker per run, like one Node process per server run: the program runs as a classic
// script (sloppy mode, no top-level `await`, like a CommonJS file) in a worker, so it has
// no DOM, no page state and no way to touch the editor. The run is over when the script
// has returned and no timer it set is pending (Node's rule, for timers); an uncaught
// error or an unhandled rejection ends it at once with exit code 1.
//
// What the program gets besides the language (documented in browser_run.py):
//   console.log/info/debug -> stdout, console.error/warn/trace -> stderr
//   stdin (a string), readStdin() -> all of it, readLine() -> the next line or null
//   process.stdout.write, process.stderr.write, process.exit(code), process.argv, process.env
//   require("fs").readFileSync(0 | "/dev/stdin"), require("readline").createInterface(...)
//
// Messages in:  {type: "run", code, stdin, outputLimit}
// Messages out: {type: "started"}, {type: "out", fd, bytes}, {type: "done", exitCode}

const realSetTimeout = self.setTimeout.bind(self);
const realClearTimeout = self.clearTimeout.bind(self);
const realSetInterval = self.setInterval.bind(self);
const realClearInterval = self.clearInterval.bind(self);
const encoder = new TextEncoder();

let limit = Infinity;
const sent = [0, 0, 0];
let finished = false;

function emit(fd, text) {
  if (finished || sent[fd] > limit) return;
  const bytes = encoder.encode(text);
  sent[fd] += bytes.byteLength;
  self.postMessage({ type: "out", fd, bytes }, [bytes.buffer]);
}

function finish(exitCode) {
  if (finished) return;
  finished = true;
  self.postMessage({ type: "done", exitCode });
}

// ---- console formatting, close to Node's util.inspect for everyday values ----------------
function quote(s) {
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\n/g, "\\n")}'`;
}

function inspect(value, depth = 0, seen = new Set()) {
  if (typeof value === "string") return depth === 0 ? value : quote(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "symbol") return value.toString();
  if (typeof value === "function") return `[Function: ${value.name || "(anonymous)"}]`;
  if (value === null || typeof value !== "object") return String(value);
  if (value instanceof Error) return value.stack || `${value.name}: ${value.message}`;
  if (seen.has(value)) return "[Circular *]";
  if (depth > 2) return Array.isArray(value) ? "[Array]" : "[Object]";
  seen.add(value);
  const inner = (v) => inspect(v, depth + 1, seen);
  let out;
  if (Array.isArray(value)) {
    out = value.length ? `[ ${value.map(inner).join(", ")} ]` : "[]";
  } else if (value instanceof Map) {
    const items = [...value].map(([k, v]) => `${inner(k)} => ${inner(v)}`);
    out = `Map(${value.size}) {${items.length ? ` ${items.join(", ")} ` : ""}}`;
  } else if (value instanceof Set) {
    const items = [...value].map(inner);
    out = `Set(${value.size}) {${items.length ? ` ${items.join(", ")} ` : ""}}`;
  } else if (value instanceof Date) {
    out = value.toISOString();
  } else {
    const keys = Object.keys(value);
    const key = (k) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : quote(k));
    const items = keys.map((k) => `${key(k)}: ${inner(value[k])}`);
    const name = value.constructor && value.constructor !== Object ? `${value.constructor.name} ` : "";
    out = items.length ? `${name}{ ${items.join(", ")} }` : `${name}{}`;
  }
  seen.delete(value);
  return out;
}

function format(args) {
  if (typeof args[0] !== "string" || !args[0].includes("%")) return args.map((a) => inspect(a)).join(" ");
  let rest = args.slice(1);
  const head = args[0].replace(/%([sdifjoOc%])/g, (match, spec) => {
    if (spec === "%") return "%";
    if (!rest.length) return match;
    const arg = rest[0];
    rest = rest.slice(1);
    if (spec === "s") return typeof arg === "string" ? arg : inspect(arg, 1);
    if (spec === "d" || spec === "i") return String(spec === "i" ? parseInt(arg, 10) : Number(arg));
    if (spec === "f") return String(parseFloat(arg));
    if (spec === "j") return JSON.stringify(arg);
    if (spec === "c") return "";
    return inspect(arg, 1);
  });
  return [head, ...rest.map((a) => inspect(a))].join(" ");
}

const line = (fd) => (...args) => emit(fd, `${format(args)}\n`);
const stdoutLine = line(1);
const stderrLine = line(2);
const counts = new Map();
const timers = new Map();
self.console = {
  log: stdoutLine,
  info: stdoutLine,
  debug: stdoutLine,
  error: stderrLine,
  warn: stderrLine,
  trace: (...args) => stderrLine(`Trace: ${format(args)}\n${new Error().stack.split("\n").slice(2).join("\n")}`),
  dir: (value) => stdoutLine(inspect(value, 1)),
  table: (value) => stdoutLine(value),
  assert: (ok, ...args) => ok || stderrLine("Assertion failed" + (args.length ? `: ${format(args)}` : "")),
  count: (label = "default") => {
    counts.set(label, (counts.get(label) || 0) + 1);
    stdoutLine(`${label}: ${counts.get(label)}`);
  },
  time: (label = "default") => timers.set(label, performance.now()),
  timeEnd: (label = "default") => {
    if (timers.has(label)) stdoutLine(`${label}: ${(performance.now() - timers.get(label)).toFixed(3)}ms`);
    timers.delete(label);
  },
  group: stdoutLine,
  groupEnd: () => {},
};

// ---- timers: the run lasts while any is pending -----------------------------------------
const pending = new Set();
let idleCheck = null;

function settleSoon() {
  if (finished || idleCheck !== null) return;
  // Two turns: an unhandled rejection is reported after the turn in which it happened.
  idleCheck = realSetTimeout(() => {
    idleCheck = realSetTimeout(() => {
      idleCheck = null;
      if (pending.size === 0) finish(Number(self.process?.exitCode ?? 0) & 0xff);
    }, 0);
  }, 0);
}

function guarded(callback, args) {
  if (finished) return;
  try {
    if (typeof callback === "function") callback(...args);
  } catch (error) {
    uncaught(error);
  }
}

self.setTimeout = (callback, ms, ...args) => {
  const id = realSetTimeout(() => {
    pending.delete(id);
    guarded(callback, args);
    settleSoon();
  }, ms);
  pending.add(id);
  return id;
};
self.clearTimeout = (id) => {
  realClearTimeout(id);
  pending.delete(id);
  settleSoon();
};
self.setInterval = (callback, ms, ...args) => {
  const id = realSetInterval(() => guarded(callback, args), ms);
  pending.add(id);
  return id;
};
self.clearInterval = (id) => {
  realClearInterval(id);
  pending.delete(id);
  settleSoon();
};
self.setImmediate = (callback, ...args) => self.setTimeout(callback, 0, ...args);

// ---- errors -------------------------------------------------------------------------------
class Exit {
  constructor(code) {
    this.code = code;
  }
}

function programStack(error) {
  const lines = String(error.stack || `${error.name}: ${error.message}`).split("\n");
  const head = lines.findIndex((l) => /^\s+at /.test(l));
  if (head === -1) return lines.join("\n");
  return [...lines.slice(0, head), ...lines.slice(head).filter((l) => l.includes("main.js"))].join("\n");
}

function uncaught(error) {
  if (error instanceof Exit) return finish(error.code);
  if (finished) return;
  // Only the program's own frames: this worker's are noise to its author.
  const text = error instanceof Error ? programStack(error) : inspect(error, 1);
  emit(2, `Uncaught ${text}\n`);
  finish(1);
}

self.addEventListener("error", (event) => {
  event.preventDefault();
  uncaught(event.error ?? event.message);
});
self.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  uncaught(event.reason);
});

// ---- stdin and a little of Node ----------------------------------------------------------
function installNodeish(stdin) {
  let cursor = 0;
  self.stdin = stdin;
  self.readStdin = () => stdin;
  self.readLine = () => {
    if (cursor >= stdin.length) return null;
    const end = stdin.indexOf("\n", cursor);
    const next = end === -1 ? stdin.length : end + 1;
    const text = stdin.slice(cursor, end === -1 ? stdin.length : end).replace(/\r$/, "");
    cursor = next;
    return text;
  };
  const stream = (fd) => ({ write: (chunk) => (emit(fd, String(chunk)), true), isTTY: false });
  self.process = {
    argv: ["node", "main.js"],
    env: {},
    platform: "browser",
    exitCode: undefined,
    stdout: stream(1),
    stderr: stream(2),
    stdin: { isTTY: false },
    exit(code) {
      throw new Exit(Number(code ?? self.process.exitCode ?? 0) & 0xff);
    },
    nextTick: (callback, ...args) => queueMicrotask(() => guarded(callback, args)),
    hrtime: { bigint: () => BigInt(Math.round(performance.now() * 1e6)) },
    memoryUsage: () => ({}),
  };
  const fs = {
    readFileSync(file, options) {
      if (file === 0 || file === "/dev/stdin") return stdin;
      const error = new Error(`ENOENT: a browser run has no files (only stdin), open '${file}'`);
      error.code = "ENOENT";
      throw error;
    },
  };
  const readline = {
    createInterface() {
      const handlers = { line: [], close: [] };
      let closed = false;
      const lines = stdin === "" ? [] : stdin.replace(/\n$/, "").split("\n").map((l) => l.replace(/\r$/, ""));
      const rl = {
        on(event, callback) {
          (handlers[event] ||= []).push(callback);
          return rl;
        },
        close() {
          if (closed) return;
          closed = true;
          for (const callback of handlers.close) callback();
        },
        async *[Symbol.asyncIterator]() {
          for (const l of lines) yield l;
        },
        question(prompt, callback) {
          emit(1, prompt);
          self.setTimeout(callback, 0, self.readLine() ?? "");
        },
      };
      // Lines arrive after the script has set its handlers, as in Node.
      self.setTimeout(() => {
        for (const l of lines) {
          if (closed) break;
          for (const callback of handlers.line) callback(l);
        }
        rl.close();
      }, 0);
      return rl;
    },
  };
  const modules = { fs, "node:fs": fs, readline, "node:readline": readline };
  self.require = (name) => {
    if (name in modules) return modules[name];
    throw new Error(`Cannot find module '${name}': a browser run has only fs (stdin) and readline`);
  };
  self.module = { exports: {} };
  self.exports = self.module.exports;
}

function isolate() {
  // No network and no further workers for the program (not a security boundary: the
  // program is the room's own code, running in this browser's own worker).
  for (const name of ["fetch", "XMLHttpRequest", "WebSocket", "EventSource", "importScripts", "Worker"]) {
    try {
      // Each lives on some prototype of the global scope (fetch on WorkerGlobalScope's).
      for (let scope = self; scope; scope = Object.getPrototypeOf(scope)) delete scope[name];
    } catch {
      // Not configurable here: leave it.
    }
  }
}

self.onmessage = ({ data }) => {
  if (data?.type !== "run") return;
  self.onmessage = null;
  limit = data.outputLimit;
  installNodeish(data.stdin ?? "");
  isolate();
  self.postMessage({ type: "started" });
  try {
    // Indirect eval: a classic script at global scope; sourceURL names it in stack traces.
    (0, eval)(`${data.code}\n//# sourceURL=main.js`);
  } catch (error) {
    uncaught(error);
    return;
  }
  settleSoon();
};
