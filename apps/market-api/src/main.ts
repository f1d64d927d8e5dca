import { Logger } from '@nestjs/common';
import { AppConfig } from './config/app-config.js';
import { createApp } from './app.factory.js';
import { JsonLogger } from './observability/json-logger.js';

const log = new Logger('market-api');
let config: AppConfig;
try {
  config = AppConfig.fromEnv(process.env);
} catch (err) {
  // Fail fast, naming the bad setting (never its value).
  console.error((err as Error).message);
  process.exit(2);
}
// Structured JSON logs with correlation ids (LOG_FORMAT=text for Nest's coloured lines).
const app = await createApp(config, {
  ...(process.env.LOG_FORMAT === 'text' ? {} : { logger: new JsonLogger() }),
});
await app.listen(config.port, config.host);
log.log(`listening on http://${config.host}:${config.port}`);
