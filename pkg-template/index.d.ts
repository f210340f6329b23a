// Types of the Node API of qualys-vm-transporter (hand-written; checked against the shim's JSDoc).
// The browser entry ("qualys-vm-transporter/web") is typed by pkg-template/web.d.ts, with these types.

/**
 * Archer's Custom Parameters: keys as typed on the Transport tab, values strings. Numbers, booleans,
 * bigints and Dates are taken as their text; null/undefined as not given; any other type is a
 * CONFIG_INVALID naming the key.
 */
/** A Custom Parameter's value as a host may pass it (the core converts and validates it). */
export type ParamValue = string | number | boolean | bigint | Date | null | undefined;

/** Archer's Custom Parameters (keys case-sensitive; other keys are ignored with a warning). */
export interface CustomParameters {
  /** Which Qualys data to extract: kb, hosts, hostDetections or detections. Required. */
  dataSource?: ParamValue;
  /** Qualys KnowledgeBase API URL (dataSource=kb); <LastRunTime> is replaced by the resolved date. Required for its data source. */
  kbUrl?: ParamValue;
  /** Qualys host list API URL (dataSource=hosts); <LastRunTime> is replaced by the resolved date. Required for its data source. */
  hostsUrl?: ParamValue;
  /** Qualys host detection API URL (dataSource=hostDetections or detections); <LastRunTime> is replaced by the resolved date. Required for its data source. */
  detectionUrl?: ParamValue;
  /** Qualys API user name. Required. */
  username?: ParamValue;
  /** Qualys API password (mark it Protected); never logged. Required. */
  password?: ParamValue;
  /** Records per page (truncation_limit) for hosts and detections. Default 500; 1-1,000,000. */
  batchSize?: ParamValue;
  /** Most requests started in any 60-second window. Default 60; 1-10,000. */
  requestsPerMin?: ParamValue;
  /** Most open sockets to Qualys. Default 10; 1-25. */
  socketLimit?: ParamValue;
  /** Retries of a failed page. Default 1; 0-2. */
  maxRetry?: ParamValue;
  /** Seconds before the first retry; each further retry waits 3x longer. Default 5; 0-300. */
  retryDelaySec?: ParamValue;
  /** Days added to LastRunTime. Default -1; -3650-0. */
  lastRunTimeOffset?: ParamValue;
  /** Seconds a request may receive nothing; a whole response may take 6x this. Default 300; 5-3600. */
  requestTimeoutSec?: ParamValue;
  /** Total seconds a run may wait on Qualys rate/concurrency limits. Default 7200; 0-86,400. */
  waitBudgetSec?: ParamValue;
  /** Largest single record in MiB; bounds memory. Default 64; 1-1024. */
  maxRecordMB?: ParamValue;
  /** Records per writeItem call. Default 1000; 1-100,000. */
  outputChunkRecords?: ParamValue;
  /** MiB per writeItem call. Default 4; 1-256. */
  outputChunkMB?: ParamValue;
  /** kb: QIDs per request after listing them first; 0 = one request. Default 1000; 0-100,000. */
  kbChunkSize?: ParamValue;
  /** ID ranges fetched in parallel after listing the matching IDs. Default 1; 1-10. */
  concurrency?: ParamValue;
  /** auto (GET, or POST once a URL is over 2,000 bytes or Qualys answers 414), GET or POST. Default auto. */
  httpMethod?: ParamValue;
  /** Skip a host Qualys cannot deliver even alone (listed in a WARN and the summary) instead of failing. Default false. */
  skipStalledHosts?: ParamValue;
  /** Check Qualys's TLS certificate (default true). Default true. */
  verifyCerts?: ParamValue;
  /** Extra CA certificate (PEM) to trust. */
  caCert?: ParamValue;
  /** HTTP proxy, http://[user:password@]host:port. */
  proxy?: ParamValue;
  /** Root element of the output (default per data source). */
  rootNode?: ParamValue;
  /** records (default): Archer records with the ARCHER_* key fields; qualys: each VULN / HOST as Qualys sent it. Default records. */
  outputShape?: ParamValue;
  /** detections: what ARCHER_DETECTION_KEY is made of: seed (the old script's key), uniqueVulnId or hostQid. Default seed. */
  detectionKey?: ParamValue;
  /** Only test the connection (one light request); always ends as failed so LastRunTime stays. Default false. */
  testConnection?: ParamValue;
  [key: string]: ParamValue;
}

/** Archer's data-feed tokens as the host passes them. */
export interface Tokens {
  /** A date as text, a Date, or a number of seconds (below 1e11) or milliseconds since 1970. */
  LastRunTime?: string | Date | number | null;
  PreviousRunContext?: string | null;
  LastFileProcessed?: string | null;
}

export type DataSource = 'kb' | 'hosts' | 'hostDetections' | 'detections';
/** The outputShape Custom Parameter: Archer records with key fields (default), or each Qualys element as sent. */
export type OutputShape = 'records' | 'qualys';
/** The `detectionKey` parameter: what ARCHER_DETECTION_KEY is made of (detections). */
export type DetectionKey = 'seed' | 'uniqueVulnId' | 'hostQid';
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
export type HttpClientName = 'node' | 'request' | 'fetch';

/** Counters of one run. */
export interface Summary {
  dataSource: DataSource;
  records: number;
  pages: number;
  requests: number;
  retries: number;
  waits: number;
  waitMs: number;
  /** Body bytes the parser read: decoded bytes when an answer came compressed. */
  bytesIn: number;
  /** Body bytes as received on the wire (compressed where the answer was); null when the client decoded a compressed answer without saying its size (fetch without Content-Length). */
  bytesWire: number | null;
  bytesOut: number;
  chunks: number;
  /** Records whose ID was already written in this run (skipped, not written twice). */
  duplicatesSkipped: number;
  /** Records whose ID lay outside the ID range their request asked for (skipped). */
  outOfWindowSkipped: number;
  /** Hosts skipped because Qualys could not deliver them even alone (skipStalledHosts=True): the first 64; warnings.stalledHost counts all. */
  stalledHostsSkipped: number[];
  /** Detection records whose ARCHER_DETECTION_KEY an earlier record of the run already had (Archer would merge them: choose another detectionKey). */
  keyCollisions: number;
  /** Hosts without a Qualys ID whose ARCHER_DEVICE_LINK (their DNS name) an earlier such host already had. */
  deviceLinkCollisions: number;
  highestId: number | null;
  /** The LastRunTime substituted into the URL (YYYY-MM-DDTHH:MM:SSZ), if any. */
  lastRunTimeUsed: string | null;
  /** The token to hand back to Archer (at most 256 characters; "" clears it). */
  previousRunContext: string;
  elapsedMs: number;
  /** ID ranges to fetch (the field keeps the code's name, windows), known once the run listed the matching IDs first; 0 otherwise (or not yet). */
  windows: number;
  /** ID ranges finished so far (progress: windowsDone of windows). */
  windowsDone: number;
  /** Warnings by kind (e.g. qualysWarning, invalidUtf8): how many occurred, logged or not. */
  warnings: Record<string, number>;
  /** X-RateLimit-Limit: Qualys API calls the subscription allows per window (null: not said). */
  rateLimit: number | null;
  /** X-RateLimit-Window-Sec: that window, in seconds. */
  rateWindowSec: number | null;
  /** X-RateLimit-Remaining of the last answer: calls left in the window as the run ended (calls used: requests). */
  callsLeft: number | null;
  /** X-Concurrency-Limit-Limit: Qualys API calls the subscription allows at once. */
  concurrencyLimit: number | null;
  /** The connection test's report (testConnection=True), one finding per check; [] for a normal run. */
  check: CheckFinding[];
}

/** One line of the connection test's report (Summary.check). */
export interface CheckFinding {
  /** What was checked. */
  check: 'DNS/TCP' | 'proxy' | 'TLS' | 'credentials' | 'endpoint' | 'API version' | 'LastRunTime' | 'limits';
  /** PASS works; WARN works but deserves a look; FAIL a real run would fail here; INFO nothing to test; SKIP not tested (an earlier check failed). */
  outcome: 'PASS' | 'WARN' | 'FAIL' | 'INFO' | 'SKIP';
  /** What was found and, for a failure, what to do. */
  text: string;
}

/**
 * Every stable error code of the core and the shim (the core's errorCodes(); `codes` below holds
 * them as constants). tests/js/codes.test.js keeps this list equal to the core's.
 */
export type ErrorCode =
  | 'CONFIG_INVALID' | 'TLS_CERTIFICATE' | 'QUALYS_CREDENTIALS' | 'ACCESS_DENIED' | 'URL_NOT_FOUND' | 'API_VERSION_RETIRED'
  | 'PROXY_AUTH_REQUIRED' | 'WRONG_ENDPOINT' | 'QUALYS_BAD_REQUEST' | 'URL_TOO_LONG' | 'CONNECTION_TEST_PASSED' | 'QUALYS_ERROR'
  | 'QUALYS_INTERNAL_ERROR' | 'HTTP_202' | 'HTTP_5XX' | 'HTTP_STATUS' | 'HTTP_UNUSABLE_STATUS'
  | 'NETWORK' | 'TRUNCATED_PAGE' | 'EMPTY_RESPONSE' | 'NOT_XML' | 'MALFORMED_XML' | 'XML_TOO_DEEP'
  | 'RECORD_TOO_LARGE' | 'UNEXPECTED_DOCUMENT' | 'INVALID_ID_SET' | 'NEXT_PAGE_URL_MISSING'
  | 'BAD_NEXT_PAGE_URL' | 'FOREIGN_NEXT_PAGE_URL' | 'NEXT_PAGE_LOOP' | 'TOO_MANY_PAGES'
  | 'DISCOVERY_TOO_LARGE' | 'WAIT_BUDGET_EXHAUSTED' | 'HOST_STALLED' | 'DECOMPRESSED_TOO_LARGE' | 'BAD_TIME' | 'OUT_OF_ORDER_CALL' | 'STALLED'
  | 'PUSH_AFTER_FINISH' | 'FINISH_TWICE' | 'BAD_ARGUMENT' | 'SHIM_ERROR' | 'INTERNAL'
  | 'OUTPUT_WRITE_FAILED' | 'NO_HTTP_CLIENT' | 'HTTP_OPTION_UNSUPPORTED'
  | 'TLS_VERIFY_DISABLED_IN_PROCESS' | 'RUNTIME_UNSUPPORTED' | 'NOT_INITIALIZED' | 'ABORTED';

/** Whose fault an error is: the admin's settings, Qualys, the network, or the calling code. */
export type Blame = 'configuration' | 'server' | 'network' | 'caller';

/** Errors from the core and the shim (each is `instanceof QualysTransporterError`). */
export interface TransporterError extends Error {
  /** Stable code, e.g. CONFIG_INVALID, TLS_CERTIFICATE, QUALYS_CREDENTIALS, WAIT_BUDGET_EXHAUSTED (see `codes`). */
  code: string;
  /** Whose fault: the admin's settings, Qualys, the network, or the calling code. */
  blame: Blame;
  retryable: boolean;
  /** The counters at the time of the failure (when the run got that far). */
  summary?: Summary;
  /** The resume checkpoint a failed run left (give it to the next run as PreviousRunContext). */
  previousRunContext?: string;
}

/**
 * The package's error class. `err instanceof QualysTransporterError` is true for every error the
 * package gives you: the shim's own (real instances), the wasm core's (plain Errors made inside the
 * core) and errors from another realm (an Archer-like vm sandbox) or another copy of the package
 * (the web build). So `instanceof` does not follow the prototype chain: it is true for any Error,
 * of any realm, with a SCREAMING_SNAKE `code`, a `blame` among the four and a boolean `retryable`.
 * Compare `code` with the constants in `codes`.
 */
export class QualysTransporterError extends Error implements TransporterError {
  /** Throws a BAD_ARGUMENT QualysTransporterError when code or blame is not valid. */
  constructor(message: string, options: { code: ErrorCode | (string & Record<never, never>); blame: Blame; retryable?: boolean; cause?: unknown });
  code: string;
  blame: Blame;
  retryable: boolean;
  summary?: Summary;
  previousRunContext?: string;
  static [Symbol.hasInstance](value: unknown): value is TransporterError;
}

/** How requests are made (validated by the core from the Custom Parameters). */
export interface TransportSettings {
  socketLimit: number;
  /** Idle limit: no byte for this long (before the head, between body chunks) ends the request. */
  requestTimeoutMs: number;
  /** Whole-response limit: a request may take at most this long from send to the body's end (6 x requestTimeoutMs). */
  responseTimeoutMs: number;
  verifyCerts: boolean;
  caCert: string | null;
  proxy: { url: string; authorization: string | null } | null;
  rootNode: string;
  dataSource: DataSource;
  /** testConnection=True: a connection test (no output writer is needed; the run always ends as a failure). */
  testConnection: boolean;
}

/** A request the core wants started now (without waiting for it). `headers` includes Authorization. */
export interface SendAction {
  kind: 'send';
  /** Report the response under this id (optional while only one request is in flight). */
  id: number;
  method: 'GET' | 'POST';
  /** For a POST the URL without its query; for a GET the page URL. */
  url: string;
  /** A POST's application/x-www-form-urlencoded body (the page URL's query; never credentials); null for a GET. */
  body: string | null;
  headers: Array<[string, string]>;
  page: number;
  attempt: number;
}
/** Sleep up to `ms` (or until an in-flight response settles), then poll again. */
export interface WaitAction { kind: 'wait'; ms: number; reason: string }
/** Nothing to start now: wait until an in-flight response settles, then poll again. */
export interface PendingAction { kind: 'pending' }
export interface DoneAction { kind: 'done'; summary: Summary }
export interface FailAction { kind: 'fail'; error: TransporterError }
export type Action = SendAction | WaitAction | PendingAction | DoneAction | FailAction;

/** What an HTTP adapter reports for one request: head, body chunks, then end or error. */
export interface ResponseSink {
  head(status: number, headers: Array<[string, string]>): void;
  /** Returns false when the response is already known bad: abort the request, then end(). */
  body(chunk: Uint8Array): boolean;
  /** Optional: bytes of a compressed answer as received on the wire (body chunks are then the decoded bytes). */
  wire?(bytes: number): void;
  /** Optional: the issuer of the server's TLS certificate ("CN=..., O=..."), where the client exposes it (the connection test shows it). */
  tls?(issuer: string): void;
  end(): void;
  error(code: string, message: string): void;
}

export interface HttpAdapter {
  name?: string;
  describe?: string;
  /** Makes one request; several may be in flight at once (concurrency). The adapter sets
   *  control.abort, which the run loop calls for requests still in flight when the run ends. */
  send(request: SendAction, sink: ResponseSink, control?: { abort?: () => void }): Promise<void>;
  close?(): void;
}

export interface OutputItemWriter {
  /**
   * A string, or a Buffer of UTF-8 bytes when RunFeedOptions.outputBytes is set. Return a Promise
   * for backpressure: runFeed awaits it before it hands over the next chunk, polls the core again
   * or starts a new request (the response already in flight keeps being read). A rejected Promise
   * fails the run with OUTPUT_WRITE_FAILED (the checkpoint of the writes accepted so far is kept).
   */
  writeItem(chunk: string | Uint8Array): unknown;
}

/** What runFeed needs of an AbortSignal (Node's and the browsers' AbortSignal are one). */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export interface RunFeedOptions {
  params: CustomParameters;
  tokens?: Tokens;
  /** Receives each output chunk (sibling XML record fragments) in order; "" once when no record was written. */
  writer: OutputItemWriter | ((chunk: string | Uint8Array) => unknown);
  /**
   * Hand the writer each chunk as a Buffer of UTF-8 bytes (a Uint8Array without Buffer) instead of
   * a string; the "" of an empty run stays a string. The Archer entry sets it for OutputWriter,
   * whose writeItem takes strings or Buffers. Default false.
   */
  outputBytes?: boolean;
  /** Log sink (texts are already scrubbed of secrets); default: console.log in RSA's format. */
  log?: ((level: LogLevel, text: string) => void) | { log(level: LogLevel, text: string): unknown };
  /** 'node' | 'request' | 'fetch', an adapter, or a factory; default: the first client that loads. */
  http?: HttpClientName | HttpAdapter | ((transport: TransportSettings) => HttpAdapter);
  /** Clock in ms since the epoch (default Date.now). */
  now?: () => number;
  /** Sleep used for the core's waits (default setTimeout). */
  sleep?: (ms: number, reason?: string) => Promise<void>;
  onStart?: (info: { transport: TransportSettings; http: string; describe: string }) => void;
  /** Every action the core returns (send actions without their headers). */
  onAction?: (action: Omit<SendAction, 'headers'> | WaitAction | PendingAction | DoneAction | FailAction) => void;
  onProgress?: (summary: Summary) => void;
  /**
   * Stops the run when aborted: no new request is started, the ones in flight are ended, and
   * runFeed rejects with code ABORTED; the error's previousRunContext is the resume checkpoint
   * ("" when there is nothing to resume: the next run starts again from LastRunTime).
   */
  signal?: AbortSignalLike;
}

export interface RunFeedResult {
  summary: Summary;
  /** At most 256 characters. */
  previousRunContext: string;
}

/** Runs one data-feed execution. Rejects with a TransporterError; never resolves on a failed run. */
export function runFeed(options: RunFeedOptions): Promise<RunFeedResult>;

export interface ArcherContext {
  CustomParameters?: CustomParameters;
  Tokens?: Tokens;
  OutputWriter?: { create(type: 'XML', options: { RootNode: string }): OutputItemWriter };
}

/**
 * Archer's callback: (null, result) on success; (recent log lines + error text) on failure, with
 * {output: null, previousRunContext: checkpoint} as a second argument when the core left a resume
 * checkpoint.
 */
export type ArcherCallback = (err: string[] | null, result?: { output: string | null; previousRunContext: string }) => void;

/**
 * Runs the feed for an Archer-style context and calls back exactly once. Never rejects.
 */
export function runArcher(options: {
  context: ArcherContext;
  callback: ArcherCallback;
  print?: (line: string) => void;
  run?: Omit<RunFeedOptions, 'params' | 'tokens' | 'writer' | 'log'>;
}): Promise<{ ok: boolean; summary?: Summary; previousRunContext?: string | null; error?: TransporterError; text?: string }>;

export interface TransformSummary {
  records: number;
  bytesIn: number;
  bytesOut: number;
  chunks: number;
  /** The next-page URL the response names (WARNING 1980), if any. */
  nextPage: string | null;
  /** Parser notices and the first few key collisions, named. */
  notices: string[];
  /** Detection records whose ARCHER_DETECTION_KEY an earlier record already had. */
  keyCollisions: number;
  /** Hosts without a Qualys ID whose ARCHER_DEVICE_LINK an earlier such host already had. */
  deviceLinkCollisions: number;
  /** The default root node for this source. */
  rootNode: string;
  /** All output chunks joined, when no `write` was given. */
  output?: string;
}

/** Turns one saved Qualys response into the Archer output (records without the root node). */
export function transform(
  source: DataSource,
  input: string | Uint8Array | ArrayBuffer | Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>,
  options?: { write?: (chunk: string) => void; chunkRecords?: number; chunkBytes?: number; outputShape?: OutputShape; detectionKey?: DetectionKey },
): Promise<TransformSummary>;

/**
 * Every stable error code as a constant (`codes.CONFIG_INVALID === 'CONFIG_INVALID'`): compare an
 * error's `code` with these. A misspelled code name throws.
 */
export const codes: { readonly [K in ErrorCode]: K };

/** The root node each data source writes by default (the rootNode parameter overrides it). */
export const DEFAULT_ROOT_NODES: Readonly<Record<DataSource, string>>;

/** Picks an HTTP adapter for these settings by what loads here. */
export function createHttp(transport: TransportSettings, options?: { prefer?: HttpClientName; require?: (name: string) => unknown; global?: object }): HttpAdapter;
/** The HTTP clients that can be loaded here. */
export function availableHttp(options?: { require?: (name: string) => unknown; global?: object }): HttpClientName[];

/** Secrets to scrub from log lines: the password, the proxy password, Authorization values. */
export class Secrets {
  add(value: string | null | undefined): this;
  addAuthorization(value: string | null | undefined): this;
  addFromParams(params: CustomParameters): this;
  scrub(text: string): string;
}

/** A logger in RSA's format (`<ISO timestamp> :: <LEVEL> :: <text>`) that scrubs secrets. */
export interface Logger {
  secrets: Secrets;
  log(level: LogLevel, text: string): string;
  debug(text: string): string;
  info(text: string): string;
  warn(text: string): string;
  error(text: string): string;
  /** The most recent lines, formatted and scrubbed, oldest first. */
  recent(): string[];
  scrub(text: string): string;
  onLine(fn: (level: LogLevel, line: string) => void): void;
}
export function createLogger(options?: { print?: (line: string) => void; secrets?: Secrets; clock?: () => Date; recent?: number; minLevel?: LogLevel }): Logger;

/** The core's version. */
export function version(): string;

/**
 * One output chunk as bytes: UTF-8, and pure ASCII when `ascii` is true (it is unless an element
 * or attribute name in the Qualys data is not), so it can be decoded as latin1, several times
 * faster than UTF-8 (`Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')`).
 * `bytes` is a view into the core's memory, valid only until the next call on the object that
 * returned it: decode or copy it at once.
 */
export interface OutputChunk {
  bytes: Uint8Array;
  ascii: boolean;
  records: number;
}

/** The sans-IO core: drive it yourself (see the README's "Driving the core"). */
export class Feed {
  constructor(customParameters: CustomParameters, tokens: Tokens, nowMs: number);
  transport(): TransportSettings;
  poll(nowMs: number): Action;
  /** requestId: the send action's id (may be left out while only one request is in flight). */
  handleResponseHead(nowMs: number, status: number, headers: Array<[string, string]> | Record<string, string>, requestId?: number): void;
  /** false: the response is already known bad; abort the request, then handleResponseEnd. */
  handleBody(chunk: Uint8Array, requestId?: number): boolean;
  handleResponseEnd(nowMs: number, requestId?: number): void;
  /** Bytes of a compressed answer as received on the wire (its body chunks are the decoded bytes). */
  handleWireBytes(bytes: number, requestId?: number): void;
  /** The issuer of the server's TLS certificate, for the connection test's TLS line (ignored outside a connection test). */
  noteTlsIssuer(issuer: string): void;
  handleTransportError(nowMs: number, code: string, message: string, requestId?: number): void;
  /** The next output chunk as a string (sibling record fragments), or undefined. */
  takeOutput(): string | undefined;
  /** The next output chunk as bytes (see OutputChunk), or undefined; faster to decode. */
  takeOutputChunk(): OutputChunk | undefined;
  takeLogs(): Array<{ level: LogLevel; text: string }>;
  summary(): Summary;
  /** The resume checkpoint a failure now would leave ("" when there is nothing to resume). */
  checkpoint(): string;
  free(): void;
}

/**
 * Offline transform of one saved response, chunk by chunk. Call order: push(bytes) for each
 * chunk of the response, taking the output (takeOutput/takeOutputChunk until undefined) after each
 * push; then finish() once, and take the output again after finish(): the last records are only
 * released by it. push after finish throws PUSH_AFTER_FINISH, a second finish FINISH_TWICE. free()
 * at the end.
 */
export class Transformer {
  constructor(dataSource: DataSource, chunkRecords?: number | null, chunkBytes?: number | null, outputShape?: OutputShape | null, detectionKey?: DetectionKey | null);
  push(chunk: Uint8Array): void;
  takeOutput(): string | undefined;
  takeOutputChunk(): OutputChunk | undefined;
  finish(): Omit<TransformSummary, 'rootNode' | 'output'>;
  free(): void;
}

/** The command line (what the qualys-vm-transporter command runs). */
export const cli: {
  /**
   * Runs one command line; resolves to its exit code (documented in `--help`). `signals`: where
   * SIGINT/SIGTERM come from during `run` (default `process`; `null`: none are listened to);
   * `exit`: how a second signal exits at once (default `process.exit`).
   */
  main(
    argv: string[],
    io?: {
      stdout?: { write(text: string): unknown };
      stderr?: { write(text: string): unknown };
      env?: Record<string, string | undefined>;
      signals?: { on(event: 'SIGINT' | 'SIGTERM', listener: () => void): unknown; removeListener(event: 'SIGINT' | 'SIGTERM', listener: () => void): unknown } | null;
      exit?: (code: number) => void;
    },
  ): Promise<number | null>;
};
