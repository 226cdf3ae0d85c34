// A WebSocket echo for the WebSocket benchmark. The same file runs on
// workerd and on Isola.
//   /worker          the worker accepts the socket and echoes
//   /object?room=R   object R accepts it for hibernation and echoes
import { DurableObject } from "cloudflare:workers";

export class Room extends DurableObject {
  fetch() {
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }
  webSocketMessage(ws, message) {
    ws.send(message);
  }
}

export default {
  fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/object") return env.ROOM.getByName(url.searchParams.get("room") ?? "r").fetch(request);
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    server.addEventListener("message", (e) => server.send(e.data));
    return new Response(null, { status: 101, webSocket: client });
  },
};
