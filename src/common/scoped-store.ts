import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * An `AsyncLocalStorage` that is switched off whenever no scope is open.
 *
 * While any AsyncLocalStorage is enabled, Node 20 runs a hook on every promise the process
 * creates, in every request; once enabled, one stays enabled for good. The scopes here are units
 * of work (a transaction, its audit trail), and most requests to a board are reads that open
 * none: they should not pay for the writes. So the storage is disabled each time its last open
 * scope ends, and Node drops the promise hooks once no storage is enabled; the next `run`
 * enables it again. Nothing is lost: with no scope open there is no store to read.
 */
export class ScopedStore<T> {
  private readonly storage = new AsyncLocalStorage<T>();
  private open = 0;

  /** The store of the scope this call runs in, if any. */
  get current(): T | undefined {
    return this.storage.getStore();
  }

  /** Runs `work` in a scope whose store is `store`, nested scopes included. */
  async run<R>(store: T, work: () => Promise<R>): Promise<R> {
    this.open += 1;
    try {
      return await this.storage.run(store, work);
    } finally {
      this.open -= 1;
      if (this.open === 0) this.storage.disable();
    }
  }
}
