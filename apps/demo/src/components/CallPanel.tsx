import { useEffect, useRef } from "react";
import { initials } from "../initials.js";

export interface CallPanelProps {
  /** idle | outgoing | incoming | connecting | connected | ended */
  phase: string;
  /** The RTCPeerConnection's connectionState, exposed as `data-pc-state` for tests and curious users. */
  pcState: string;
  peerName: string;
  media: "audio" | "video";
  localStream: MediaStream | null;
  remoteStream: MediaStream | null;
  endReason: string | null;
  onAccept(): void;
  onReject(): void;
  onEnd(): void;
  onClose(): void;
}

function Video({ stream, className, muted }: { stream: MediaStream | null; className: string; muted?: boolean }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    if (ref.current && ref.current.srcObject !== stream) ref.current.srcObject = stream;
  }, [stream]);
  return <video ref={ref} className={className} autoPlay playsInline muted={muted} />;
}

const PHASE_TEXT: Record<string, string> = {
  outgoing: "Calling…",
  incoming: "is calling you",
  connecting: "Connecting…",
  connected: "Connected",
};

const END_TEXT: Record<string, string> = {
  ended: "Call ended",
  rejected: "Declined",
  busy: "Busy in another call",
  timeout: "No answer",
  missed: "Missed call",
  cancelled: "Cancelled",
  disconnected: "Connection lost",
  answered_elsewhere: "Answered on another device",
  error: "The call failed",
};

/** Ringing, in-call and ended states of a one-to-one call, over the page. */
export function CallPanel(props: CallPanelProps) {
  const { phase, pcState, peerName } = props;
  if (phase === "idle") return null;

  if (phase === "incoming" || phase === "outgoing" || phase === "ended") {
    return (
      <div className="call-overlay">
        <div className="call-card ringing" data-testid="call-panel" data-phase={phase} data-pc-state={pcState}>
          <span className={phase === "ended" ? "avatar" : "avatar pulse"} style={{ width: 64, height: 64, fontSize: "1.2rem" }}>
            {initials(peerName)}
          </span>
          <strong>{peerName}</strong>
          <span className="call-state">
            {phase === "ended" ? (END_TEXT[props.endReason ?? "ended"] ?? props.endReason) : `${props.media === "video" ? "Video call" : "Call"} · ${PHASE_TEXT[phase]}`}
          </span>
          <div className="call-actions">
            {phase === "incoming" && (
              <>
                <button type="button" className="button primary" onClick={props.onAccept} data-testid="call-accept">
                  Accept
                </button>
                <button type="button" className="button danger" onClick={props.onReject} data-testid="call-reject">
                  Decline
                </button>
              </>
            )}
            {phase === "outgoing" && (
              <button type="button" className="button danger" onClick={props.onEnd} data-testid="call-cancel">
                Cancel
              </button>
            )}
            {phase === "ended" && (
              <button type="button" className="button" onClick={props.onClose} data-testid="call-close">
                Close
              </button>
            )}
          </div>
        </div>
      </div>
    );
  }

  return (
    <div className="call-overlay">
      <div className="call-card" data-testid="call-panel" data-phase={phase} data-pc-state={pcState}>
        <div className="call-head">
          <strong>{peerName}</strong>
          <span className="call-state" data-pc-state={pcState}>
            {PHASE_TEXT[phase] ?? phase} · peer connection {pcState}
          </span>
        </div>
        <div className="videos">
          <Video stream={props.remoteStream} className="remote" />
          <Video stream={props.localStream} className="local" muted />
        </div>
        <div className="call-actions">
          <button type="button" className="button danger" onClick={props.onEnd} data-testid="call-end">
            Hang up
          </button>
        </div>
      </div>
    </div>
  );
}
