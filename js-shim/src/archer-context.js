'use strict';
// A mirrored Archer context: the one stand-in for what Archer's JavaScript Transporter hands a
// data-feed script (docs/ARCHER-HOST.md), for everything that runs the feed outside Archer: the
// CLI's `run` (it ships), tools/archer-host.js (the single file in a vm sandbox) and the tests.
//
// In scope: context.CustomParameters and context.Tokens as given; context.OutputWriter (left out
// for an Archer 6.4/6.5 host) whose create("XML", {RootNode}) may be called once and whose writers
// pass every writeItem to a sink; the callback, every call of which is kept. Out of scope: where
// the items go (the caller's sink: a file, memory, nothing), running the script, timing.

/**
 * @typedef {object} ArcherContextOptions
 * @property {object} params the Custom Parameters, as given (Archer passes strings)
 * @property {object} [tokens] the tokens, as given (LastRunTime, PreviousRunContext, ...)
 * @property {boolean} [outputWriter] false: no context.OutputWriter (Archer 6.4/6.5); default true
 * @property {(rootNode: string | null, type: string, options: any) => void} [onCreate] after
 *           OutputWriter.create was accepted
 * @property {(item: any) => unknown} [onItem] every writeItem call's argument (a string or a Buffer);
 *           what it returns, writeItem returns
 * @property {(err: any, result: any) => void} [onCallback] every callback call
 */

/**
 * @typedef {object} ArcherContextState
 * @property {Array<{type: string, opts: any}>} creates every OutputWriter.create call
 * @property {string|null} rootNode the RootNode of the accepted create
 * @property {number} writeItems writeItem calls
 * @property {Array<[any, any]>} calls every callback call's (err, result)
 */

/**
 * A context and callback to hand a data-feed script, and what the script did with them.
 * @param {ArcherContextOptions} o
 * @returns {{context: {CustomParameters: object, Tokens: any, OutputWriter?: object},
 *            callback: (err: any, result?: any) => void, state: ArcherContextState}}
 */
function archerContext(o) {
  /** @type {ArcherContextState} */
  const state = { creates: [], rootNode: null, writeItems: 0, calls: [] };
  /** @type {{CustomParameters: object, Tokens: any, OutputWriter?: object}} */
  const context = { CustomParameters: o.params, Tokens: o.tokens };
  if (o.outputWriter !== false) {
    context.OutputWriter = {
      /**
       * @param {string} type
       * @param {{RootNode?: string}} [options]
       */
      create(type, options) {
        state.creates.push({ type, opts: options });
        if (state.creates.length > 1) throw new Error('OutputWriter.create was called twice (Archer allows it once per run)');
        if (type !== 'XML') throw new Error(`OutputWriter.create("${type}"): only "XML" is used by this feed`);
        const rootNode = options && options.RootNode !== undefined ? options.RootNode : null;
        state.rootNode = rootNode;
        if (o.onCreate) o.onCreate(rootNode, type, options);
        return {
          /** @param {any} item */
          writeItem(item) {
            state.writeItems++;
            // The sink's answer goes back (a Promise: the CLI's stdout waiting for 'drain').
            return o.onItem ? o.onItem(item) : undefined;
          },
        };
      },
    };
  }
  /**
   * @param {any} err
   * @param {any} [result]
   */
  const callback = (err, result) => {
    state.calls.push([err, result]);
    if (o.onCallback) o.onCallback(err, result);
  };
  return { context, callback, state };
}

module.exports = { archerContext };
