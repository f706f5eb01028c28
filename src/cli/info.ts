// gptlab info: what a checkpoint holds.
import fs from 'node:fs';
import path from 'node:path';
import { helpText, parseArgs, UsageError, type OptTable } from './args.js';
import { maybeHelp } from './common.js';
import { loadCheckpoint, resolveCheckpointDir } from '../train/checkpoint.node.js';

const OPTS: OptTable = {
  checkpoint: { type: 'string', positional: true, help: 'checkpoint folder, run folder or .gguf file' },
  json: { type: 'bool', help: 'print JSON' },
};

export async function infoCommand(argv: string[]): Promise<number> {
  const o = parseArgs(argv, OPTS, 'info');
  if (maybeHelp(o, () => helpText('info', 'summarise a checkpoint', OPTS, 'gptlab info CHECKPOINT [--json]'))) return 0;
  if (!o.checkpoint) throw new UsageError('info: give a checkpoint folder');
  if (fs.existsSync(o.checkpoint as string) && fs.statSync(o.checkpoint as string).isFile()) {
    const { ggufInfoText } = await import('./export.js');
    process.stdout.write(ggufInfoText(o.checkpoint as string) + '\n');
    return 0;
  }
  const dir = resolveCheckpointDir(o.checkpoint as string);
  const ck = loadCheckpoint(dir);
  const c = ck.model.config;
  const files = fs.readdirSync(dir).map((f) => ({ file: f, bytes: fs.statSync(path.join(dir, f)).size }));
  const info = {
    folder: dir, modelType: ck.model.type, model: c, parameters: ck.model.numParameters(), nonEmbeddingParameters: ck.model.numParams(),
    tokenizer: { type: ck.tokenizer.type, vocabSize: ck.tokenizer.vocabSize, special: Object.fromEntries(ck.tokenizer.specialTokens) },
    step: ck.trainerState?.step ?? null, bestDevLoss: ck.trainerState?.bestDevLoss ?? (ck.config.meta?.devLoss as number | undefined) ?? null,
    resumable: !!ck.trainerState, meta: ck.config.meta ?? {}, files,
  };
  if (o.json) {
    process.stdout.write(JSON.stringify(info, null, 2) + '\n');
    return 0;
  }
  const lines = [
    `checkpoint ${dir}`,
    `  model      ${ck.model.describe()}`,
    `  parameters ${info.parameters.toLocaleString('en')} (${info.nonEmbeddingParameters.toLocaleString('en')} as the model counts them)`,
    `  tokenizer  ${ck.tokenizer.type}, ${ck.tokenizer.vocabSize} tokens${ck.tokenizer.specialTokens.size ? `, special ${[...ck.tokenizer.specialTokens.keys()].join(' ')}` : ''}`,
    `  training   ${info.step !== null ? `step ${info.step}, ` : ''}best dev loss ${info.bestDevLoss?.toFixed?.(4) ?? 'n/a'}, ${info.resumable ? 'resumable' : 'weights only'}`,
    `  files      ${files.map((f) => `${f.file} (${(f.bytes / 1024).toFixed(1)} KiB)`).join(', ')}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
