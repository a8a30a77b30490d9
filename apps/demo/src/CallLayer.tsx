import { useCall } from "@switchboard/react";
import { CallPanel } from "./components/CallPanel.js";

/**
 * The peer connection's state as far as this page can tell: the SDK reports
 * `connected` exactly when RTCPeerConnection.connectionState turns `connected`.
 */
const PC_STATE: Record<string, string> = { idle: "new", outgoing: "new", incoming: "new", connecting: "connecting", connected: "connected", ended: "closed" };

/** Incoming, outgoing and active calls of this tab (useCall), over the page. */
export function CallLayer({ nameOf }: { nameOf: (userId: string) => string }) {
  const call = useCall();
  const peerId = call.peerId ?? (call.phase === "incoming" ? call.call?.callerId : call.call?.calleeIds[0]);
  return (
    <CallPanel
      phase={call.phase}
      pcState={PC_STATE[call.phase] ?? call.phase}
      peerName={peerId ? nameOf(peerId) : ""}
      media={call.call?.media ?? "video"}
      localStream={call.localStream}
      remoteStream={call.remoteStream}
      endReason={call.endReason}
      onAccept={() => void call.accept().catch(() => {})}
      onReject={() => void call.reject().catch(() => {})}
      onEnd={() => void call.end().catch(() => {})}
      onClose={call.reset}
    />
  );
}
