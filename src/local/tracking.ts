/**
 * Tells which parts of the state a request changed, so that persistence writes only those (a journal entry per
 * request) and a request whose changes can't be saved is undone.
 *
 * The state is divided into units: one record of a collection (`['environments', 'prod']`), one S3 object
 * (`['s3', bucket, 'objects', key]`), the account settings. Handlers work on a proxy of the state whose writes
 * (set, delete, define, at any depth) mark the unit they fall in, keeping the unit's JSON as it was before the
 * first change. Reads through the proxy return proxies of the same objects (one per object, so identity holds);
 * values written are stored unwrapped, so the state itself never holds a proxy.
 */
import type { EmulatorState } from './emulator/state';

export type UnitPath = readonly string[];

/** The unit a path falls in (see the file comment). */
export function unitOf(path: UnitPath): UnitPath {
  if (path[0] === 'accountSettings') {
    return path.slice(0, 1);
  }
  if (path[0] === 's3' && path.length >= 4 && path[2] === 'objects') {
    return path.slice(0, 4);
  }
  return path.slice(0, Math.min(path.length, 2));
}

/** True when every object below the path belongs to the path's unit (no deeper unit can start there). */
function insideUnit(path: UnitPath): boolean {
  if (path[0] === 's3') {
    return path.length >= 4 || (path.length === 3 && path[2] !== 'objects');
  }
  return path.length >= unitOf(path).length && (path[0] === 'accountSettings' || path.length >= 2);
}

export function valueAt(root: unknown, path: UnitPath): unknown {
  let value: any = root;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(value, key)) {
      return undefined;
    }
    value = value[key];
  }
  return value;
}

export interface UnitChange {
  readonly path: UnitPath;
  /** The unit's JSON before the request changed it; undefined when it did not exist. */
  readonly before: string | undefined;
}

function isPlainContainer(value: object): boolean {
  if (Array.isArray(value)) {
    return true;
  }
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

export class ChangeTracker {
  private readonly proxies = new WeakMap<object, object>();
  private readonly targets = new WeakMap<object, object>();
  private readonly changed = new Map<string, UnitChange>();

  /** @param root the current state (reset replaces it) */
  constructor(private readonly root: () => EmulatorState) {}

  /** The state, with writes tracked. */
  tracked(): EmulatorState {
    return this.wrap(this.root(), []) as EmulatorState;
  }

  get hasChanges(): boolean {
    return this.changed.size > 0;
  }

  /** The paths of the units changed since the last takeChanges. */
  changedPaths(): UnitPath[] {
    return [...this.changed.values()].map(change => change.path);
  }

  /** The units changed since the last call, forgetting them. */
  takeChanges(): UnitChange[] {
    const changes = [...this.changed.values()];
    this.changed.clear();
    return changes;
  }

  private mark(unit: UnitPath): void {
    const id = unit.join('\u0000');
    if (!this.changed.has(id)) {
      const before = valueAt(this.root(), unit);
      this.changed.set(id, { path: unit, before: before === undefined ? undefined : JSON.stringify(before) });
    }
  }

  /** The value with every proxy in it replaced by its object (values written are fresh objects, walked once). */
  private unwrap(value: unknown): unknown {
    if (value === null || typeof value !== 'object') {
      return value;
    }
    const target = this.targets.get(value);
    if (target) {
      return target;
    }
    if (isPlainContainer(value)) {
      for (const key of Object.keys(value)) {
        const member = (value as any)[key];
        const unwrapped = this.unwrap(member);
        if (unwrapped !== member) {
          (value as any)[key] = unwrapped;
        }
      }
    }
    return value;
  }

  private wrap(target: object, path: UnitPath): object {
    const existing = this.proxies.get(target);
    if (existing) {
      return existing;
    }
    const settled = insideUnit(path);
    const unitOfKey = (key: string | symbol): UnitPath => settled ? unitOf(path) : unitOf([...path, String(key)]);
    const proxy = new Proxy(target, {
      get: (t, key) => {
        const value = Reflect.get(t, key);
        if (typeof key !== 'string' || value === null || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(t, key)) {
          return value;
        }
        return this.wrap(value, settled ? path : [...path, key]);
      },
      set: (t, key, value) => {
        this.mark(unitOfKey(key));
        return Reflect.set(t, key, this.unwrap(value));
      },
      deleteProperty: (t, key) => {
        if (Object.prototype.hasOwnProperty.call(t, key)) {
          this.mark(unitOfKey(key));
        }
        return Reflect.deleteProperty(t, key);
      },
      defineProperty: (t, key, descriptor) => {
        this.mark(unitOfKey(key));
        return Reflect.defineProperty(t, key, 'value' in descriptor ? { ...descriptor, value: this.unwrap(descriptor.value) } : descriptor);
      },
    });
    this.proxies.set(target, proxy);
    this.targets.set(proxy, target);
    return proxy;
  }
}
