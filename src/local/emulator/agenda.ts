/**
 * The time-ordered queue of pending transitions, so that settling costs what is due, not the size of the state.
 *
 * For each settler, a min-heap of (due time, record key). A record is (re)examined with its settler's `dueAt`
 * whenever it changed (the server passes the units the change tracker saw) and once for every record when the
 * agenda is built (start, reset). Entries are never removed from the middle: an entry whose time is no longer the
 * record's scheduled time is skipped when it comes out.
 */
import type { EmulatorState } from './state';
import type { Settler } from './types';
import type { UnitPath } from '../tracking';

interface Entry {
  readonly at: number;
  readonly order: number;
  readonly key: string;
}

const before = (a: Entry, b: Entry) => a.at < b.at || (a.at === b.at && a.order < b.order);

/** A binary min-heap of entries, by due time then insertion order. */
class EntryHeap {
  private readonly entries: Entry[] = [];

  get size(): number {
    return this.entries.length;
  }

  peek(): Entry | undefined {
    return this.entries[0];
  }

  push(entry: Entry): void {
    const entries = this.entries;
    entries.push(entry);
    let index = entries.length - 1;
    while (index > 0) {
      const parent = Math.floor((index - 1) / 2);
      if (!before(entries[index], entries[parent])) {
        break;
      }
      [entries[index], entries[parent]] = [entries[parent], entries[index]];
      index = parent;
    }
  }

  pop(): Entry | undefined {
    const entries = this.entries;
    const top = entries[0];
    const last = entries.pop();
    if (entries.length && last) {
      entries[0] = last;
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        const right = left + 1;
        let smallest = index;
        if (left < entries.length && before(entries[left], entries[smallest])) {
          smallest = left;
        }
        if (right < entries.length && before(entries[right], entries[smallest])) {
          smallest = right;
        }
        if (smallest === index) {
          break;
        }
        [entries[index], entries[smallest]] = [entries[smallest], entries[index]];
        index = smallest;
      }
    }
    return top;
  }
}

class SettlerQueue {
  readonly heap = new EntryHeap();
  /** Each record's scheduled due time; absent when nothing is pending. */
  readonly scheduled = new Map<string, number>();

  constructor(readonly settler: Settler) {}
}

export class Agenda {
  private queues: SettlerQueue[] = [];
  private order = 0;

  constructor(private readonly settlers: readonly Settler[]) {}

  /** Forgets everything and examines every record of the state. */
  rebuild(state: EmulatorState): void {
    this.queues = this.settlers.map(settler => new SettlerQueue(settler));
    for (const queue of this.queues) {
      for (const [key, record] of Object.entries(state[queue.settler.collection])) {
        this.examine(queue, key, record);
      }
    }
  }

  /** Re-examines the records the paths fall in (a whole collection for a path of length 1). */
  noteChanges(state: EmulatorState, paths: readonly UnitPath[]): void {
    for (const path of paths) {
      for (const queue of this.queues) {
        if (path[0] !== queue.settler.collection) {
          continue;
        }
        const collection = state[queue.settler.collection];
        const keys = path.length === 1 ? Object.keys(collection) : [path[1]];
        for (const key of keys) {
          this.examine(queue, key, Object.prototype.hasOwnProperty.call(collection, key) ? collection[key] : undefined);
        }
      }
    }
  }

  /** Takes the keys of the settler's records due at `now`, in due order. */
  takeDue(settler: Settler, now: number): string[] {
    const queue = this.queues.find(q => q.settler === settler);
    const due: string[] = [];
    if (!queue) {
      return due;
    }
    for (let top = queue.heap.peek(); top && top.at <= now; top = queue.heap.peek()) {
      queue.heap.pop();
      if (queue.scheduled.get(top.key) === top.at) {
        queue.scheduled.delete(top.key);
        due.push(top.key);
      }
    }
    return due;
  }

  /** The number of queued entries (stale ones included), for tests. */
  get queuedEntries(): number {
    return this.queues.reduce((total, queue) => total + queue.heap.size, 0);
  }

  private examine(queue: SettlerQueue, key: string, record: unknown): void {
    const at = record === undefined ? undefined : queue.settler.dueAt(record);
    if (at === undefined) {
      queue.scheduled.delete(key);
      return;
    }
    if (queue.scheduled.get(key) !== at) {
      queue.scheduled.set(key, at);
      queue.heap.push({ at, order: this.order++, key });
    }
  }
}
