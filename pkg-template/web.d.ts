// Types of qualys-vm-transporter/web: the WebAssembly core for browsers and other ES module hosts
// (hand-written: wasm-bindgen's generated declarations say `any` everywhere). The classes and data
// types are the Node API's own (../index.d.ts): the same Action, Summary, DataSource, ... Needs no
// DOM or WebAssembly lib: it checks with `lib: ["ES2022"]` alone.

import type { Blame, DataSource, ErrorCode } from '../index.js';

export type {
  Action,
  Blame,
  CustomParameters,
  DataSource,
  DoneAction,
  ErrorCode,
  FailAction,
  LogLevel,
  OutputChunk,
  ParamValue,
  PendingAction,
  SendAction,
  Summary,
  Tokens,
  TransformSummary,
  TransportSettings,
  TransporterError,
  WaitAction,
} from '../index.js';

/**
 * The sans-IO core (`new Feed(customParameters, tokens, nowMs)`) and the offline transform
 * (`new Transformer(dataSource)`); the error class, whose `instanceof` holds for every error this
 * module throws (any Error with code, blame and retryable); every error code as a constant.
 * Using any of them before init() throws NOT_INITIALIZED (the codes this module raises itself,
 * NOT_INITIALIZED, BAD_ARGUMENT and INTERNAL, work before).
 */
export { Feed, Transformer, QualysTransporterError, codes } from '../index.js';

/** A URL object (or anything with an `href`). */
export interface URLLike {
  readonly href: string;
}
/** A fetch Request. */
export interface RequestLike {
  readonly url: string;
  readonly method: string;
}
/** A fetch Response. */
export interface ResponseLike {
  readonly ok: boolean;
  readonly status: number;
  arrayBuffer(): Promise<ArrayBuffer>;
}
/** A compiled `WebAssembly.Module` (declared as `object` so that no DOM or WebAssembly lib is needed). */
export type WasmModuleLike = object;

/**
 * Where init() loads the core from: a URL (string or URL: fetched), a Request, a Response, the
 * bytes of web/qualys_vm_transporter_bg.wasm, or a compiled WebAssembly.Module.
 */
export type InitInput = string | URLLike | RequestLike | ResponseLike | ArrayBuffer | ArrayBufferView | WasmModuleLike;

/**
 * Loads the WebAssembly core; call it once before anything else. Without `module_or_path` it
 * fetches web/qualys_vm_transporter_bg.wasm next to this module (what a plain page with an import
 * map wants); with a bundler, pass the URL it serves that file at. Rejects with a NOT_INITIALIZED
 * QualysTransporterError naming what it tried to load.
 */
export default function init(options?: { module_or_path?: InitInput | PromiseLike<InitInput> }): Promise<void>;

/** Loads the WebAssembly core synchronously from the .wasm bytes or a compiled module. */
export function initSync(options: { module: ArrayBuffer | ArrayBufferView | WasmModuleLike }): void;

/** The core's version. */
export function version(): string;

/** Every stable error code, name -> the same name. */
export function errorCodes(): { readonly [K in ErrorCode]: K };

/** Every stable error code with its default blame, whether a retry may help, and what it means. */
export function errorCodeInfo(): Record<ErrorCode, { blame: Blame; retryable: boolean; meaning: string }>;

/** A data source as the core describes it. */
export interface DataSourceInfo {
  /** The `dataSource` value. */
  name: DataSource;
  /** The Custom Parameter holding its URL. */
  urlKey: 'kbUrl' | 'hostsUrl' | 'detectionUrl';
  /** The default Archer root node of its output. */
  defaultRootNode: string;
  /** The element name of each output record. */
  recordElement: string;
}

/** Every data source, in the implementation guide's order. */
export function dataSources(): DataSourceInfo[];

/** The default root node of a data source, or undefined for an unknown one. */
export function defaultRootNode(dataSource: string): string | undefined;

/** A Custom Parameter as the core's table describes it. */
export interface ParameterInfo {
  key: string;
  kind: 'integer' | 'boolean' | 'choice' | 'url' | 'secret' | 'pem' | 'proxy' | 'xmlName' | 'text';
  /** A number or boolean; null when the kind has none. */
  default: number | boolean | null;
  /** For integers, else null. */
  min: number | null;
  max: number | null;
  /** The allowed values of a choice, else null. */
  values: string[] | null;
  required: 'always' | 'forItsDataSource' | 'no';
  /** One line for help texts. */
  summary: string;
  /** The README's "Meaning" text. */
  doc: string;
}

/** The Custom Parameters in table order. */
export function parameters(): ParameterInfo[];
