import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The request/response pair of a poll another process received for a connection held here: the poll is answered
 * exactly as a local one, and the answer (status and body) travels back to the process that holds the real response.
 * `abort()` (the client went away there) closes it as a client would, so no frames are taken for nobody.
 */
export class ForwardedResponse extends EventEmitter {
  headersSent = false;
  writableEnded = false;
  destroyed = false;
  private status = 200;

  constructor(private readonly onAnswer: (status: number, body: string) => void) {
    super();
  }

  /** A request with no headers of its own: CORS headers are the receiving process's business. */
  static request(): IncomingMessage {
    return { headers: {}, url: '/' } as unknown as IncomingMessage;
  }

  asResponse(): ServerResponse {
    return this as unknown as ServerResponse;
  }

  writeHead(status: number): this {
    this.status = status;
    this.headersSent = true;
    return this;
  }

  end(body?: string): this {
    if (this.writableEnded || this.destroyed) return this;
    this.writableEnded = true;
    this.onAnswer(this.status, body ?? '');
    this.emit('close');
    return this;
  }

  abort(): void {
    if (this.writableEnded || this.destroyed) return;
    this.destroyed = true;
    this.emit('close');
  }
}
