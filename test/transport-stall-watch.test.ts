import { describe, expect, it } from 'vitest';
import { StallWatch } from '../src/transport/stall-watch.ts';

describe('StallWatch', () => {
  const clock = () => {
    let t = 0;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };

  it('a consumer with unread work and an unmoving tail is stalled after the limit, not before', () => {
    const c = clock();
    const w = new StallWatch(1000, c.now);
    expect(w.stalled(10, 4)).toBe(false);
    c.advance(999);
    expect(w.stalled(12, 4)).toBe(false);
    c.advance(1);
    expect(w.stalled(12, 4)).toBe(true);
    expect(w.stalledForMs()).toBe(1000);
  });

  it('any movement of the tail starts the wait again', () => {
    const c = clock();
    const w = new StallWatch(1000, c.now);
    w.stalled(10, 4);
    c.advance(900);
    expect(w.stalled(10, 5)).toBe(false);
    c.advance(900);
    expect(w.stalled(10, 5)).toBe(false);
    c.advance(100);
    expect(w.stalled(10, 5)).toBe(true);
  });

  it('an idle consumer with nothing to read is never stalled', () => {
    const c = clock();
    const w = new StallWatch(1000, c.now);
    for (let i = 0; i < 10; i++) {
      expect(w.stalled(7, 7)).toBe(false);
      c.advance(10_000);
    }
    // work arrives: the wait starts then, not at the last look
    expect(w.stalled(8, 7)).toBe(false);
    c.advance(999);
    expect(w.stalled(8, 7)).toBe(false);
  });
});
