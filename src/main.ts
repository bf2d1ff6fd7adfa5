import 'reflect-metadata';
import { createApp } from './app.factory';
import { ConfigError, loadConfig } from './config/config';
import { installGracefulShutdown } from './graceful-shutdown';

/** Production entry point: serve the API (migrations are a separate deploy step). */
async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config);
  installGracefulShutdown(app, config.shutdownTimeoutMs);
  await app.listen({ port: config.port, host: config.host });
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error('TaskFlow API failed to start:', error);
  }
  process.exit(1);
});
