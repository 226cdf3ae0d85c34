// DOMException: constructor defaults, legacy codes, and Error inheritance.
export default {
  async fetch() {
    const d = (e) => ({ name: e.name, message: e.message, code: e.code, isError: e instanceof Error, str: String(e) });
    return Response.json({
      plain: d(new DOMException()),
      withMessage: d(new DOMException("something happened")),
      named: d(new DOMException("stopped", "AbortError")),
      notFound: d(new DOMException("m", "NotFoundError")),
      custom: d(new DOMException("m", "MyCustomError")),
      constants: [DOMException.ABORT_ERR, DOMException.INVALID_CHARACTER_ERR, DOMException.DATA_CLONE_ERR, DOMException.TIMEOUT_ERR, DOMException.QUOTA_EXCEEDED_ERR],
      hasStack: typeof new DOMException("s").stack,
      toStringTag: Object.prototype.toString.call(new DOMException()),
    });
  },
};
