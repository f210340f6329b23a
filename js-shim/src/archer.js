'use strict';
// The glue to Archer's JavaScript Transporter (see docs/ARCHER-HOST.md):
//   in:  context.CustomParameters (strings), context.Tokens {LastRunTime, PreviousRunContext}
//   out: context.OutputWriter.create("XML", {RootNode}) once, one writeItem per core output chunk
//        (writeItem("") when no record was written); without an OutputWriter (Archer 6.4/6.5) the
//        whole document is collected and returned as result.output, with a warning about memory
//   end: exactly one callback: success callback(null, {output, previousRunContext}) with
//        previousRunContext of at most 256 characters; failure callback([...recent log lines,
//        error text]) (at most 64 KiB in all: the error text, then as many of the most recent
//        lines as fit; plus {output: null, previousRunContext: checkpoint} as a second argument
//        when the run left a resume checkpoint). A failed run never calls back as a success.

const { runFeed, ensureCoded } = require('./run-feed');
const { shimError } = require('./errors');
const { codes } = require('./codes');
const { createLogger, Secrets, errorText, failureLines } = require('./log');

/** @typedef {import('../../pkg-template/index').Summary} Summary */
/** @typedef {import('./errors').CodedError} CodedError */
/** @typedef {import('../../pkg-template/index').TransportSettings} TransportSettings */
/**
 * What runArcher resolves to.
 * @typedef {{ok: boolean, summary?: Summary, previousRunContext?: string | null, error?: CodedError, text?: string}} ArcherOutcome
 */

/**
 * Runs the feed for an Archer context. Never throws and never rejects: the outcome goes to
 * callback, and the returned promise resolves to {ok, summary, previousRunContext, error}.
 *
 * @param {object} options
 * @param {import('../../pkg-template/index').ArcherContext} options.context Archer's context
 * @param {(err: any, result?: any) => void} options.callback Archer's callback
 * @param {(line: string) => void} [options.print] where log lines go (default console.log)
 * @param {Partial<import('./run-feed').RunFeedOptions>} [options.run] extra runFeed options (http, now, sleep, host, onProgress, ...)
 * @returns {Promise<ArcherOutcome>}
 */
function runArcher(options) {
  const { context, callback } = options;
  const secrets = new Secrets();
  const print = options.print || ((line) => console.log(line)); // eslint-disable-line no-console
  const logger = createLogger({ secrets, print });
  let called = false;
  /**
   * @param {any} err
   * @param {any} [result]
   */
  const finish = (err, result) => {
    if (called) return;
    called = true;
    try {
      callback(err, result);
    } catch (e) {
      logger.error(`the host's callback threw: ${errorText(e, secrets)}`);
    }
  };
  /**
   * @param {unknown} thrown
   * @returns {ArcherOutcome}
   */
  const fail = (thrown) => {
    const e = ensureCoded(thrown, (/** @type {any} */ x) => shimError(codes.INTERNAL, 'caller', `qualys-vm-transporter failed unexpectedly (${x && x.message ? x.message : String(x)}). This is a bug in qualys-vm-transporter: please report it with this message and the log lines before it. The run was stopped.`));
    const text = errorText(e, secrets);
    const lines = failureLines(logger.recent(), text).slice(0, -1);
    // A failed run may leave the core's resume checkpoint. Archer's documented failure call is
    // callback(errors); the checkpoint rides along as a second argument, which a host that ignores
    // it loses nothing by (whether Archer stores a failed run's token is not documented).
    const checkpoint = e && typeof e.previousRunContext === 'string' && e.previousRunContext ? e.previousRunContext.slice(0, 256) : null;
    if (checkpoint) finish(lines.concat([text]), { output: null, previousRunContext: checkpoint });
    else finish(lines.concat([text]));
    return { ok: false, error: e, summary: e && e.summary, text, previousRunContext: checkpoint };
  };

  try {
    const ctx = context || {};
    const params = ctx.CustomParameters || {};
    secrets.addFromParams(params);
    const tokens = ctx.Tokens || {};
    const outputWriter = ctx.OutputWriter && typeof ctx.OutputWriter.create === 'function' ? ctx.OutputWriter : null;

    /** @type {{writeItem(chunk: any): unknown} | null} the host's writer, created once */
    let writer = null;
    /** @type {string | null} */
    let rootNode = null;
    /** @type {any[] | null} legacy: chunks kept for result.output */
    let memory = null;
    const item = {
      /** @param {string | Uint8Array} chunk */
      writeItem(chunk) {
        if (outputWriter) {
          if (!writer) writer = outputWriter.create('XML', { RootNode: /** @type {string} */ (rootNode) });
          // What the host's writeItem returns goes to runFeed (a Promise is awaited: backpressure).
          return /** @type {{writeItem(chunk: any): unknown}} */ (writer).writeItem(chunk);
        }
        /** @type {any[]} */ (memory).push(chunk);
        return undefined;
      },
    };

    const run = Object.assign({}, options.run || {});
    const userStart = run.onStart;
    run.onStart = (/** @type {{transport: TransportSettings, http: string, describe: string}} */ info) => {
      rootNode = info.transport.rootNode;
      if (info.transport.testConnection) {
        // A connection test writes nothing: no output writer is created (and it always ends as a
        // failure, so Archer keeps LastRunTime; the core hands the PreviousRunContext back as it was).
      } else if (outputWriter) {
        try {
          writer = outputWriter.create('XML', { RootNode: /** @type {string} */ (rootNode) });
        } catch (x) {
          const e = /** @type {any} */ (x);
          throw shimError(codes.OUTPUT_WRITE_FAILED, 'configuration', `the host's output writer could not be created (OutputWriter.create): ${e && e.message ? e.message : String(e)}`);
        }
      } else {
        memory = [];
        logger.warn('this Archer host has no context.OutputWriter (Archer 6.4/6.5): the whole output is kept in memory and returned at the end; for large feeds give the data feed a high Max Memory, or upgrade Archer to 6.6 or later');
      }
      if (userStart) userStart(info);
    };

    // OutputWriter.writeItem takes strings or Buffers: Buffers save decoding each chunk into a
    // string that the host then encodes again. The 6.4/6.5 result.output is built as a string.
    const outputBytes = !!outputWriter && typeof Buffer === 'function';
    return runFeed(Object.assign(run, { params, tokens, writer: item, log: logger, secrets, outputBytes }))
      .then(({ summary, previousRunContext }) => {
        let output = null;
        if (memory) {
          const body = memory.join('');
          memory = null;
          output = `<?xml version="1.0" encoding="UTF-8"?><${rootNode}>${body}</${rootNode}>`;
        }
        finish(null, { output, previousRunContext });
        return { ok: true, summary, previousRunContext };
      }, fail);
  } catch (e) {
    return Promise.resolve(fail(e));
  }
}

module.exports = { runArcher };
