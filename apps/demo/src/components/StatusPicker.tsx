import type { ChosenStatus, Mood } from "@switchboard/protocol";

const MOODS: Mood[] = [
  { value: 5, label: "great" },
  { value: 4, label: "good" },
  { value: 3, label: "okay" },
  { value: 2, label: "low" },
  { value: 1, label: "struggling" },
];
/** "Mood: good (4/5)" for a mood, empty without one. Plain text: not every system has emoji fonts. */
export function moodText(mood: Mood | undefined): string {
  return mood ? `Mood: ${mood.label} (${mood.value}/5)` : "";
}

/** The signed-in user's own status and mood (presence:setStatus). */
export function StatusPicker({ status, mood, onChange }: { status: ChosenStatus; mood?: Mood; onChange: (status: ChosenStatus, mood?: Mood) => void }) {
  return (
    <>
      <select className="status-select" aria-label="My status" value={status} onChange={(e) => onChange(e.target.value as ChosenStatus, mood)} data-testid="status-select">
        <option value="online">Available</option>
        <option value="busy">Busy</option>
        <option value="away">Away</option>
        <option value="offline">Appear offline</option>
      </select>
      <select
        className="status-select"
        aria-label="My mood"
        value={mood?.value ?? ""}
        onChange={(e) => onChange(status, MOODS.find((m) => String(m.value) === e.target.value))}
        data-testid="mood-select"
      >
        <option value="">Mood…</option>
        {MOODS.map((m) => (
          <option key={m.value} value={m.value}>
            {m.label} ({m.value}/5)
          </option>
        ))}
      </select>
    </>
  );
}
