// The outbox ("queue:<email>" in localStorage): dossiers and files waiting for the connection.
import { readJson, writeJson } from "../lib/storage.js";
import { QUEUE_KEY } from "./context.js";

export function readQueue() { return readJson(QUEUE_KEY) || []; }
export function writeQueue(queue) { writeJson(QUEUE_KEY, queue); }
export function removeFromQueue(key) { writeQueue(readQueue().filter((q) => q.key !== key)); }
export function updateItem(item) {
  const queue = readQueue();
  const i = queue.findIndex((q) => q.key === item.key);
  if (i >= 0) { queue[i] = item; writeQueue(queue); }
}
export function upsertItem(item) {
  const queue = readQueue();
  const i = queue.findIndex((q) => q.key === item.key);
  if (i >= 0) queue[i] = item; else queue.push(item);
  writeQueue(queue);
}
// Items with something still to do: not registered yet, or files not on the server.
export const waitingCount = (queue) => queue.filter((q) => !q.number || q.files.some((f) => f.state !== "done")).length;
