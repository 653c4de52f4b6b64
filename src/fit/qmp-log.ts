/**
 * Read a log of polled QMP replies (what libvirt, KubeVirt or a script polling `query-migrate` keeps)
 * into a list of polls in time order. Pure: text in, a frozen value out, or one MigbenchError
 * (E_SCENARIO, exit 2) whose one-line message names the line (JSON lines) or the entry (a JSON array).
 *
 * Accepted forms, one record per line or one per array entry:
 * - a QMP reply `{"return": …}` (libvirt's `qemu-monitor-command` prints exactly this, with an `"id"`),
 *   optionally with `"execute"` naming the command and a `poll_s` (seconds after `migrate`) or a
 *   `timestamp` (seconds, or QMP's `{seconds, microseconds}`) beside it;
 * - a bare `query-migrate` object (has `status`), a bare `query-migrate-parameters` object (has
 *   `downtime-limit` or `max-bandwidth`), a bare `query-migrate-capabilities` array;
 * - or, instead of one per line, pretty-printed over many lines and back to back (libvirt's
 *   `virsh qemu-monitor-command --pretty` in a polling loop): messages name the line a reply starts on.
 * A `setup` reply with no time (QEMU gives no total-time before the migration is active) is at 0 ms.
 * Elapsed time of a poll: `total-time` (QEMU's own, ms) when there, else `poll_s`, else the timestamp
 * relative to the first one.
 *
 * Refused: text that is not JSON or not QMP, an `{"error": …}` reply, no `query-migrate` reply, time
 * going backwards, two migrations in one log (a second `setup`, another guest size, counters going
 * down, a poll after the end). Bounded: at most MAX_QMP_LOG_BYTES of text, MAX_QMP_RECORDS records,
 * each nested at most MAX_JSON_DEPTH levels.
 */
import { MigbenchError } from '../errors.ts';
import { MAX_JSON_DEPTH, nestedDeeperThan } from '../json-depth.ts';
import { splitConcatenatedJson } from './concatenated-json.ts';

/** 64 MiB: a poll every 100 ms for a day is about 700 MB of full replies; logs users hold are far smaller. */
export const MAX_QMP_LOG_BYTES = 64 * 2 ** 20;
/** Records (lines or entries) at most: a poll every 100 ms for 2 days. */
export const MAX_QMP_RECORDS = 2_000_000;

/** The `ram` block of a `query-migrate` reply (QEMU's names; absent figures are null). */
export interface QmpRam {
  readonly total: number;
  readonly remaining: number;
  readonly transferred: number;
  readonly duplicate: number;
  readonly normal: number;
  readonly normalBytes: number;
  readonly pageSize: number;
  readonly dirtySyncCount: number;
  readonly dirtyPagesRate: number | null;
  readonly mbps: number | null;
  readonly downtimeBytes: number | null;
}

export interface QmpXbzrle {
  readonly cacheSize: number | null;
  readonly bytes: number;
  readonly pages: number;
  readonly cacheMiss: number;
  readonly overflow: number;
}

export interface QmpPoll {
  /** 1-based line (JSON lines) or entry (JSON array) of the record */
  readonly line: number;
  /** ms after `migrate` was issued */
  readonly elapsedMs: number;
  readonly status: string;
  readonly totalTimeMs: number | null;
  readonly downtimeMs: number | null;
  readonly setupTimeMs: number | null;
  readonly expectedDowntimeMs: number | null;
  readonly ram: QmpRam | null;
  readonly xbzrle: QmpXbzrle | null;
}

export interface QmpLog {
  /** 'line' for JSON lines, 'entry' for a JSON array (what error messages and evidence cite) */
  readonly unit: 'line' | 'entry';
  /** the `query-migrate-parameters` reply, when the log has one */
  readonly parameters: Readonly<Record<string, unknown>> | null;
  /** `query-migrate-capabilities`: capability → state, when the log has one */
  readonly capabilities: Readonly<Record<string, boolean>> | null;
  readonly polls: readonly QmpPoll[];
}

const FINAL = new Set(['completed', 'failed', 'cancelled']);
const STATUSES = new Set([
  'none', 'setup', 'cancelling', 'cancelled', 'active', 'postcopy-active', 'postcopy-paused', 'postcopy-recover-setup', 'postcopy-recover',
  'completed', 'failed', 'colo', 'pre-switchover', 'device', 'wait-unplug',
]);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function show(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

class Reader {
  parameters: Obj | null = null;
  capabilities: Record<string, boolean> | null = null;
  polls: QmpPoll[] = [];
  firstStamp: number | null = null;
  constructor(readonly unit: 'line' | 'entry') {}

  fail(line: number, what: string): never {
    throw new MigbenchError('E_SCENARIO', `QMP log ${this.unit} ${line}: ${what}`);
  }

  count(line: number, o: Obj, key: string, required: boolean): number | null {
    const v = o[key];
    if (v === undefined || v === null) {
      if (required) this.fail(line, `query-migrate reply without "${key}"`);
      return null;
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) this.fail(line, `"${key}" must be a number ≥ 0, got ${show(v)}`);
    return v;
  }

  record(line: number, value: unknown): void {
    if (nestedDeeperThan(value, MAX_JSON_DEPTH)) this.fail(line, `nested more than ${MAX_JSON_DEPTH} levels deep (a QMP reply nests a few)`);
    let payload: unknown = value;
    let wrapper: Obj | null = null;
    if (isObj(value) && 'error' in value) this.fail(line, `a QMP error reply: ${show(value.error)}`);
    if (isObj(value) && 'return' in value) {
      wrapper = value;
      payload = value.return;
    }
    const execute = wrapper && typeof wrapper.execute === 'string' ? wrapper.execute : null;
    if (Array.isArray(payload) && (execute === 'query-migrate-capabilities' || (execute === null && payload.length > 0 && payload.every((c) => isObj(c) && 'capability' in c)))) {
      this.readCapabilities(line, payload);
      return;
    }
    if (!isObj(payload)) this.fail(line, `not a QMP reply (expected {"return": …} or a query-migrate object), got ${show(value)}`);
    if (execute === 'query-migrate-parameters' || (execute === null && ('downtime-limit' in payload || 'max-bandwidth' in payload) && !('status' in payload))) {
      if (this.polls.length > 0) this.fail(line, 'query-migrate-parameters after the first query-migrate reply (two migrations mixed?)');
      this.parameters = payload;
      return;
    }
    if (execute !== null && execute !== 'query-migrate') this.fail(line, `not a query-migrate reply: execute ${show(execute)}`);
    if (!('status' in payload)) this.fail(line, `not a query-migrate reply (no "status"), got ${show(payload)}`);
    this.readPoll(line, payload, wrapper ?? payload);
  }

  readCapabilities(line: number, list: unknown[]): void {
    const caps: Record<string, boolean> = {};
    for (const c of list) {
      if (!isObj(c) || typeof c.capability !== 'string' || typeof c.state !== 'boolean') this.fail(line, `capability must be {"capability": name, "state": true|false}, got ${show(c)}`);
      caps[c.capability] = c.state;
    }
    if (this.polls.length > 0) this.fail(line, 'query-migrate-capabilities after the first query-migrate reply (two migrations mixed?)');
    this.capabilities = caps;
  }

  stampMs(line: number, holder: Obj): number | null {
    const poll = holder.poll_s;
    if (poll !== undefined) {
      if (typeof poll !== 'number' || !Number.isFinite(poll) || poll < 0) this.fail(line, `"poll_s" must be seconds ≥ 0, got ${show(poll)}`);
      return poll * 1000;
    }
    const ts = holder.timestamp;
    if (ts === undefined) return null;
    let seconds: number;
    if (typeof ts === 'number' && Number.isFinite(ts) && ts >= 0) seconds = ts;
    else if (isObj(ts) && typeof ts.seconds === 'number' && typeof ts.microseconds === 'number' && Number.isFinite(ts.seconds) && Number.isFinite(ts.microseconds) && ts.seconds >= 0 && ts.microseconds >= 0) {
      seconds = ts.seconds + ts.microseconds / 1e6;
    } else this.fail(line, `"timestamp" must be seconds or {"seconds", "microseconds"}, got ${show(ts)}`);
    this.firstStamp ??= seconds;
    return (seconds - this.firstStamp) * 1000;
  }

  readPoll(line: number, p: Obj, holder: Obj): void {
    const status = p.status;
    if (typeof status !== 'string' || !STATUSES.has(status)) this.fail(line, `"status" is not a migration status, got ${show(status)}`);
    const totalTimeMs = this.count(line, p, 'total-time', false);
    const stamp = this.stampMs(line, holder === p ? p : holder);
    // QEMU gives no total-time before the migration is active: a setup reply without a time of its own is at 0 ms
    const elapsedMs = totalTimeMs ?? stamp ?? (status === 'setup' ? (this.polls.at(-1)?.elapsedMs ?? 0) : null);
    if (elapsedMs === null) this.fail(line, 'no elapsed time: neither "total-time" nor a "poll_s" or "timestamp" field');
    let ram: QmpRam | null = null;
    if (p.ram !== undefined) {
      if (!isObj(p.ram)) this.fail(line, `"ram" must be an object, got ${show(p.ram)}`);
      const r = p.ram;
      const pageSize = this.count(line, r, 'page-size', false) ?? 4096;
      const normal = this.count(line, r, 'normal', true)!;
      ram = {
        total: this.count(line, r, 'total', true)!,
        remaining: this.count(line, r, 'remaining', true)!,
        transferred: this.count(line, r, 'transferred', true)!,
        duplicate: this.count(line, r, 'duplicate', true)!,
        normal,
        normalBytes: this.count(line, r, 'normal-bytes', false) ?? normal * pageSize,
        pageSize,
        dirtySyncCount: this.count(line, r, 'dirty-sync-count', true)!,
        dirtyPagesRate: this.count(line, r, 'dirty-pages-rate', false),
        mbps: this.count(line, r, 'mbps', false),
        downtimeBytes: this.count(line, r, 'downtime-bytes', false),
      };
      if (ram.pageSize === 0 || (ram.pageSize & (ram.pageSize - 1)) !== 0) this.fail(line, `"page-size" must be a power of two, got ${show(ram.pageSize)}`);
    }
    let xbzrle: QmpXbzrle | null = null;
    const x = p['xbzrle-cache'];
    if (x !== undefined) {
      if (!isObj(x)) this.fail(line, `"xbzrle-cache" must be an object, got ${show(x)}`);
      xbzrle = {
        cacheSize: this.count(line, x, 'cache-size', false),
        bytes: this.count(line, x, 'bytes', false) ?? 0,
        pages: this.count(line, x, 'pages', false) ?? 0,
        cacheMiss: this.count(line, x, 'cache-miss', false) ?? 0,
        overflow: this.count(line, x, 'overflow', false) ?? 0,
      };
    }
    const poll: QmpPoll = {
      line,
      elapsedMs,
      status,
      totalTimeMs,
      downtimeMs: this.count(line, p, 'downtime', false),
      setupTimeMs: this.count(line, p, 'setup-time', false),
      expectedDowntimeMs: this.count(line, p, 'expected-downtime', false),
      ram,
      xbzrle,
    };
    this.checkOrder(poll);
    this.polls.push(poll);
  }

  /** One migration, forwards in time. */
  checkOrder(p: QmpPoll): void {
    const prev = this.polls.at(-1);
    if (prev === undefined) return;
    if (FINAL.has(prev.status)) this.fail(p.line, `a poll after the migration ended ("${prev.status}" at ${this.unit} ${prev.line}): two migrations mixed`);
    if (p.status === 'setup' && prev.status !== 'setup') this.fail(p.line, `"setup" after "${prev.status}" at ${this.unit} ${prev.line}: two migrations mixed`);
    if (p.elapsedMs < prev.elapsedMs) this.fail(p.line, `time goes backwards: ${p.elapsedMs} ms after ${prev.elapsedMs} ms at ${this.unit} ${prev.line}`);
    const a = this.polls.findLast((q) => q.ram !== null)?.ram;
    const b = p.ram;
    if (a && b) {
      if (a.total !== b.total) this.fail(p.line, `ram.total ${b.total} differs from ${a.total} before: two migrations mixed`);
      if (a.pageSize !== b.pageSize) this.fail(p.line, `ram.page-size ${b.pageSize} differs from ${a.pageSize} before: two migrations mixed`);
      for (const [key, before, now] of [
        ['transferred', a.transferred, b.transferred],
        ['dirty-sync-count', a.dirtySyncCount, b.dirtySyncCount],
        ['duplicate', a.duplicate, b.duplicate],
        ['normal', a.normal, b.normal],
      ] as const) {
        if (now < before) this.fail(p.line, `ram.${key} goes down from ${before} to ${now}: two migrations mixed`);
      }
    }
  }
}

/** Pretty-printed replies: the first line that is not blank opens an object and is not JSON alone ("{"). */
function isPretty(body: string): boolean {
  const first = body.split('\n', 50).find((l) => l.trim() !== '')?.trim() ?? '';
  if (!first.startsWith('{')) return false;
  try {
    JSON.parse(first);
    return false;
  } catch {
    return true;
  }
}

/** Parse a QMP log's text. */
export function readQmpLog(text: string): QmpLog {
  // a UTF-16 code unit is at least one byte of the file: a cheap bound before anything is parsed
  if (text.length > MAX_QMP_LOG_BYTES) throw new MigbenchError('E_SCENARIO', `QMP log: larger than ${MAX_QMP_LOG_BYTES / 2 ** 20} MiB (a log of polls is far smaller)`);
  const body = text.replace(/^\uFEFF/, '');
  const trimmed = body.trimStart();
  let reader: Reader;
  if (trimmed.startsWith('[')) {
    reader = new Reader('entry');
    let all: unknown;
    try {
      all = JSON.parse(body);
    } catch (e) {
      throw new MigbenchError('E_SCENARIO', `QMP log: a JSON array that does not parse (${show((e as Error).message)})`);
    }
    if (!Array.isArray(all)) throw new MigbenchError('E_SCENARIO', 'QMP log: expected JSON lines or a JSON array of QMP replies');
    // a capabilities reply alone is an array of {capability, state}: that is one record, not a log
    if (all.length > 0 && all.every((c) => isObj(c) && 'capability' in c)) all = [all];
    if ((all as unknown[]).length > MAX_QMP_RECORDS) throw new MigbenchError('E_SCENARIO', `QMP log: more than ${MAX_QMP_RECORDS} entries`);
    (all as unknown[]).forEach((v, i) => reader.record(i + 1, v));
  } else if (isPretty(body)) {
    // libvirt's `virsh qemu-monitor-command --pretty`: pretty-printed replies back to back
    reader = new Reader('line');
    const split = splitConcatenatedJson(body, MAX_QMP_RECORDS);
    if ('tooMany' in split) throw new MigbenchError('E_SCENARIO', `QMP log: more than ${MAX_QMP_RECORDS} replies`);
    if ('junk' in split) reader.fail(split.junk.line, `not JSON between pretty-printed replies: ${show(split.junk.text)}`);
    if ('unterminated' in split) reader.fail(split.unterminated.line, 'a pretty-printed reply that does not end');
    for (const chunk of split.chunks) {
      let v: unknown;
      try {
        v = JSON.parse(chunk.text);
      } catch (e) {
        reader.fail(chunk.line, `a pretty-printed reply that is not JSON (${show((e as Error).message)})`);
      }
      reader.record(chunk.line, v);
    }
  } else {
    reader = new Reader('line');
    const lines = body.split('\n');
    if (lines.length > MAX_QMP_RECORDS) throw new MigbenchError('E_SCENARIO', `QMP log: more than ${MAX_QMP_RECORDS} lines`);
    lines.forEach((raw, i) => {
      const s = raw.trim();
      if (s === '') return;
      let v: unknown;
      try {
        v = JSON.parse(s);
      } catch {
        reader.fail(i + 1, `not JSON: ${show(s)}`);
      }
      reader.record(i + 1, v);
    });
  }
  if (reader.polls.length === 0) throw new MigbenchError('E_SCENARIO', 'QMP log: no query-migrate reply (a log of a migration holds one per poll)');
  if (!reader.polls.some((p) => p.ram !== null)) throw new MigbenchError('E_SCENARIO', `QMP log ${reader.unit} ${reader.polls.at(-1)!.line}: no query-migrate reply with "ram" figures (the migration never started sending)`);
  return Object.freeze({ unit: reader.unit, parameters: reader.parameters, capabilities: reader.capabilities, polls: Object.freeze(reader.polls) });
}
