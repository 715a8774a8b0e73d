// A send's deadline that lets an answer already waiting win. After the event loop was held (a long
// fsync, a GC, a starved core), Node runs due timers before it reads sockets: a bare timer would
// time out a send whose answer had arrived in the meantime, and a notice the receiver took would
// be sent again. The deadline's timer only schedules the expiry with setImmediate, which runs
// after the loop's poll for I/O, so the waiting answer is read first.

/** Calls `expire` once `timeoutMs` has passed and the I/O waiting by then was read; returns a cancel. */
export function sendDeadline(timeoutMs: number, expire: () => void): () => void {
  let immediate: ReturnType<typeof setImmediate> | undefined;
  const timer = setTimeout(() => {
    immediate = setImmediate(expire);
  }, timeoutMs);
  return () => {
    clearTimeout(timer);
    if (immediate !== undefined) clearImmediate(immediate);
  };
}

/** The error a send that ran out of time fails with (named as AbortSignal.timeout names its own). */
export function timeoutError(): Error {
  const error = new Error('the send timed out');
  error.name = 'TimeoutError';
  return error;
}

/** An AbortSignal on a sendDeadline, for clients that take one (fetch, the AWS SDK, nodemailer). */
export function deadlineSignal(timeoutMs: number): { readonly signal: AbortSignal; readonly cancel: () => void } {
  const controller = new AbortController();
  const cancel = sendDeadline(timeoutMs, () => {
    controller.abort(timeoutError());
  });
  return { signal: controller.signal, cancel };
}
