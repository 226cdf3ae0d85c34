// The dynamic-workflows example's tenant code (../../../../shared/examples/
// dynamic-workflows/worker.js, TENANT_CODE["t-42"]) as a worker of its own,
// its workflow bound statically: the same requests and the same steps with
// no dispatcher, no Worker Loader and no RPC between isolates. The
// benchmark runs it beside the example to show what dispatch costs there.
import { WorkflowEntrypoint } from 'cloudflare:workers';
export class TenantWorkflow extends WorkflowEntrypoint {
  async run(event, step) {
    const greeting = await step.do('greet', async () => 'Hello, ' + event.payload.name + '!');
    await step.sleep('pause', '1 second');
    return step.do('shout', async () => greeting.toUpperCase());
  }
}
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/status') {
      const inst = await env.WORKFLOWS.get(url.searchParams.get('id'));
      return Response.json(await inst.status());
    }
    const instance = await env.WORKFLOWS.create({ params: await request.json() });
    return Response.json({ id: await instance.id });
  },
};
