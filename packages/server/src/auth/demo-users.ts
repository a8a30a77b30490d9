import type { DemoUser } from "@switchboard/protocol";

/**
 * The people of the demo clinic (tenant `demo`). Tokens for them are signed only
 * by a server running on its generated development secret (`POST /dev/token`).
 */
export const DEMO_USERS: readonly DemoUser[] = [
  { userId: "dr-ada", name: "Dr. Ada Okafor", roles: ["provider"] },
  { userId: "sam", name: "Sam Rivera", roles: ["patient"] },
  { userId: "mia", name: "Mia Chen", roles: ["patient"] },
  { userId: "lee", name: "Lee Morgan", roles: ["support"] },
];
