/**
 * {@link logPauses} for a server under test, loaded before its own code:
 *
 *   cd bench && BENCH_DEBUG=1 BENCH_SERVER_LOG=/tmp/server.log \
 *     BENCH_NODE_ARGS="--import tsx --import ./lib/pause-log-server.ts" node --import tsx chat.ts --quick --db postgres
 *
 * The server's pauses land in the BENCH_SERVER_LOG file, the load generators'
 * and the slow-delivery timeline on the harness's stderr.
 */
import { logPauses } from "./pause-log.js";

logPauses("server");
