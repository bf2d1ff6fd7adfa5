import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Client } from 'pg';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';

/** What a channel's listener is told. */
export interface ChannelHandlers {
  /** A NOTIFY arrived (only committed transactions notify). */
  notified(payload: string): void;
  /**
   * LISTEN is in place, at start or after a lost connection was replaced: notifications sent
   * while it was down are gone, so the listener catches up from its table.
   */
  connected(): void;
}

const MIN_RETRY_MS = 250;
const MAX_RETRY_MS = 15_000;
const CHANNEL_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The replica's one LISTEN connection: a dedicated pg `Client` outside the pool, because a
 * pooled connection is handed to other work and would lose its LISTEN when released. It
 * reconnects with exponential backoff and jitter for as long as the app runs, and says so to
 * each channel's handlers, which read what they missed from the table.
 */
@Injectable()
export class NotificationListener implements OnApplicationShutdown {
  private readonly logger = new Logger('NotificationListener');
  private readonly channels = new Map<string, ChannelHandlers>();
  private client?: Client;
  private connecting = false;
  private retry?: NodeJS.Timeout;
  private failures = 0;
  private stopped = false;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  get listening(): boolean {
    return this.client !== undefined;
  }

  /** Listens on `channel` from now on (connecting first if needed). */
  listen(channel: string, handlers: ChannelHandlers): void {
    if (!CHANNEL_NAME.test(channel)) throw new Error(`not a channel name: ${channel}`);
    this.channels.set(channel, handlers);
    const client = this.client;
    if (client) {
      client.query(`LISTEN ${channel}`).then(
        () => handlers.connected(),
        (error: Error) => this.lost(client, error),
      );
    } else {
      void this.connect();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped || this.client || this.connecting) return;
    this.connecting = true;
    const db = this.config.database;
    const client = new Client({
      connectionString: db.url,
      ssl: db.ssl,
      connectionTimeoutMillis: db.connectTimeoutMs,
      keepAlive: true,
      application_name: 'taskflow-api-listen',
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    client.on('notification', (message) =>
      this.channels.get(message.channel)?.notified(message.payload ?? ''),
    );
    try {
      await client.connect();
      for (const channel of this.channels.keys()) await client.query(`LISTEN ${channel}`);
      if (this.stopped) {
        await client.end();
        return;
      }
      if (this.failures > 0) this.logger.log('LISTEN connection restored');
      this.failures = 0;
      this.client = client;
      for (const handlers of this.channels.values()) handlers.connected();
    } catch (error) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      this.scheduleRetry(error as Error);
    } finally {
      this.connecting = false;
    }
  }

  private lost(client: Client, error?: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.removeAllListeners('end');
    void client.end().catch(() => undefined);
    if (!this.stopped) this.scheduleRetry(error ?? new Error('connection ended'));
  }

  private scheduleRetry(error: Error): void {
    if (this.stopped || this.retry) return;
    const delay = Math.min(MAX_RETRY_MS, MIN_RETRY_MS * 2 ** this.failures);
    if (this.failures === 0) {
      this.logger.warn(`LISTEN connection lost (${error.message}); reconnecting with backoff`);
    }
    this.failures += 1;
    // Jitter spreads the reconnections of many replicas after a database restart.
    this.retry = setTimeout(
      () => {
        this.retry = undefined;
        void this.connect();
      },
      delay / 2 + Math.random() * (delay / 2),
    );
    this.retry.unref();
  }
}
