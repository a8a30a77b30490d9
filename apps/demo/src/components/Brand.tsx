/** The clinic's logo and name. */
export function Brand({ large }: { large?: boolean }) {
  return (
    <div className={large ? "brand brand-large" : "brand"}>
      <span className="brand-mark" aria-hidden="true" />
      Switchboard Clinic
    </div>
  );
}
