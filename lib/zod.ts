/**
 * zod/mini with English messages for its built-in checks (it ships none by default). The config
 * and the invoke payloads are validated at every cold start: zod/mini does the same checks as
 * zod's full API in a fraction of the bundle and module init. Import it as a namespace
 * (`import * as z from './zod.js'`) so that the bundler keeps only what is used.
 */
import { config } from 'zod/mini';
import { en } from 'zod/locales';

config(en());

export * from 'zod/mini';
