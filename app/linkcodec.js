// Links that carry data in the URL fragment (#names=..., #model=...): bytes compressed
// with the browser's CompressionStream ("deflate-raw") and written as base64url. The
// fragment never reaches a server. Decoding treats the text as a stranger's: the
// alphabet, the length and the decompressed size are all checked, and decompression
// stops as soon as it passes the limit (a small link must not inflate into gigabytes).

export class LinkError extends Error {
  constructor(message) {
    super(message);
    this.kind = "user";
  }
}

// Chromium accepts URLs of up to 2 MB; longer links would not survive being pasted.
export const MAX_LINK_CHARS = 2_000_000;

export async function compress(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

// The compressed bytes go in small pieces, only as fast as the output is read: deflate
// can grow a piece a thousandfold, and a link of 20 KB of zeros would otherwise inflate
// to gigabytes in one go before anyone could stop it.
const PIECE = 256;

function piecewise(bytes) {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.subarray(at, at + PIECE));
      at += PIECE;
    },
  }, { highWaterMark: 0 });
}

export async function decompress(bytes, maxBytes) {
  const reader = piecewise(bytes).pipeThrough(new DecompressionStream("deflate-raw")).getReader();
  const chunks = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        reader.cancel().catch(() => {});
        const error = new LinkError(`it unpacks to more than ${maxBytes.toLocaleString("en")} bytes, the limit for this kind of link`);
        error.tooBig = true;
        throw error;
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof LinkError) throw error;
    throw new LinkError("it is damaged and cannot be unpacked (was it copied whole?)");
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

export function toBase64(bytes, url = false) {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  const b64 = btoa(binary);
  return url ? b64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "") : b64;
}

export function fromBase64(text, url = false) {
  if (url && !/^[A-Za-z0-9_-]*$/.test(text)) {
    throw new LinkError("it contains characters a TinyGPT link never has (was it changed or cut?)");
  }
  if (url && text.length % 4 === 1) throw new LinkError("it is cut short or damaged");
  const b64 = url ? text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4) : text;
  let binary;
  try {
    binary = atob(b64);
  } catch {
    throw new LinkError("its encoding is broken (was it changed or cut?)");
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

// "#names=abc" -> {kind: "names", data: "abc"}; anything else (#models, #playground) -> null.
export function readFragment(hash = location.hash) {
  const match = /^#(names|model)=(.*)$/s.exec(hash);
  return match ? { kind: match[1], data: match[2] } : null;
}

export async function encodeFragment(kind, bytes) {
  return `#${kind}=${toBase64(await compress(bytes), true)}`;
}

// The bytes a fragment carries, or a LinkError saying what is wrong with it.
export async function decodeFragment(data, maxBytes) {
  if (!data) throw new LinkError("it is empty (the part after = is missing)");
  if (data.length > MAX_LINK_CHARS) {
    throw new LinkError(`it is ${data.length.toLocaleString("en")} characters long; the limit is ${MAX_LINK_CHARS.toLocaleString("en")}`);
  }
  return decompress(fromBase64(data, true), maxBytes);
}

// The page's own address without the fragment: what a shared link is built on.
export function pageAddress() {
  return location.href.split("#")[0];
}
