// What a file really is, from its first bytes (its "magic number"), not from its name or the type the
// browser guessed from the name. The server checks the same way (the filetype package) and refuses
// anything but a photo or a PDF, so the tablet checks before the dossier is sent. Pure.

export const HEAD_BYTES = 32;

const ascii = (b, start, end) => String.fromCharCode.apply(null, Array.from(b.slice(start, end)));

// The MIME type of these leading bytes, or null when they are none we know.
export function sniff(head) {
  const b = head instanceof Uint8Array ? head : new Uint8Array(head);
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "image/jpeg";
  if (b.length >= 8 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((x, i) => b[i] === x)) return "image/png";
  if (b.length >= 12 && ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 12) === "WEBP") return "image/webp";
  if (b.length >= 4 && ascii(b, 0, 4) === "%PDF") return "application/pdf";
  if (b.length >= 6 && (ascii(b, 0, 6) === "GIF87a" || ascii(b, 0, 6) === "GIF89a")) return "image/gif";
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return "image/bmp";
  if (b.length >= 12 && ascii(b, 4, 8) === "ftyp") {
    const brand = ascii(b, 8, 12);
    if (["heic", "heix", "hevc", "hevx"].includes(brand)) return "image/heic";
    if (["mif1", "msf1"].includes(brand)) return "image/heif";
    if (brand === "avif") return "image/avif";
  }
  if (b.length >= 2 && b[0] === 0x4d && b[1] === 0x5a) return "application/x-msdownload"; // "MZ": a Windows program
  if (b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04) return "application/zip";
  return null;
}

// What the tablet does with a file of this real type:
//   "keep"    send it as it is (the server accepts it),
//   "convert" a picture the browser can draw but the server refuses (GIF, BMP): redrawn as JPEG,
//   "refuse"  not a photo or a PDF: never sent.
export function decide(mime, accepted) {
  if (mime && accepted.includes(mime)) return "keep";
  if (mime === "image/gif" || mime === "image/bmp") return "convert";
  return "refuse";
}

export async function sniffBlob(blob) {
  return sniff(new Uint8Array(await blob.slice(0, HEAD_BYTES).arrayBuffer()));
}
