// gptlab serve: the OpenAI-compatible API and the web chat page over a checkpoint.
import path from 'node:path';
import { helpText, parseArgs, UsageError, type OptTable } from './args.js';
import { BACKEND_OPTS, maybeHelp, refuseRewardModel, setupBackend } from './common.js';
import { loadModelFile } from '../train/model-file.node.js';
import { ChatEngine } from '../generate/chat-engine.js';
import { startServer } from '../serve/server.js';

const OPTS: OptTable = {
  checkpoint: { type: 'string', positional: true, help: 'checkpoint or run folder (e.g. runs/chat)' },
  dequantize: { type: 'bool', help: 'GGUF files: dequantize the weights to float32 at load (faster decoding, more memory)' },
  host: { type: 'string', default: '127.0.0.1', help: 'address to bind (0.0.0.0 exposes the model to your network)' },
  port: { type: 'int', default: 8080, min: 0, max: 65535, help: 'port (0 = any free port)' },
  apiKey: { type: 'string', help: 'require "Authorization: Bearer KEY" on /v1/* (or set GPTLAB_API_KEY)' },
  model: { type: 'string', help: 'model id reported by /v1/models (default: the folder name)' },
  maxBody: { type: 'int', default: 1 << 20, min: 1, max: 1 << 30, help: 'largest request body in bytes' },
  maxQueue: { type: 'int', default: 16, min: 0, help: 'requests waiting behind the running ones before 429' },
  maxBatch: { type: 'int', default: 8, min: 1, max: 256, help: 'requests decoded together (continuous batching; 1 = one at a time)' },
  ...BACKEND_OPTS,
};

export async function serveCommand(argv: string[]): Promise<number> {
  const o = parseArgs(argv, OPTS, 'serve');
  if (maybeHelp(o, () => helpText('serve', 'OpenAI-compatible HTTP API and web chat page', OPTS, 'gptlab serve CHECKPOINT [--port 8080]'))) return 0;
  if (!o.checkpoint) throw new UsageError('serve: give a checkpoint folder (e.g. runs/chat)');
  const port = o.port as number;
  const apiKey = checkServeOptions(o);
  const backend = await setupBackend(o);
  const ck = loadModelFile(o.checkpoint as string, { dequantize: !!o.dequantize });
  refuseRewardModel(ck.model.type, o.checkpoint as string, 'serve');
  for (const n of ck.notes) process.stderr.write(`note: ${n}\n`);
  const id = (o.model as string | undefined) ?? path.basename(path.resolve(o.checkpoint as string));
  const engine = new ChatEngine(ck.model, ck.tokenizer, id, { maxBatch: o.maxBatch as number });
  const server = await startServer({
    engine, host: o.host as string, port, apiKey,
    limits: { maxBodyBytes: o.maxBody as number, maxQueue: o.maxQueue as number },
    log: (l) => process.stderr.write(l + '\n'),
  });
  process.stdout.write(`gptlab serve: model "${id}" (${ck.model.numParameters().toLocaleString('en')} parameters, ${backend}) at ${server.url}\n` +
    `  web chat:  ${server.url}/\n  API:       ${server.url}/v1/chat/completions  (OpenAI-compatible)\n  Ctrl-C to stop\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void server.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}

/**
 * Refuses options that would start a broken or unsafe server, with one line naming the flag (the numeric ranges
 * are in OPTS, checked by parseArgs and shown by --help); returns the
 * API key (--api-key, else a non-empty GPTLAB_API_KEY, else none).
 */
function checkServeOptions(o: Record<string, unknown>): string | undefined {
  if ((o.host as string).trim() === '') throw new UsageError('serve: --host must not be empty (127.0.0.1 is the default)');
  if (o.model !== undefined && (o.model as string).trim() === '') throw new UsageError('serve: --model must not be empty');
  const key = o.apiKey as string | undefined;
  if (key !== undefined && key.trim() === '') throw new UsageError('serve: --api-key must not be empty (leave it out for no key)');
  if (key !== undefined && /\s/.test(key)) throw new UsageError('serve: --api-key must not contain spaces');
  const env = process.env.GPTLAB_API_KEY;
  return key ?? (env && env.trim() ? env.trim() : undefined);
}
