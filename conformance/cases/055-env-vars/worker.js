// env carries wrangler.jsonc vars: strings as strings, everything else as
// parsed JSON.
export default {
  async fetch(request, env) {
    return Response.json({
      keys: Object.keys(env).sort(),
      text: env.TEXT_VAR,
      textType: typeof env.TEXT_VAR,
      number: env.NUMBER_VAR,
      numberType: typeof env.NUMBER_VAR,
      bool: env.BOOL_VAR,
      object: env.OBJECT_VAR,
      array: env.ARRAY_VAR,
      unicode: env.UNICODE_VAR,
      quoted: env.QUOTED_VAR,
      missing: env.NOT_DEFINED === undefined,
    });
  },
};
