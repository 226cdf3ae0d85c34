// Compiling WebAssembly from bytes at run time (workerd forbids code
// generation), WebAssembly.validate, custom sections, the WebAssembly
// namespace itself, and misuse of the constructors. named.wasm's source is
// conformance/wasm-src/087-wasm-codegen (with two "meta" custom sections).
import named from "./named.wasm";

// (module (func (export "seven") (result i32) (i32.const 7)))
const SEVEN = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 127, 3, 2, 1, 0, 7, 9, 1, 5,
  115, 101, 118, 101, 110, 0, 0, 10, 6, 1, 4, 0, 65, 7, 11,
]);
const BAD_MAGIC = new Uint8Array([1, 2, 3, 4, 1, 0, 0, 0]);
const TRUNCATED = SEVEN.slice(0, 20);
// Well-formed but invalid: the function returns nothing though it declares i32.
const INVALID = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 127, 3, 2, 1, 0, 10, 4, 1, 2, 0, 11,
]);

const run = (fn) => {
  try { return fn(); } catch (e) { return `${e.constructor.name}: ${e.message}`; }
};
const runAsync = async (fn) => {
  try { return await fn(); } catch (e) { return `${e.constructor.name}: ${e.message}`; }
};
const describe = (v) => (v instanceof WebAssembly.Module ? "Module" : v instanceof WebAssembly.Instance ? "Instance" : v && typeof v === "object" ? Object.keys(v) : v);

// At startup (while the main module is evaluated, before any request).
let startupModule;
const atStartup = {
  newModule: run(() => describe(startupModule = new WebAssembly.Module(SEVEN))),
  newModuleBadMagic: run(() => describe(new WebAssembly.Module(BAD_MAGIC))),
  // V8's validator message ("Compiling function #0 failed: expected 1
  // elements on the stack for fallthru, found 0 @+24") is V8's own: only its
  // start is kept.
  newModuleInvalid: run(() => describe(new WebAssembly.Module(INVALID))).replace(/(Compiling function #0 failed: ).*/s, "$1..."),
  validate: run(() => WebAssembly.validate(SEVEN)),
};
// (WebAssembly.compile or instantiate of bytes at startup never settles in
// workerd: awaiting it at the top level fails the worker with "Top-level
// await in module is unsettled", so it is not probed here.)

export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/compile") {
      return Response.json({
        atStartup,
        // A module compiled at startup instantiates during a request.
        startupModuleSeven: run(() => new WebAssembly.Instance(startupModule).exports.seven()),
        newModule: run(() => describe(new WebAssembly.Module(SEVEN))),
        newModuleBuffer: run(() => describe(new WebAssembly.Module(SEVEN.buffer))),
        newModuleBadMagic: run(() => describe(new WebAssembly.Module(BAD_MAGIC))),
        newModuleNotBytes: run(() => describe(new WebAssembly.Module("x"))),
        compile: await runAsync(async () => describe(await WebAssembly.compile(SEVEN))),
        compileBadMagic: await runAsync(async () => describe(await WebAssembly.compile(BAD_MAGIC))),
        compileNotBytes: await runAsync(async () => describe(await WebAssembly.compile(5))),
        instantiateBytes: await runAsync(async () => describe(await WebAssembly.instantiate(SEVEN))),
        instantiateBuffer: await runAsync(async () => describe(await WebAssembly.instantiate(SEVEN.buffer))),
        instantiateNotBytes: await runAsync(async () => describe(await WebAssembly.instantiate(5))),
        instantiateModule: await runAsync(async () => describe(await WebAssembly.instantiate(named))),
        compileStreaming: typeof WebAssembly.compileStreaming,
        instantiateStreaming: typeof WebAssembly.instantiateStreaming,
        // Only the class: the message of calling undefined is each engine's own.
        compileStreamingResponse: (await runAsync(async () => describe(await WebAssembly.compileStreaming(new Response(SEVEN, { headers: { "content-type": "application/wasm" } }))))).split(":")[0],
      });
    }
    if (path === "/validate") {
      return Response.json({
        valid: run(() => WebAssembly.validate(SEVEN)),
        validBuffer: run(() => WebAssembly.validate(SEVEN.buffer)),
        badMagic: run(() => WebAssembly.validate(BAD_MAGIC)),
        truncated: run(() => WebAssembly.validate(TRUNCATED)),
        invalidBody: run(() => WebAssembly.validate(INVALID)),
        empty: run(() => WebAssembly.validate(new Uint8Array(0))),
        dataView: run(() => WebAssembly.validate(new DataView(SEVEN.buffer))),
        notBytes: run(() => WebAssembly.validate("x")),
        noArgument: run(() => WebAssembly.validate()),
        array: run(() => WebAssembly.validate([...SEVEN])),
      });
    }
    if (path === "/sections") {
      const sections = (name) => run(() => WebAssembly.Module.customSections(named, name).map((b) => ({
        isArrayBuffer: b instanceof ArrayBuffer,
        text: name === "meta" ? new TextDecoder().decode(b) : undefined,
        byteLength: b.byteLength,
      })));
      return Response.json({
        name: sections("name"),
        meta: sections("meta"),
        none: sections("none"),
        copies: run(() => WebAssembly.Module.customSections(named, "meta")[0] !== WebAssembly.Module.customSections(named, "meta")[0]),
        noName: run(() => WebAssembly.Module.customSections(named)),
        notModule: run(() => WebAssembly.Module.customSections({}, "name")),
        exports: WebAssembly.Module.exports(named),
        imports: WebAssembly.Module.imports(named),
        seven: new WebAssembly.Instance(named).exports.seven(),
        exportName: new WebAssembly.Instance(named).exports.seven.name,
        exportsNotModule: run(() => WebAssembly.Module.exports({})),
        importsNotModule: run(() => WebAssembly.Module.imports(5)),
      });
    }
    if (path === "/namespace") {
      const desc = Object.getOwnPropertyDescriptor(globalThis, "WebAssembly");
      return Response.json({
        ownNames: Object.getOwnPropertyNames(WebAssembly).sort(),
        toStringTag: WebAssembly[Symbol.toStringTag],
        tag: Object.prototype.toString.call(WebAssembly),
        globalDescriptor: { writable: desc.writable, enumerable: desc.enumerable, configurable: desc.configurable },
        types: Object.fromEntries(["CompileError", "LinkError", "RuntimeError", "Module", "Instance", "Memory", "Table", "Global", "Tag", "Exception", "compile", "validate", "instantiate"].map((k) => [k, typeof WebAssembly[k]])),
        errorsExtendError: ["CompileError", "LinkError", "RuntimeError"].map((k) => Object.getPrototypeOf(WebAssembly[k].prototype) === Error.prototype),
        errorNames: ["CompileError", "LinkError", "RuntimeError"].map((k) => new WebAssembly[k]("m").name),
        constructorNames: ["Module", "Instance", "Memory", "Table", "Global"].map((k) => WebAssembly[k].name),
        constructorLengths: ["Module", "Instance", "Memory", "Table", "Global"].map((k) => WebAssembly[k].length),
        functionLengths: ["compile", "validate", "instantiate"].map((k) => WebAssembly[k].length),
        moduleStatics: Object.getOwnPropertyNames(WebAssembly.Module).sort(),
        instanceOfNotModule: run(() => new WebAssembly.Instance({})),
        instanceOfNothing: run(() => new WebAssembly.Instance()),
        instanceOfBytes: run(() => new WebAssembly.Instance(SEVEN)),
        moduleNoNew: run(() => WebAssembly.Module(SEVEN)),
        instantiateNothing: await runAsync(() => WebAssembly.instantiate()),
      });
    }
    return new Response("not found", { status: 404 });
  },
};
