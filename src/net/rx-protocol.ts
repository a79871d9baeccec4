// Messages between the receive worker (src/net/rx-worker.ts) and its owner (src/net/receiver.ts).

export interface RxDatagram {
  data: Uint8Array;
  /** Raw sender sockaddr. */
  from: Uint8Array;
  /** Raw recvmsg control bytes (cmsgs). */
  control: Uint8Array;
  /** recvmsg msg_flags (MSG_TRUNC / MSG_CTRUNC). */
  flags: number;
}

export type ToWorker =
  | { op: "init"; wakeFd: number }
  | { op: "add"; id: number; fd: number; bufferSize: number; controlSize: number }
  | { op: "remove"; id: number }
  | { op: "stop" };

export type FromWorker =
  | { op: "ready" }
  | { op: "datagrams"; id: number; datagrams: RxDatagram[] }
  | { op: "error"; id: number; code: string; message: string }
  | { op: "removed"; id: number }
  | { op: "stopped" };
