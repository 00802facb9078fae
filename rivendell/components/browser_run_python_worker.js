// Dedicated worker for browser runs of Python (rivendell.components.browser_run).
//
// Pyodide is not bundled: the engine passes the URL where the app itself serves the npm
// package's files (PyodidePlugin copies them into the production build), and this worker
// imports it from there the first time a run asks for it. The interpreter then stays
// loaded for the next runs; a runaway program is ended by terminating this worker, and the
// next run gets a fresh one (and a fresh interpreter).
//
// Messages in:  {type: "load", pyodideUrl}, {type: "run", code, stdin, outputLimit, pyodideUrl}
// Messages out: {type: "loaded", runtime, loadMs}, {type: "started"},
//               {type: "out", fd, bytes}, {type: "done", exitCode, fatal?, error?}

// Runs once per interpreter. Each program gets fresh streams, a fresh `__main__` namespace
// and the module table it found; it cannot see this code's names unless it goes looking.
const HARNESS = String.raw`
import builtins, io, linecache, sys, traceback
from pyodide.ffi import to_js
from _rivendell_io import write as _write


class _Sink(io.RawIOBase):
    def __init__(self, fd):
        self._fd = fd

    def writable(self):
        return True

    def write(self, data):
        data = bytes(data)
        if data:
            _write(self._fd, to_js(data))
        return len(data)


def _stream(fd):
    # Line-buffered, so what a program printed before it hangs reaches the page.
    return io.TextIOWrapper(
        io.BufferedWriter(_Sink(fd)),
        encoding="utf-8",
        errors="backslashreplace",
        line_buffering=True,
        write_through=fd == 2,
    )


def _exit_status(exc, err):
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=err)
    return 1


def _rivendell_run(code, stdin):
    saved = (sys.stdin, sys.stdout, sys.stderr, sys.argv, sys.getrecursionlimit())
    modules = set(sys.modules)
    out, err = _stream(1), _stream(2)
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8", "surrogatepass")), encoding="utf-8")
    sys.stdout, sys.stderr, sys.argv = out, err, ["main.py"]
    # Tracebacks quote the program's lines, as they would from a file.
    linecache.cache["main.py"] = (len(code), None, code.splitlines(True), "main.py")
    namespace = {"__name__": "__main__", "__file__": "main.py", "__builtins__": builtins}
    status = 0
    try:
        exec(compile(code, "main.py", "exec"), namespace)
    except SystemExit as exc:
        status = _exit_status(exc, err)
    except BaseException as exc:
        # Skip this function's frame: the traceback starts in the program.
        traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next, file=err)
        status = 1
    finally:
        for stream in (out, err):
            try:
                stream.flush()
            except Exception:
                pass
        sys.stdin, sys.stdout, sys.stderr, sys.argv = saved[:4]
        sys.setrecursionlimit(saved[4])
        # Modules the program imported load afresh next time (their state was its state).
        for name in set(sys.modules) - modules:
            del sys.modules[name]
        namespace.clear()
    return status
`;

let pyodide = null;
let runtime = "";
let limit = Infinity;
const sent = [0, 0, 0];

function write(fd, bytes) {
  const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  // Past the limit the engine ends this worker; until then, do not flood it.
  if (sent[fd] > limit) return;
  sent[fd] += data.byteLength;
  self.postMessage({ type: "out", fd, bytes: data }, [data.buffer]);
}

async function load(pyodideUrl) {
  const started = performance.now();
  const { loadPyodide } = await import(/* @vite-ignore */ `${pyodideUrl}pyodide.mjs`);
  // Every URL Pyodide derives points at the app: none at its CDN, whose address it uses
  // by default for packages.
  const py = await loadPyodide({
    indexURL: pyodideUrl,
    lockFileURL: `${pyodideUrl}pyodide-lock.json`,
    packageBaseUrl: pyodideUrl,
    stdout: (line) => write(1, new TextEncoder().encode(`${line}\n`)),
    stderr: (line) => write(2, new TextEncoder().encode(`${line}\n`)),
  });
  py.registerJsModule("_rivendell_io", { write });
  py.runPython(HARNESS);
  const python = py.runPython("import sys; sys.version.split()[0]");
  runtime = `Pyodide ${py.version} (Python ${python})`;
  pyodide = py;
  // The program shares this worker: it gets no network and no other worker. Pyodide has
  // loaded everything it needs by now (the standard library is in memory).
  for (const name of ["fetch", "XMLHttpRequest", "WebSocket", "EventSource", "importScripts", "Worker"]) {
    try {
      // Each lives on some prototype of the global scope (fetch on WorkerGlobalScope's).
      for (let scope = self; scope; scope = Object.getPrototypeOf(scope)) delete scope[name];
    } catch {
      // Not configurable in this browser: leave it.
    }
  }
  self.postMessage({ type: "loaded", runtime, loadMs: Math.round(performance.now() - started) });
}

let loading = null;

function ensureLoaded(pyodideUrl) {
  if (!loading) loading = load(pyodideUrl);
  return loading;
}

self.onmessage = async ({ data }) => {
  if (data?.type === "load") {
    // A standby interpreter, loaded ahead of the next run; a failure shows on that run.
    ensureLoaded(data.pyodideUrl).catch(() => {});
    return;
  }
  if (data?.type !== "run") return;
  try {
    await ensureLoaded(data.pyodideUrl);
  } catch (error) {
    self.postMessage({ type: "done", exitCode: null, fatal: true, error: `Could not load Pyodide: ${error}` });
    return;
  }
  limit = data.outputLimit;
  sent.fill(0);
  // File descriptor 0 too (open(0), os.read(0, n)), not only sys.stdin.
  const stdin = new TextEncoder().encode(data.stdin);
  let offset = 0;
  pyodide.setStdin({
    read(buffer) {
      const n = Math.min(buffer.length, stdin.length - offset);
      buffer.set(stdin.subarray(offset, offset + n));
      offset += n;
      return n;
    },
  });
  self.postMessage({ type: "started" });
  try {
    const run = pyodide.globals.get("_rivendell_run");
    const exitCode = run(data.code, data.stdin);
    run.destroy();
    self.postMessage({ type: "done", exitCode });
  } catch (error) {
    // The harness catches every Python exception: this is the interpreter itself failing
    // (a fatal error, a stack overflow in WebAssembly). It is not to be trusted again.
    self.postMessage({ type: "done", exitCode: 1, fatal: true, error: `Pyodide failed: ${error}` });
  }
};
