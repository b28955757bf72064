/**
 * One line from the terminal on standard input, with or without echo (a password), the prompt
 * on standard error. Ctrl-C or Ctrl-D before Enter abandon the prompt.
 */

/** Reads one line; the result is a Buffer (the caller zeroes a password). */
export function promptLine(prompt: string, echo: boolean, input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WriteStream = process.stderr): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const buf = Buffer.alloc(4096);
    let len = 0;
    const wasRaw = input.isRaw;
    output.write(prompt);
    input.setRawMode(true);
    input.resume();
    const done = (err?: Error) => {
      input.removeListener('data', onData);
      input.setRawMode(wasRaw);
      input.pause();
      output.write('\n');
      if (err) {
        buf.fill(0);
        reject(err);
      } else {
        const out = Buffer.from(buf.subarray(0, len));
        buf.fill(0);
        resolve(out);
      }
    };
    const onData = (chunk: Buffer) => {
      for (const c of chunk) {
        if (c === 0x0d || c === 0x0a) { done(); break; }
        if (c === 0x03 || c === 0x04) { done(new Error('prompt abandoned')); break; }
        if (c === 0x7f || c === 0x08) {
          if (len > 0) { len--; if (echo) output.write('\b \b'); }
          continue;
        }
        if (len < buf.length) {
          buf[len++] = c;
          if (echo) output.write(Buffer.from([c]));
        }
      }
      chunk.fill(0);
    };
    input.on('data', onData);
  });
}
