// Hand-written TCP and HTTP servers on 127.0.0.1 for the checker tests, and a port nobody listens on;
// closeAll() ends them and every connection they accepted.
import net from "node:net";

export interface LoopbackServers {
  /** A server calling `onConn` with each accepted socket; resolves with its port. */
  tcpServer(onConn: (s: net.Socket) => void, host?: string): Promise<number>;
  /** A tiny HTTP server answering every request (after its head has arrived) with `respond`. */
  httpServer(respond: (s: net.Socket, request: string) => void): Promise<number>;
  /** A port that was just free: connecting to it is refused. */
  closedPort(): Promise<number>;
  closeAll(): void;
}

export function loopbackServers(): LoopbackServers {
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  const tcpServer = (onConn: (s: net.Socket) => void, host = "127.0.0.1"): Promise<number> => new Promise((resolve) => {
    const srv = net.createServer((s) => { sockets.add(s); s.on("error", () => {}); s.on("close", () => sockets.delete(s)); onConn(s); });
    srv.listen(0, host, () => resolve((srv.address() as net.AddressInfo).port));
    servers.push(srv);
  });
  return {
    tcpServer,
    httpServer: (respond) => tcpServer((s) => {
      let req = "";
      s.on("data", (d) => { req += d.toString("latin1"); if (req.includes("\r\n\r\n")) respond(s, req); });
    }),
    async closedPort() {
      const srv = net.createServer();
      await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
      const port = (srv.address() as net.AddressInfo).port;
      await new Promise((r) => srv.close(r));
      return port;
    },
    closeAll() {
      for (const s of sockets) s.destroy();
      for (const s of servers) s.close();
    },
  };
}
