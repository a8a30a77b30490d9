import type { ChildProcess } from "node:child_process";

/** Sends a command to a worker process and resolves with its reply of type `expect` (rejects on its `error`). */
export function ask<T>(worker: ChildProcess, message: object, expect: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: any) => {
      if (reply.type === "error") reject(new Error(reply.message));
      else if (reply.type === expect) {
        worker.off("message", onMessage);
        resolve(reply as T);
      }
    };
    worker.on("message", onMessage);
    worker.send(message);
  });
}
