// rtnetlink multicast notifications (links, addresses) delivered to a callback, received by the
// shared receive worker (src/net/receiver.ts), so the event loop never blocks and nothing polls.
import { watchDatagrams } from "../net/receiver.ts";
import { NETLINK_ROUTE, decodeNlMsgs } from "./message.ts";
import { RTMGRP_IPV4_IFADDR, RTMGRP_IPV6_IFADDR, RTMGRP_LINK, decodeRtnlEvent, type RtnlEvent } from "./rtnetlink.ts";
import { NetlinkSocket } from "./socket.ts";

export interface RtnlSubscription {
  /** Stops delivery at once; resolves when the socket is closed. */
  close(): Promise<void>;
}

export interface SubscribeOptions {
  /** RTMGRP_* bitmask; default links plus IPv4 and IPv6 addresses. */
  groups?: number;
  /**
   * Receive errors. ENOBUFS means the kernel dropped notifications (we were too slow): the state
   * must be re-read with a dump.
   */
  onError?: (err: { code: string; message: string }) => void;
}

export function subscribeRtnlEvents(onEvent: (e: RtnlEvent) => void, opts: SubscribeOptions = {}): RtnlSubscription {
  const sock = NetlinkSocket.open(NETLINK_ROUTE, { groups: opts.groups ?? (RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR) });
  let open = true;
  const reg = watchDatagrams(sock.fd, (datagrams) => {
    for (const d of datagrams) {
      if (!open) return;
      let events: RtnlEvent[];
      try {
        events = decodeNlMsgs(d.data).map(decodeRtnlEvent).filter((e): e is RtnlEvent => e !== null);
      } catch (e) {
        opts.onError?.({ code: "EBADMSG", message: `undecodable rtnetlink notification: ${(e as Error).message}` });
        continue;
      }
      for (const ev of events) onEvent(ev);
    }
  }, { controlSize: 0, onError: opts.onError });
  return {
    close: async () => {
      if (!open) return;
      open = false;
      await reg.unregister();
      sock.close();
    },
  };
}
