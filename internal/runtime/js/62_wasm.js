// 62_wasm.js: the WebAssembly namespace. Go compiles and runs the modules
// (internal/wasm, over wazero; runtime/wasmhost.go); this unit is the
// JavaScript API around them, worded as V8 words it. As on the reference,
// code cannot be made while handling an event: a Module comes from the
// worker's own modules (an import of a .wasm file, a Worker Loader's wasm
// module) or from bytes compiled at start-up (top-level code); later,
// compiling is refused as V8 refuses it when the embedder disallows code
// generation.
//
// Values cross through one scratch buffer Go reads and writes in place:
// arguments are stored into it (each converted as the API says, by a
// typed array's own conversion), Go runs the call with the buffer as the
// call's stack, and results are read back from it. An import runs the
// other way round. Each use writes, calls and reads at once, so nested
// calls (an import calling an export) need no buffer of their own.

// wasmState holds each API object's internals: { kind, handle, ... }.
const wasmState = new WeakMap();
const wasmScratchSlots = 1024;
let wasmScratch = null; // { i32, u32, f32, f64, b64 } views of the buffer

function wasmViews() {
  if (wasmScratch === null) {
    hostNeed("wasm");
    const buf = new ArrayBuffer(wasmScratchSlots * 8);
    host.wasmScratch(buf);
    wasmScratch = {
      i32: new Int32Array(buf), u32: new Uint32Array(buf), f32: new Float32Array(buf),
      f64: new Float64Array(buf), b64: new BigInt64Array(buf),
    };
  }
  return wasmScratch;
}

const WASM_I32 = 0x7f, WASM_I64 = 0x7e, WASM_F32 = 0x7d, WASM_F64 = 0x7c, WASM_FUNCREF = 0x70, WASM_EXTERNREF = 0x6f;

// Externref values cross as numbers: each value once given a number keeps
// it (so the same object comes back as itself); 0 is null. The table only
// grows: what WebAssembly keeps a reference to cannot be known.
const wasmRefs = [null];
const wasmRefIds = new Map();

function wasmRefId(v) {
  if (v === null) return 0;
  let id = wasmRefIds.get(v);
  if (id === undefined) {
    id = wasmRefs.length;
    wasmRefs.push(v);
    wasmRefIds.set(v, id);
  }
  return id;
}

// wasmNumber is ToNumber, refusing a BigInt in V8's words.
function wasmNumber(v) {
  if (typeof v === "bigint") throw new TypeError("Cannot convert a BigInt value to a number");
  return v;
}

// wasmBigInt is ToBigInt, in V8's words.
function wasmBigInt(v) {
  switch (typeof v) {
    case "bigint": return v;
    case "boolean": return v ? 1n : 0n;
    case "string":
      try { return BigInt(v); } catch { throw new SyntaxError(`Cannot convert ${v} to a BigInt`); }
    case "object":
      if (v !== null) return wasmBigInt(v[Symbol.toPrimitive] ? v[Symbol.toPrimitive]("number") : v.valueOf());
  }
  throw new TypeError(`Cannot convert ${typeof v === "symbol" ? v.toString() : String(v)} to a BigInt`);
}

// wasmStore converts v to type t (the binary's value type byte) into slot k.
function wasmStore(s, k, t, v) {
  switch (t) {
    case WASM_I32: s.i32[2 * k] = wasmNumber(v); s.i32[2 * k + 1] = 0; break;
    case WASM_I64: s.b64[k] = wasmBigInt(v); break;
    case WASM_F32: s.f32[2 * k] = wasmNumber(v); s.i32[2 * k + 1] = 0; break;
    case WASM_F64: s.f64[k] = wasmNumber(v); break;
    case WASM_EXTERNREF: { const id = wasmRefId(v); s.u32[2 * k] = id; s.u32[2 * k + 1] = 0; break; }
    case WASM_FUNCREF:
      if (v !== null) throw new TypeError("Passing a function reference to WebAssembly is not supported by Isola yet.");
      s.b64[k] = 0n;
      break;
    default: throw new TypeError("type incompatibility when transforming from/to JS");
  }
}

function wasmLoad(s, k, t) {
  switch (t) {
    case WASM_I32: return s.i32[2 * k];
    case WASM_I64: return s.b64[k];
    case WASM_F32: return s.f32[2 * k];
    case WASM_F64: return s.f64[k];
    case WASM_EXTERNREF: return wasmRefs[s.u32[2 * k]];
    case WASM_FUNCREF:
      if (s.b64[k] === 0n) return null;
      return wasmFuncFrom(host.wasmFuncRef(k));
    default: throw new TypeError("type incompatibility when transforming from/to JS");
  }
}

// wasmFuncFrom is the function object Go names (wasmhost.go's funcAnswer):
// an instance's export, or one made (once) for a function no instance
// exports.
const wasmRefFuncs = new Map();
function wasmFuncFrom(r) {
  if (typeof r === "string" && r[0] === "e") {
    const [h, j] = r.slice(1).split(":").map(Number);
    const inst = wasmInstances.get(h);
    let fn = inst.refs[j].deref();
    if (fn === undefined) { // collected: no one can tell a new one from it
      // (Go answered with this export because the instance is linked, and a
      // linked instance lives until the isolate ends: it needs no token.)
      const ex = inst.shape[j];
      fn = wasmExportFunction(h, j, ex.index, ex.params, ex.results, host.wasmCall, null);
      inst.refs[j] = new WeakRef(fn);
    }
    return fn;
  }
  if (typeof r === "string" && r[0] === "{") {
    const f = JSON.parse(r);
    let fn = wasmRefFuncs.get(f.ref);
    if (fn === undefined) {
      fn = wasmExportFunction(f.ref, 0, f.index, f.params, f.results, host.wasmCallRef, null);
      wasmState.get(fn).ref = true;
      wasmRefFuncs.set(f.ref, fn);
    }
    return fn;
  }
  throw wasmError(String(r), "");
}

// Error classes: functions, as V8's are, so that calling one without new
// works too.
function wasmErrorClass(name) {
  const C = function (message) {
    const e = new Error(message);
    Object.setPrototypeOf(e, new.target === undefined ? C.prototype : new.target.prototype);
    return e;
  };
  C.prototype = Object.create(Error.prototype, {
    constructor: { value: C, writable: true, configurable: true },
    name: { value: name, writable: true, configurable: true },
    message: { value: "", writable: true, configurable: true },
  });
  Object.setPrototypeOf(C, Error);
  setName(C, name);
  return C;
}
const WasmCompileError = wasmErrorClass("CompileError");
const WasmLinkError = wasmErrorClass("LinkError");
const WasmRuntimeError = wasmErrorClass("RuntimeError");

// wasmError turns Go's "Class: message" into the error of that class.
function wasmError(text, prefix) {
  const i = text.indexOf(": ");
  const cls = text.slice(0, i), msg = text.slice(i + 2);
  const make = { CompileError: WasmCompileError, LinkError: WasmLinkError, RuntimeError: WasmRuntimeError, RangeError, TypeError }[cls] ?? Error;
  return new make(cls === "RuntimeError" || cls === "RangeError" ? msg : prefix + msg);
}

function wasmNoCodegen(fn) {
  return new WasmCompileError(`WebAssembly.${fn}(): Wasm code generation disallowed by embedder`);
}

function wasmIsBytes(v) {
  return v instanceof ArrayBuffer || (ArrayBuffer.isView(v) && !(v instanceof DataView));
}

function wasmBytesOf(v) {
  if (v instanceof ArrayBuffer) return v;
  return v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength);
}

function wasmOf(v, kind) {
  const st = v !== null && (typeof v === "object" || typeof v === "function") ? wasmState.get(v) : undefined;
  return st !== undefined && st.kind === kind ? st : undefined;
}

function WasmModule(bytes) {
  if (new.target === undefined) throw new TypeError("WebAssembly.Module(): WebAssembly.Module must be invoked with 'new'");
  if (!inGlobalScope) throw wasmNoCodegen("Module");
  if (!wasmIsBytes(bytes)) throw new TypeError("WebAssembly.Module(): Argument 0 must be a buffer source");
  wasmViews();
  const r = host.wasmCompile(wasmBytesOf(bytes));
  if (typeof r === "string") throw wasmError(r, "WebAssembly.Module(): ");
  wasmState.set(this, { kind: "module", handle: r, shape: JSON.parse(host.wasmShape(r)) });
}

function wasmModuleState(m, where) {
  const st = wasmOf(m, "module");
  if (st === undefined) throw new TypeError(`${where}: Argument 0 must be a WebAssembly.Module`);
  return st;
}

const wasmModuleStatics = {
  exports(m) {
    return wasmModuleState(m, "WebAssembly.Module.exports()").shape.exports.map((e) => ({ name: e.name, kind: e.kind }));
  },
  imports(m) {
    return wasmModuleState(m, "WebAssembly.Module.imports()").shape.imports.map((i) => ({ module: i.module, name: i.name, kind: i.kind }));
  },
  customSections(m, name) {
    const st = wasmModuleState(m, "WebAssembly.Module.customSections()");
    if (name === undefined) throw new TypeError("WebAssembly.Module.customSections(): Argument 1 is required");
    const out = [];
    for (let i = 0; ; i++) {
      const b = host.wasmCustom(st.handle, String(name), i);
      if (b === undefined || b === null) return out;
      out.push(b);
    }
  },
};

// wasmModuleFrom makes the Module a worker's module of that name holds
// (the bundle's code for an import of a .wasm file calls it).
function wasmModuleFrom(name) {
  wasmViews();
  const r = host.wasmModule(String(name));
  if (typeof r === "string") throw wasmError(r, "");
  const m = Object.create(WasmModule.prototype);
  wasmState.set(m, { kind: "module", handle: r, shape: JSON.parse(host.wasmShape(r)) });
  return m;
}

// wasmModuleBytes is the binary a Worker Loader's wasm module gives: its
// bytes, or those a Module was compiled from.
function wasmModuleBytes(v) {
  const st = wasmOf(v, "module");
  if (st !== undefined) return host.wasmBytes(st.handle);
  if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) return exactBuffer(v);
  throw new TypeError("Incorrect type for the 'wasm' field on 'Module': the provided value is not of type 'Array or WasmModuleObject'.");
}

function WasmInstance(module, importObject = undefined) {
  if (new.target === undefined) throw new TypeError("WebAssembly.Instance must be invoked with 'new'");
  const st = wasmModuleState(module, "WebAssembly.Instance()");
  wasmInstantiate(this, st, importObject, "WebAssembly.Instance(): ");
}

// wasmPending is what an import threw while WebAssembly ran, to be thrown
// on from the call that entered WebAssembly.
let wasmPending = null;

function wasmSameTypes(a, b) {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

function wasmInstantiate(self, st, importObject, prefix) {
  const imports = st.shape.imports;
  if (importObject !== undefined && (importObject === null || (typeof importObject !== "object" && typeof importObject !== "function"))) {
    throw new TypeError(prefix + "Argument 1 must be an object");
  }
  if (imports.length > 0 && importObject === undefined) {
    throw new TypeError(prefix + "Imports argument must be present and must be an object");
  }
  const s = wasmViews();
  const args = [];
  const importedObjects = { memory: [], global: [], table: [] };
  let slot = 0;
  for (let i = 0; i < imports.length; i++) {
    const im = imports[i];
    const ns = importObject[im.module];
    if (ns === null || (typeof ns !== "object" && typeof ns !== "function")) {
      throw new TypeError(`${prefix}Import #${i} "${im.module}": module is not an object or function`);
    }
    const v = ns[im.name];
    const at = `${prefix}Import #${i} "${im.module}" "${im.name}": `;
    switch (im.kind) {
      case "function": {
        if (typeof v !== "function") throw new WasmLinkError(at + "function import requires a callable");
        const f = wasmOf(v, "function");
        if (f !== undefined) {
          if (!wasmSameTypes(f.params, im.params ?? []) || !wasmSameTypes(f.results, im.results ?? [])) {
            throw new WasmLinkError(at + "imported function does not match the expected type");
          }
          args.push(f.handle, f.index);
        } else {
          args.push(wasmImport(v, im.params ?? [], im.results ?? []), 0);
        }
        break;
      }
      case "global": {
        const g = wasmOf(v, "global");
        if (g !== undefined) {
          if (g.mutable !== !!im.mutable) throw new WasmLinkError(at + "imported global does not match the expected mutability");
          if (g.type !== im.type) throw new WasmLinkError(at + "imported global does not match the expected type");
          args.push(g.handle, g.index);
          importedObjects.global.push(v);
          break;
        }
        if (im.mutable) throw new WasmLinkError(at + "imported mutable global must be a WebAssembly.Global object");
        const ok = im.type === WASM_I64 ? typeof v === "bigint"
          : im.type === WASM_EXTERNREF ? true
          : im.type === WASM_FUNCREF ? v === null
          : typeof v === "number";
        if (!ok) throw new WasmLinkError(at + "global import must be a number, valid Wasm reference, or WebAssembly.Global object");
        wasmStore(s, slot, im.type, v);
        args.push(-1, slot++);
        importedObjects.global.push(undefined);
        break;
      }
      case "memory": {
        const m = wasmOf(v, "memory");
        if (m === undefined) throw new WasmLinkError(at + "memory import must be a WebAssembly.Memory object");
        const pages = host.wasmPages(m.handle);
        if (pages < im.min) throw new WasmLinkError(`${at}memory import has ${pages} pages which is smaller than the declared initial of ${im.min}`);
        if (im.max !== undefined) {
          if (m.max === undefined) throw new WasmLinkError(`${at}memory import has no maximum limit, expected at most 4294967295`);
          if (m.max > im.max) throw new WasmLinkError(`${at}memory import has a larger maximum size ${m.max} than the module's declared maximum ${im.max}`);
        }
        args.push(m.handle, m.index);
        importedObjects.memory.push(v);
        break;
      }
      case "table": {
        const t = wasmOf(v, "table");
        if (t === undefined) throw new WasmLinkError(at + "table import requires a WebAssembly.Table");
        if (t.elem !== im.type) throw new WasmLinkError(at + "imported table does not match the expected type");
        const size = host.wasmTableSize(t.handle, t.index);
        if (size < im.min) throw new WasmLinkError(`${prefix}table import ${i} is smaller than initial ${im.min}, got ${size}`);
        if (im.max !== undefined && (t.max === undefined || t.max > im.max)) {
          throw new WasmLinkError(`${at}table import has a larger maximum size ${t.max ?? 4294967295} than the module's declared maximum ${im.max}`);
        }
        args.push(t.handle, t.index);
        importedObjects.table.push(v);
        break;
      }
      default:
        throw new WasmLinkError(at + `importing a ${im.kind} is not supported by Isola yet`);
    }
  }
  const r = host.wasmInstantiate(st.handle, ...args);
  if (typeof r === "string") throw wasmError(r, prefix);
  const keep = wasmKeep(r);
  const exports = Object.create(null);
  const made = new Map(); // one object per item, however many names export it
  for (let i = 0; i < st.shape.exports.length; i++) {
    const ex = st.shape.exports[i];
    const key = ex.kind + ex.index;
    let v = made.get(key);
    if (v === undefined) {
      const imported = importedObjects[ex.kind]?.[ex.index];
      switch (ex.kind) {
        case "function":
          v = wasmExportFunction(r, i, ex.index, ex.params, ex.results, host.wasmCall, keep);
          break;
        case "memory":
          v = imported ?? wasmObject(WasmMemory, { kind: "memory", handle: r, index: i, max: ex.max, keep });
          break;
        case "global":
          v = imported ?? wasmObject(WasmGlobal, { kind: "global", handle: r, index: i, type: ex.type, mutable: ex.mutable, keep });
          break;
        case "table":
          v = imported ?? wasmObject(WasmTable, { kind: "table", handle: r, index: i, elem: ex.type, max: ex.max, exports: null, keep });
          break;
        default:
          v = Object.create(WasmTag.prototype);
      }
      made.set(key, v);
    }
    exports[ex.name] = v;
  }
  // A table's functions that are exports are those exports.
  const byExport = st.shape.exports.map((ex) => made.get(ex.kind + ex.index));
  for (const v of made.values()) {
    const t = wasmOf(v, "table");
    if (t !== undefined && t.handle === r) t.exports = byExport;
  }
  Object.freeze(exports);
  wasmInstances.set(r, { refs: byExport.map((v) => new WeakRef(v)), shape: st.shape.exports });
  wasmState.set(self, { kind: "instance", handle: r, exports, keep });
  return self;
}

// wasmInstances maps an instance's handle to (weak references to) its
// exports' objects, by export index: a function read out of a table is the
// export it is.
const wasmInstances = new Map();

// An instance lives in Go until no object of its own (the Instance, its
// exports, a Memory, Table or Global made in JavaScript) is left: each
// holds its keep token, and the token's collection releases it. Go keeps
// instances linked to others (wasmhost.go) until the isolate ends.
const wasmRegistry = new FinalizationRegistry((h) => {
  if (host.wasmRelease(h)) wasmInstances.delete(h);
});

function wasmKeep(h) {
  const keep = {};
  wasmRegistry.register(keep, h);
  return keep;
}

function wasmObject(C, st) {
  const o = Object.create(C.prototype);
  wasmState.set(o, st);
  return o;
}

// wasmImport wraps an imported function for Go to call: its arguments in
// the scratch buffer, its results put back there. It returns true when f
// threw; what it threw waits in wasmPending.
function wasmImport(f, params, results) {
  return () => {
    const s = wasmScratch;
    const args = new Array(params.length);
    for (let k = 0; k < params.length; k++) args[k] = wasmLoad(s, k, params[k]);
    try {
      const r = f(...args);
      if (results.length === 1) wasmStore(s, 0, results[0], r);
      else if (results.length > 1) {
        const vs = [...r];
        if (vs.length !== results.length) throw new TypeError("multi-return length mismatch");
        for (let k = 0; k < results.length; k++) wasmStore(s, k, results[k], vs[k]);
      }
      return false;
    } catch (e) {
      wasmPending = { e };
      return true;
    }
  };
}

// Exported functions show themselves as V8's do: "function 1() { [native
// code] }", 1 being the function's index.
const wasmFunctionProto = Object.create(Function.prototype, {
  toString: {
    value() { return `function ${this.name}() { [native code] }`; },
    writable: true, configurable: true,
  },
});

// wasmExportFunction makes the function object of export i of instance inst
// (or, with call host.wasmCallRef, of function handle inst).
function wasmExportFunction(inst, i, index, params, results, call, keep) {
  const n = params.length;
  const [p0, p1, p2] = params;
  const nres = results.length, r0 = results[0];
  const byRef = call !== host.wasmCall;
  // Calls cost most in the interpreter, so the common shapes (up to three
  // parameters, at most one result) get wrappers of their own: no rest
  // array, no loops.
  const done = (s, r) => {
    if (r !== 0) wasmRaise(r);
    if (nres === 1) return wasmLoad(s, 0, r0);
    if (nres === 0) return undefined;
    const out = [];
    for (let k = 0; k < nres; k++) out.push(wasmLoad(s, k, results[k]));
    return out;
  };
  // i32 and f64 values, the common ones, are stored and read in place.
  const { i32, f64 } = wasmScratch;
  const fast = (t) => (t === WASM_I32 ? 1 : t === WASM_F64 ? 2 : 0);
  const f0 = fast(p0), f1 = fast(p1), f2 = fast(p2);
  const fr = nres === 1 ? fast(r0) : 0;
  let methods;
  if (n > wasmScratchSlots || nres > wasmScratchSlots) {
    // (V8 compiles no function with more than 1,000 of either.)
    methods = { [index]() { throw new RangeError(`Isola cannot call a WebAssembly function with more than ${wasmScratchSlots} parameters or results.`); } };
  } else if (byRef) {
    methods = {
      [index](...args) {
        const s = wasmScratch;
        for (let k = 0; k < n; k++) wasmStore(s, k, params[k], args[k]);
        return done(s, host.wasmCallRef(inst));
      },
    };
  } else if (n === 0) {
    methods = {
      [index]() {
        const r = host.wasmCall(inst, i);
        if (r === 0 && fr === 1) return i32[0];
        if (r === 0 && fr === 2) return f64[0];
        return done(wasmScratch, r);
      },
    };
  } else if (n === 1) {
    methods = {
      [index](a) {
        try {
          if (f0 === 1) { i32[0] = a; i32[1] = 0; }
          else if (f0 === 2) f64[0] = a;
          else wasmStore(wasmScratch, 0, p0, a);
        } catch (e) {
          wasmArgFailed(e);
        }
        const r = host.wasmCall(inst, i);
        if (r === 0 && fr === 1) return i32[0];
        if (r === 0 && fr === 2) return f64[0];
        return done(wasmScratch, r);
      },
    };
  } else if (n === 2) {
    methods = {
      [index](a, b) {
        try {
          if (f0 === 1) { i32[0] = a; i32[1] = 0; }
          else if (f0 === 2) f64[0] = a;
          else wasmStore(wasmScratch, 0, p0, a);
          if (f1 === 1) { i32[2] = b; i32[3] = 0; }
          else if (f1 === 2) f64[1] = b;
          else wasmStore(wasmScratch, 1, p1, b);
        } catch (e) {
          wasmArgFailed(e);
        }
        const r = host.wasmCall(inst, i);
        if (r === 0 && fr === 1) return i32[0];
        if (r === 0 && fr === 2) return f64[0];
        return done(wasmScratch, r);
      },
    };
  } else if (n === 3) {
    methods = {
      [index](a, b, c) {
        try {
          if (f0 === 1) { i32[0] = a; i32[1] = 0; }
          else if (f0 === 2) f64[0] = a;
          else wasmStore(wasmScratch, 0, p0, a);
          if (f1 === 1) { i32[2] = b; i32[3] = 0; }
          else if (f1 === 2) f64[1] = b;
          else wasmStore(wasmScratch, 1, p1, b);
          if (f2 === 1) { i32[4] = c; i32[5] = 0; }
          else if (f2 === 2) f64[2] = c;
          else wasmStore(wasmScratch, 2, p2, c);
        } catch (e) {
          wasmArgFailed(e);
        }
        const r = host.wasmCall(inst, i);
        if (r === 0 && fr === 1) return i32[0];
        if (r === 0 && fr === 2) return f64[0];
        return done(wasmScratch, r);
      },
    };
  } else {
    methods = {
      [index](...args) {
        const s = wasmScratch;
        for (let k = 0; k < n; k++) wasmStore(s, k, params[k], args[k]);
        return done(s, host.wasmCall(inst, i));
      },
    };
  }
  const fn = methods[index];
  Object.defineProperty(fn, "length", { value: n });
  Object.setPrototypeOf(fn, wasmFunctionProto);
  wasmState.set(fn, { kind: "function", handle: inst, index: i, params, results, keep });
  return fn;
}

// wasmArgFailed rethrows what storing an argument threw: a typed array's
// refusal of a BigInt for a number in V8's words, anything else as it is.
function wasmArgFailed(e) {
  if (e instanceof TypeError && e.message === "cannot convert bigint to number") wasmNumber(0n);
  throw e;
}

// wasmRaise throws what a call into WebAssembly ended with: an import's
// exception (1), or Go's "Class: message".
function wasmRaise(r) {
  if (r === 1) {
    const p = wasmPending;
    wasmPending = null;
    throw p.e;
  }
  throw wasmError(r, "");
}

function wasmIndexArg(v, where) {
  const n = Number(v);
  if (Number.isNaN(n) || v === undefined) throw new TypeError(`${where}: Argument 0 must be convertible to a valid number`);
  if (n < 0) throw new TypeError(`${where}: Argument 0 must be non-negative`);
  if (n > 0xffffffff) throw new TypeError(`${where}: Argument 0 must be in the unsigned long range`);
  return Math.trunc(n);
}

function wasmPagesOf(d, key, where, required, upper) {
  const v = d[key];
  if (v === undefined) {
    if (required) throw new TypeError(`${where}: Property '${key}' is required`);
    return undefined;
  }
  const n = Number(v);
  if (Number.isNaN(n)) throw new TypeError(`${where}: Property '${key}' must be convertible to a valid number`);
  if (n < 0) throw new TypeError(`${where}: Property '${key}' must be non-negative`);
  if (n > upper) throw new RangeError(`${where}: Property '${key}': value ${Math.trunc(n)} is above the upper bound ${upper}`);
  return Math.trunc(n);
}

function wasmLimits(d, where, upper) {
  const initial = wasmPagesOf(d, "initial", where, true, upper);
  const maximum = wasmPagesOf(d, "maximum", where, false, upper);
  if (maximum !== undefined && maximum < initial) {
    throw new RangeError(`${where}: Property 'maximum': value ${maximum} is below the lower bound ${initial}`);
  }
  return [initial, maximum];
}

function WasmMemory(descriptor) {
  if (new.target === undefined) throw new TypeError("WebAssembly.Memory(): WebAssembly.Memory must be invoked with 'new'");
  if (descriptor === null || typeof descriptor !== "object") throw new TypeError("WebAssembly.Memory(): Argument 0 must be a memory descriptor");
  const [initial, maximum] = wasmLimits(descriptor, "WebAssembly.Memory()", 65536);
  if (descriptor.shared) throw new TypeError("WebAssembly.Memory(): shared memories are not supported by Isola yet");
  wasmViews();
  const r = host.wasmNewMemory(initial, maximum ?? -1);
  if (typeof r === "string") throw wasmError(r, "WebAssembly.Memory(): ");
  wasmState.set(this, { kind: "memory", handle: r, index: 0, max: maximum, keep: wasmKeep(r) });
}

function wasmMemoryState(m, what) {
  const st = wasmOf(m, "memory");
  if (st === undefined) throw new TypeError(`WebAssembly.Memory.${what}: Receiver is not a WebAssembly.Memory`);
  return st;
}

// The buffers over memories, which cannot be transferred (V8 refuses: Go
// owns the bytes and detaches the buffer when the memory grows). A buffer
// does not keep its instance: Go holds it (to detach it), so if it held the
// instance's token the instance could never go. A buffer kept after every
// other object of its instance is dropped is detached when the instance is
// freed.
const wasmBuffers = new WeakSet();

const wasmMemoryMethods = {
  get buffer() {
    const b = host.wasmBuffer(wasmMemoryState(this, "buffer").handle);
    wasmBuffers.add(b);
    return b;
  },
  grow(delta) {
    const st = wasmMemoryState(this, "grow()");
    const d = wasmIndexArg(delta, "WebAssembly.Memory.grow()");
    const r = host.wasmGrow(st.handle, d);
    if (r < 0) throw new RangeError("WebAssembly.Memory.grow(): Maximum memory size exceeded");
    return r;
  },
  toFixedLengthBuffer() {
    return this.buffer;
  },
  toResizableBuffer() {
    throw new TypeError("WebAssembly.Memory.toResizableBuffer(): resizable buffers are not supported by Isola yet");
  },
};

const wasmValueTypes = { i32: WASM_I32, i64: WASM_I64, f32: WASM_F32, f64: WASM_F64, externref: WASM_EXTERNREF, anyfunc: WASM_FUNCREF };

function WasmGlobal(descriptor, value = undefined) {
  if (new.target === undefined) throw new TypeError("WebAssembly.Global(): WebAssembly.Global must be invoked with 'new'");
  if (descriptor === null || typeof descriptor !== "object") throw new TypeError("WebAssembly.Global(): Argument 0 must be a global descriptor");
  const mutable = !!descriptor.mutable;
  const type = wasmValueTypes[descriptor.value];
  if (type === undefined) throw new TypeError("WebAssembly.Global(): Descriptor property 'value' must be a WebAssembly type");
  const s = wasmViews();
  if (value === undefined) {
    if (type === WASM_I64) value = 0n;
    else if (type === WASM_FUNCREF) value = null;
    else if (type !== WASM_EXTERNREF) value = 0;
  }
  if (type === WASM_FUNCREF && value !== null) {
    throw new TypeError("WebAssembly.Global(): function-typed object must be null (if nullable) or a Wasm function object");
  }
  wasmStore(s, 0, type, value);
  // A module's global starts from a constant, and an externref constant
  // can only be null: the value is set after.
  const r = host.wasmNewGlobal(type, mutable || type === WASM_EXTERNREF);
  if (typeof r === "string") throw wasmError(r, "WebAssembly.Global(): ");
  const st = { kind: "global", handle: r, index: 0, type, mutable, keep: wasmKeep(r) };
  if (type === WASM_EXTERNREF) {
    wasmStore(s, 0, type, value);
    host.wasmSetGlobal(r, 0);
  }
  wasmState.set(this, st);
}

function wasmGlobalState(g, what) {
  const st = wasmOf(g, "global");
  if (st === undefined) throw new TypeError(`${what} WebAssembly.Global.value): Receiver is not a WebAssembly.Global`);
  return st;
}

const wasmGlobalMethods = {
  get value() {
    const st = wasmGlobalState(this, "get");
    const r = host.wasmGlobal(st.handle, st.index);
    if (r !== 0) throw wasmError(r, "");
    return wasmLoad(wasmScratch, 0, st.type);
  },
  set value(v) {
    const st = wasmGlobalState(this, "set");
    if (!st.mutable) throw new TypeError("set WebAssembly.Global.value): Can't set the value of an immutable global.");
    wasmStore(wasmScratch, 0, st.type, v);
    const r = host.wasmSetGlobal(st.handle, st.index);
    if (r !== 0) throw wasmError(r, "");
  },
  valueOf() {
    return this.value;
  },
};

function WasmTable(descriptor, value = undefined) {
  if (new.target === undefined) throw new TypeError("WebAssembly.Table(): WebAssembly.Table must be invoked with 'new'");
  if (descriptor === null || typeof descriptor !== "object") throw new TypeError("WebAssembly.Table(): Argument 0 must be a table descriptor");
  const elem = descriptor.element === "anyfunc" ? WASM_FUNCREF : descriptor.element === "externref" ? WASM_EXTERNREF : undefined;
  if (elem === undefined) throw new TypeError("WebAssembly.Table(): Descriptor property 'element' must be a WebAssembly reference type");
  const [initial, maximum] = wasmLimits(descriptor, "WebAssembly.Table()", 10000000);
  wasmViews();
  const r = host.wasmNewTable(elem, initial, maximum ?? -1);
  if (typeof r === "string") throw wasmError(r, "WebAssembly.Table(): ");
  const st = { kind: "table", handle: r, index: 0, elem, max: maximum, exports: null, keep: wasmKeep(r) };
  wasmState.set(this, st);
  // Elements start as undefined in an externref table made here.
  if (elem === WASM_EXTERNREF) for (let i = 0; i < initial; i++) wasmTableSet(st, i, value);
  else if (value !== undefined && value !== null) for (let i = 0; i < initial; i++) wasmTableSet(st, i, value);
}

function wasmTableState(t, what) {
  const st = wasmOf(t, "table");
  if (st === undefined) throw new TypeError(`WebAssembly.Table.${what}: Receiver is not a WebAssembly.Table`);
  return st;
}

function wasmTableName(st) {
  return st.elem === WASM_FUNCREF ? "funcref" : "externref";
}

// wasmTablePut puts (or, growing, appends delta of) a Wasm function in a
// funcref table; false when v is not one.
function wasmTablePut(st, i, v, grow) {
  const f = wasmOf(v, "function");
  if (f === undefined || st.elem !== WASM_FUNCREF) return false;
  if (f.ref) throw new TypeError("Putting a function read out of a table back in one is not supported by Isola yet.");
  const r = host.wasmTablePut(st.handle, st.index, i, f.handle, f.index, grow);
  if (typeof r === "string") throw wasmError(r, "");
  return r;
}

function wasmTableSet(st, i, v) {
  if (wasmTablePut(st, i, v, false) !== false) return;
  if (st.elem === WASM_FUNCREF && v !== null) {
    throw new TypeError("WebAssembly.Table.set(): Argument 1 is invalid for table: function-typed object must be null (if nullable) or a Wasm function object");
  }
  wasmStore(wasmScratch, 0, st.elem, v);
  const r = host.wasmTableSet(st.handle, st.index, i);
  if (r !== 0) throw wasmError(r, "");
}

const wasmTableMethods = {
  get length() {
    const st = wasmTableState(this, "length()");
    const r = host.wasmTableSize(st.handle, st.index);
    if (typeof r === "string") throw wasmError(r, "");
    return r;
  },
  get(index) {
    const st = wasmTableState(this, "get()");
    const i = wasmIndexArg(index, "WebAssembly.Table.get()");
    const size = this.length;
    if (i >= size) throw new RangeError(`WebAssembly.Table.get(): invalid address ${i} in ${wasmTableName(st)} table of size ${size}`);
    const r = host.wasmTableGet(st.handle, st.index, i);
    if (r === 0) return wasmLoad(wasmScratch, 0, st.elem === WASM_FUNCREF ? WASM_EXTERNREF : st.elem);
    return wasmFuncFrom(r);
  },
  set(index, ...rest) {
    const st = wasmTableState(this, "set()");
    const value = rest.length > 0 ? rest[0] : st.elem === WASM_EXTERNREF ? undefined : null;
    const i = wasmIndexArg(index, "WebAssembly.Table.set()");
    const size = this.length;
    if (i >= size) throw new RangeError(`WebAssembly.Table.set(): invalid address ${i} in ${wasmTableName(st)} table of size ${size}`);
    wasmTableSet(st, i, value);
  },
  grow(delta, ...rest) {
    const st = wasmTableState(this, "grow()");
    const value = rest.length > 0 ? rest[0] : st.elem === WASM_EXTERNREF ? undefined : null;
    const d = wasmIndexArg(delta, "WebAssembly.Table.grow()");
    let r = wasmTablePut(st, d, value, true);
    if (r === false) {
      if (st.elem === WASM_FUNCREF && value !== null) {
        throw new TypeError("WebAssembly.Table.grow(): Argument 1 is invalid for table: function-typed object must be null (if nullable) or a Wasm function object");
      }
      wasmStore(wasmScratch, 0, st.elem, value);
      r = host.wasmTableGrow(st.handle, st.index, d);
    }
    if (typeof r === "string") throw wasmError(r, "");
    if (r < 0) throw new RangeError(`WebAssembly.Table.grow(): failed to grow table by ${d}`);
    return r;
  },
};

function WasmTag() {
  throw new TypeError("WebAssembly.Tag(): exception handling is not supported by Isola yet");
}

function WasmException() {
  throw new TypeError("WebAssembly.Exception(): exception handling is not supported by Isola yet");
}

function WasmSuspending() {
  throw new TypeError("WebAssembly.Suspending(): JavaScript promise integration is not supported by Isola yet");
}

function wasmValidate(bytes) {
  if (!wasmIsBytes(bytes)) throw new TypeError("WebAssembly.validate(): Argument 0 must be a buffer source");
  hostNeed("wasm");
  return host.wasmValidate(wasmBytesOf(bytes));
}

function wasmCompileAsync(bytes) {
  return Promise.reject(wasmNoCodegen("compile"));
}

function wasmInstantiateAsync(source, importObject = undefined) {
  try {
    const st = wasmOf(source, "module");
    if (st !== undefined) {
      const inst = Object.create(WasmInstance.prototype);
      return Promise.resolve(wasmInstantiate(inst, st, importObject, "WebAssembly.instantiate(): "));
    }
    if (!wasmIsBytes(source) && (source === null || typeof source !== "object")) {
      throw new TypeError("WebAssembly.instantiate(): Argument 0 must be a buffer source or a WebAssembly.Module object");
    }
    return Promise.reject(wasmNoCodegen("instantiate"));
  } catch (e) {
    return Promise.reject(e);
  }
}

function wasmPromising() {
  throw new TypeError("WebAssembly.promising(): JavaScript promise integration is not supported by Isola yet");
}

function wasmDefine(o, name, v) {
  Object.defineProperty(o, name, { value: v, writable: true, configurable: true, enumerable: false });
}

function wasmClass(C, name, tag, methods) {
  setName(C, name);
  Object.defineProperty(C, "length", { value: 1 });
  if (methods !== undefined) Object.defineProperties(C.prototype, Object.getOwnPropertyDescriptors(methods));
  for (const k of Object.keys(methods ?? {})) Object.defineProperty(C.prototype, k, { enumerable: false });
  Object.defineProperty(C.prototype, Symbol.toStringTag, { value: tag, configurable: true });
}

// installWasm installs the namespace (16_optional.js).
function installWasm() {
  const ns = {};
  wasmClass(WasmModule, "Module", "WebAssembly.Module");
  for (const [k, f] of Object.entries(wasmModuleStatics)) wasmDefine(WasmModule, k, f);
  wasmClass(WasmInstance, "Instance", "WebAssembly.Instance", {
    get exports() {
      const st = wasmOf(this, "instance");
      if (st === undefined) throw new TypeError("WebAssembly.Instance.exports(): Receiver is not a WebAssembly.Instance");
      return st.exports;
    },
  });
  wasmClass(WasmMemory, "Memory", "WebAssembly.Memory", wasmMemoryMethods);
  wasmClass(WasmGlobal, "Global", "WebAssembly.Global", wasmGlobalMethods);
  wasmClass(WasmTable, "Table", "WebAssembly.Table", wasmTableMethods);
  wasmClass(WasmTag, "Tag", "WebAssembly.Tag");
  wasmClass(WasmException, "Exception", "WebAssembly.Exception");
  wasmClass(WasmSuspending, "Suspending", "WebAssembly.Suspending");
  const SuspendError = wasmErrorClass("SuspendError");
  for (const [name, v] of [
    ["CompileError", WasmCompileError], ["Exception", WasmException], ["Global", WasmGlobal], ["Instance", WasmInstance],
    ["JSTag", Object.create(WasmTag.prototype)], ["LinkError", WasmLinkError], ["Memory", WasmMemory], ["Module", WasmModule],
    ["RuntimeError", WasmRuntimeError], ["SuspendError", SuspendError], ["Suspending", WasmSuspending], ["Table", WasmTable],
    ["Tag", WasmTag],
  ]) {
    wasmDefine(ns, name, v);
  }
  for (const [name, f] of [["compile", wasmCompileAsync], ["instantiate", wasmInstantiateAsync], ["promising", wasmPromising], ["validate", wasmValidate]]) {
    setName(f, name);
    Object.defineProperty(f, "length", { value: 1 });
    wasmDefine(ns, name, f);
  }
  Object.defineProperty(ns, Symbol.toStringTag, { value: "WebAssembly", configurable: true });
  Object.defineProperty(ns, Symbol.for("isola.wasm"), { value: wasmModuleFrom });
  wasmDefine(globalThis, "WebAssembly", ns);
  for (const name of ["transfer", "transferToFixedLength"]) {
    const orig = ArrayBuffer.prototype[name];
    if (typeof orig !== "function") continue;
    const guarded = {
      [name](...args) {
        if (wasmBuffers.has(this)) throw new TypeError("ArrayBuffer is not detachable and could not be cloned.");
        return Reflect.apply(orig, this, args);
      },
    }[name];
    Object.defineProperty(guarded, "length", { value: orig.length });
    wasmDefine(ArrayBuffer.prototype, name, guarded);
  }
}
