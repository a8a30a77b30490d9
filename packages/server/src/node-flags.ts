/**
 * Node flags every Switchboard server process runs with: `npm start`, the
 * CLI's `#!` line and `switchboard start --cluster`'s nodes pass them (a test
 * keeps those in step with this list); a process launched another way should
 * pass them too.
 *
 * `--no-page-promotion` turns off V8's "promote pages based on utilization":
 * moving a mostly-live young-generation page to the old generation whole,
 * instead of copying its survivors. Measured at 1,000 subscribers and 30
 * publishes/s (BENCHMARKS.md, session 19): without it, 5 of 6 runs put
 * 7-15 MB/s into the old generation, paused 4.5-8.6 ms per scavenge and ran a
 * full collection every 3-6 s; with it, 6 of 6 runs put 0.05-0.13 MB/s there,
 * paused 1.6-2.1 ms and ran none in the 12 s measured. The likely reason
 * (not traced in V8 itself): a large room's broadcast allocates each socket's
 * packet and write objects densely and keeps them until its writes complete,
 * so a collection in mid-broadcast sees whole pages live, promotes them, and
 * the objects die in the old generation right after.
 * Set after start (`v8.setFlagsFromString`) it did not hold in 1 of 2 runs,
 * so it is passed on the command line.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ["--no-page-promotion"];
