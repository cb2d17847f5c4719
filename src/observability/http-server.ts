import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { RelayError, errorMessage } from '../errors';
import type { LivenessReport, ReadinessReport } from './health';

export interface HttpServerOptions {
  readonly host: string;
  /** 0 disables the server (no port is opened). */
  readonly port: number;
}

export interface HealthAnswers {
  liveness(): LivenessReport;
  readiness(): ReadinessReport;
}

/**
 * The operations endpoints, on node:http:
 * - GET /metrics: the registry's text exposition (content type from the registry);
 * - GET /healthz: liveness, 200 or 503 with a JSON reason;
 * - GET /readyz: readiness, 200 or 503 with a JSON body naming what is down.
 * Answers come from state kept up to date elsewhere (observer, periodic checks): no request
 * touches PostgreSQL or Kafka.
 */
export class HttpServer {
  private server: Server | undefined;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly options: HttpServerOptions,
    private readonly registry: Registry,
    private readonly health: HealthAnswers,
    private readonly logger: Logger,
  ) {}

  get enabled(): boolean {
    return this.options.port !== 0;
  }

  /** The bound port once listening (undefined when disabled or not started). */
  get port(): number | undefined {
    const address = this.server?.address();
    return address !== null && typeof address === 'object' ? (address as AddressInfo).port : undefined;
  }

  /** Listens; rejects with CONFIG_INVALID when the address cannot be bound. Idempotent. */
  start(): Promise<void> {
    this.starting ??= this.listen();
    return this.starting;
  }

  /** Closes the listener and every open connection (keep-alive scrapers). Idempotent, safe before start. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.starting?.catch(() => undefined);
      const server = this.server;
      if (server === undefined) return;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    })();
    return this.stopping;
  }

  private async listen(): Promise<void> {
    if (!this.enabled) {
      this.logger.info('HTTP server disabled (http.port = 0): no /metrics, /healthz or /readyz');
      return;
    }
    if (this.stopping !== undefined) return;
    const server = createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        reject(
          new RelayError('CONFIG_INVALID', `cannot listen on ${this.options.host}:${this.options.port} (HTTP_HOST/HTTP_PORT): ${err.message}`, {
            cause: err,
            context: { host: this.options.host, port: this.options.port },
          }),
        );
      };
      server.once('error', onError);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (err) => this.logger.warn({ err }, 'HTTP server error'));
    this.server = server;
    this.logger.info({ host: this.options.host, port: this.port }, 'HTTP server listening (/metrics, /healthz, /readyz)');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      send(res, 405, { error: 'method not allowed' });
      return;
    }
    try {
      switch (path) {
        case '/metrics':
          await this.metrics(res);
          return;
        case '/healthz': {
          const report = this.health.liveness();
          send(res, report.ok ? 200 : 503, { status: report.ok ? 'ok' : 'stalled', ...report });
          return;
        }
        case '/readyz': {
          const report = this.health.readiness();
          send(res, report.ready ? 200 : 503, { status: report.ready ? 'ready' : 'not ready', ...report });
          return;
        }
        default:
          send(res, 404, { error: 'not found', endpoints: ['/metrics', '/healthz', '/readyz'] });
      }
    } catch (err) {
      this.logger.warn({ err: { message: errorMessage(err) }, path }, 'HTTP request failed');
      if (!res.headersSent) send(res, 500, { error: errorMessage(err) });
      else res.destroy();
    }
  }

  private async metrics(res: ServerResponse): Promise<void> {
    const body = await this.registry.metrics();
    res.writeHead(200, { 'content-type': this.registry.contentType, 'cache-control': 'no-store' });
    res.end(body);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`${JSON.stringify(body)}\n`);
}
