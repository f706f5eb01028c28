// The web chat page at `/`: read once at startup; a missing file is reported, and the API still works.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** where the page lives relative to the compiled module (dist/src/serve/page.js → src/web/chat.html) */
export const DEFAULT_CHAT_PAGE = fileURLToPath(new URL('../../../src/web/chat.html', import.meta.url));

export interface Page {
  html: Buffer | null;
  /** why there is no page, for the 404 text */
  problem: string;
}

/** reads the page (false: none); a read failure is logged and leaves html null */
export function loadPage(chatPage: string | false | undefined, log: (l: string) => void): Page {
  if (chatPage === false) return { html: null, problem: 'this server was started without the web chat page' };
  const path = chatPage ?? DEFAULT_CHAT_PAGE;
  try {
    return { html: readFileSync(path), problem: '' };
  } catch (e) {
    const problem = `the web chat page is missing: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the API under /v1 still works`;
    log(problem);
    return { html: null, problem };
  }
}

/** GET or HEAD `/` */
export function servePage(req: IncomingMessage, res: ServerResponse, page: Page): void {
  if (!page.html) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(page.problem + '\n');
    return;
  }
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': page.html.length, 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : page.html);
}
