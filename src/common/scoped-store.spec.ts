import { ScopedStore } from './scoped-store';

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Node's own flag on the AsyncLocalStorage inside: whether it (and its promise hook) is on. */
const enabled = (store: ScopedStore<unknown>) =>
  (store as unknown as { storage: { enabled: boolean } }).storage.enabled;

describe('ScopedStore', () => {
  it('gives each concurrent scope its own store, nested scopes theirs, and none outside', async () => {
    const store = new ScopedStore<string>();
    expect(store.current).toBeUndefined();
    const seen: (string | undefined)[] = [];
    const scope = (name: string) =>
      store.run(name, async () => {
        await tick();
        seen.push(store.current);
        await store.run(`${name}/inner`, async () => {
          await tick();
          seen.push(store.current);
        });
        await tick();
        seen.push(store.current);
      });
    await Promise.all([scope('a'), scope('b')]);
    expect(seen.sort()).toEqual(['a', 'a', 'a/inner', 'b', 'b', 'b/inner']);
    expect(store.current).toBeUndefined();
  });

  it('is switched off once its last scope ends, and on again by the next one', async () => {
    const store = new ScopedStore<number>();
    let release!: () => void;
    const first = store.run(1, () => new Promise<void>((resolve) => (release = resolve)));
    const second = store.run(2, async () => {
      await tick();
      return store.current;
    });
    expect(await second).toBe(2);
    expect(enabled(store)).toBe(true); // the first scope is still open
    release();
    await first;
    expect(enabled(store)).toBe(false);
    expect(await store.run(3, () => Promise.resolve(store.current))).toBe(3);
    expect(enabled(store)).toBe(false);
  });

  it('closes its scope when the work throws', async () => {
    const store = new ScopedStore<number>();
    await expect(store.run(1, () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(enabled(store)).toBe(false);
    expect(store.current).toBeUndefined();
  });
});
