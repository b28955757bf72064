/**
 * OpenVPN's compression framing without compression (docs/wire-format.md, "Compression
 * framing"). The plaintext of a data packet may carry a compression header that OpenVPN 2.6
 * adds even when nothing is compressed; kovpn adds and strips that header and never
 * compresses or decompresses. A packet a peer did compress is refused (`compressed`).
 *
 *   lzo-stub  `comp-lzo no`:             0xFA + payload
 *   stub      `compress` / `compress stub`: 0xFB + payload[1..] + payload[0] (the first byte
 *             is swapped to the end, so the payload keeps its alignment)
 *   stub-v2   `compress stub-v2`:        payload as it is, unless it starts with 0x50, then
 *             0x50 0x00 + payload (an IP packet never starts with 0x50)
 */

export type CompFraming = 'lzo-stub' | 'stub' | 'stub-v2';
export const COMP_FRAMINGS: readonly CompFraming[] = ['lzo-stub', 'stub', 'stub-v2'];

export const NO_COMPRESS_BYTE = 0xfa;
export const NO_COMPRESS_BYTE_SWAP = 0xfb;
export const LZO_COMPRESS_BYTE = 0x66;
export const LZ4_COMPRESS_BYTE = 0x69;
export const COMP_V2_INDICATOR = 0x50;
export const COMP_V2_UNCOMPRESSED = 0x00;

/** Bytes `frame` may add in front of (or to) a payload. */
export const COMP_FRAMING_OVERHEAD = 2;

/** Why an incoming packet was refused: a compressed payload, or a header that is neither. */
export const enum UnframeError {
  Compressed = -1,
  BadHeader = -2,
}

/**
 * Writes `src[0, len)` with `framing`'s header into `dst` (at least len + 2 bytes) and returns
 * the framed length. An empty payload stays empty, as in OpenVPN.
 */
export function frame(framing: CompFraming, src: Uint8Array, len: number, dst: Uint8Array): number {
  if (len <= 0) return 0;
  switch (framing) {
    case 'lzo-stub':
      dst[0] = NO_COMPRESS_BYTE;
      dst.set(src.subarray(0, len), 1);
      return len + 1;
    case 'stub':
      dst[0] = NO_COMPRESS_BYTE_SWAP;
      dst.set(src.subarray(1, len), 1);
      dst[len] = src[0]!;
      return len + 1;
    case 'stub-v2':
      if (src[0] !== COMP_V2_INDICATOR) {
        dst.set(src.subarray(0, len), 0);
        return len;
      }
      dst[0] = COMP_V2_INDICATOR;
      dst[1] = COMP_V2_UNCOMPRESSED;
      dst.set(src.subarray(0, len), 2);
      return len + 2;
  }
}

/**
 * Strips `framing`'s header from `buf[0, len)` in place (the payload ends up at offset 0) and
 * returns the payload length, or an UnframeError: a compressed packet (LZO 0x66, LZ4 0x69, a
 * v2 algorithm byte) is never decompressed. An empty packet stays empty.
 */
export function unframe(framing: CompFraming, buf: Uint8Array, len: number): number {
  if (len <= 0) return 0;
  const c = buf[0]!;
  switch (framing) {
    case 'lzo-stub':
      if (c !== NO_COMPRESS_BYTE) return c === LZO_COMPRESS_BYTE || c === LZ4_COMPRESS_BYTE ? UnframeError.Compressed : UnframeError.BadHeader;
      buf.copyWithin(0, 1, len);
      return len - 1;
    case 'stub':
      if (c !== NO_COMPRESS_BYTE_SWAP) return c === LZO_COMPRESS_BYTE || c === LZ4_COMPRESS_BYTE ? UnframeError.Compressed : UnframeError.BadHeader;
      buf[0] = buf[len - 1]!;
      return len - 1;
    case 'stub-v2':
      if (c !== COMP_V2_INDICATOR) return len;
      if (len < 2) return UnframeError.BadHeader;
      if (buf[1] !== COMP_V2_UNCOMPRESSED) return UnframeError.Compressed;
      buf.copyWithin(0, 2, len);
      return len - 2;
  }
}
