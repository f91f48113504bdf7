// A huiyan receipt checked in the browser (docs/web/compliance.md): the checkpoint's Ed25519
// signature by one of the ledger's public keys (C2SP signed note), then the RFC 9162 inclusion
// of the event's leaf under the checkpoint's root (SHA-256). WebCrypto does both; nothing is
// sent anywhere. A browser without Ed25519 in WebCrypto gets the code "unsupported", and the
// page asks the site's own check instead (POST /ledger/receipt).
//
// verifyReceipt(receipt, vkeys) is a pure function: a receipt object and the ledger's verifier
// key lines in, {ok, code, detail} out. The codes are those of services/ledger_view.py:
// shape, checkpoint, size, signature, inclusion (and unsupported).
"use strict";

(function (root) {
  const FORMAT = "huiyan-receipt/v1";
  const DASH = "\u2014 ";
  const subtle = root.crypto && root.crypto.subtle;

  class Invalid extends Error {
    constructor(code, detail) {
      super(detail);
      this.code = code;
    }
  }

  const encoder = new TextEncoder();

  function fromHex(text, what) {
    if (typeof text !== "string" || !/^[0-9a-fA-F]{64}$/.test(text)) {
      throw new Invalid("shape", what + " must hold 64 hexadecimal digits");
    }
    const bytes = new Uint8Array(32);
    for (let i = 0; i < 32; i++) bytes[i] = parseInt(text.substr(i * 2, 2), 16);
    return bytes;
  }

  function toHex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function fromBase64(text) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
    const binary = root.atob(text);
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  }

  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  function equal(a, b) {
    return a.length === b.length && a.every((v, i) => v === b[i]);
  }

  async function sha256(bytes) {
    return new Uint8Array(await subtle.digest("SHA-256", bytes));
  }

  // A C2SP vkey line: <name>+<8 hex key id>+base64(0x01 || Ed25519 public key).
  async function parseKey(line) {
    const parts = line.trim().split("+");
    if (parts.length < 3) return null;
    const name = parts[0];
    const id = parts[1];
    const raw = fromBase64(parts.slice(2).join("+"));
    if (!raw || raw.length !== 33 || raw[0] !== 1) return null;
    const hash = await sha256(concat(encoder.encode(name + "\n"), raw));
    if (toHex(hash.slice(0, 4)) !== id) return null;
    return { name, id, publicKey: raw.slice(1) };
  }

  function checkShape(receipt) {
    if (!receipt || typeof receipt !== "object" || Array.isArray(receipt)) {
      throw new Invalid("shape", "a receipt is a JSON object");
    }
    if ("format" in receipt && receipt.format !== FORMAT) {
      throw new Invalid("shape", "the receipt's format is not " + FORMAT);
    }
    for (const name of ["position", "tree_size"]) {
      const value = receipt[name];
      if (!Number.isSafeInteger(value) || value < 0) {
        throw new Invalid("shape", name + " must be a whole number");
      }
    }
    if (!Array.isArray(receipt.path) || receipt.path.length > 64) {
      throw new Invalid("shape", "path must be a list of hashes");
    }
    if (typeof receipt.checkpoint !== "string") {
      throw new Invalid("shape", "checkpoint must be the signed note's text");
    }
    return {
      position: receipt.position,
      size: receipt.tree_size,
      leaf: fromHex(receipt.leaf_hash, "leaf_hash"),
      path: receipt.path.map((node) => fromHex(node, "path")),
      note: receipt.checkpoint,
    };
  }

  // The note's text (with its final newline), its origin, size and root, and signature lines.
  function parseNote(note) {
    const cut = note.indexOf("\n\n");
    if (cut <= 0) throw new Invalid("checkpoint", "no blank line between text and signatures");
    const body = note.slice(0, cut) + "\n";
    const lines = body.split("\n").slice(0, -1);
    if (lines.length < 3) throw new Invalid("checkpoint", "it needs origin, size and root lines");
    const [origin, sizeText, rootText] = lines;
    if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) {
      throw new Invalid("checkpoint", "its tree size is not a decimal number");
    }
    const root = fromBase64(rootText);
    if (!root || root.length !== 32) throw new Invalid("checkpoint", "its root is not 32 bytes");
    const signatures = note.slice(cut + 2).split("\n").filter((line) => line !== "");
    return { body, origin, size: Number(sizeText), root, signatures };
  }

  async function checkSignature(parsed, keys) {
    const unknown = [];
    for (const line of parsed.signatures) {
      if (!line.startsWith(DASH)) throw new Invalid("signature", "a bad signature line");
      const rest = line.slice(DASH.length);
      const space = rest.lastIndexOf(" ");
      const name = rest.slice(0, space);
      const raw = fromBase64(rest.slice(space + 1));
      if (!raw) throw new Invalid("signature", "a signature is not base64");
      const id = toHex(raw.slice(0, 4));
      const key = keys.find((k) => k.id === id && k.name === name);
      if (!key) {
        unknown.push(id);
        continue;
      }
      let publicKey;
      try {
        publicKey = await subtle.importKey("raw", key.publicKey, { name: "Ed25519" }, false, [
          "verify",
        ]);
      } catch (error) {
        throw new Invalid("unsupported", "this browser has no Ed25519 in WebCrypto");
      }
      const good = await subtle.verify(
        { name: "Ed25519" },
        publicKey,
        raw.slice(4),
        encoder.encode(parsed.body),
      );
      if (!good) throw new Invalid("signature", "the signature by key " + id + " does not verify");
      return id;
    }
    throw new Invalid(
      "signature",
      "not signed by a ledger key (signed by: " + (unknown.join(", ") || "nobody") + ")",
    );
  }

  async function node(left, right) {
    return sha256(concat(Uint8Array.of(1), left, right));
  }

  // RFC 9162 §2.1.3.2.
  async function checkInclusion(leaf, index, size, path, rootHash) {
    if (!(index < size)) throw new Invalid("inclusion", "the position is not in the tree");
    let fn = index;
    let sn = size - 1;
    let result = leaf;
    for (const sibling of path) {
      if (sn === 0) throw new Invalid("inclusion", "the inclusion path is too long");
      if (fn % 2 === 1 || fn === sn) {
        result = await node(sibling, result);
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      } else {
        result = await node(result, sibling);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    if (sn !== 0) throw new Invalid("inclusion", "the inclusion path is too short");
    if (!equal(result, rootHash)) {
      throw new Invalid("inclusion", "the path does not lead to the checkpoint's root");
    }
  }

  async function verifyReceipt(receipt, vkeys) {
    try {
      if (!subtle) throw new Invalid("unsupported", "this browser has no WebCrypto");
      const given = checkShape(receipt);
      const parsed = parseNote(given.note);
      if (parsed.size !== given.size) {
        throw new Invalid("size", "the checkpoint is of size " + parsed.size);
      }
      const keys = (await Promise.all(vkeys.map(parseKey))).filter(Boolean);
      const keyId = await checkSignature(parsed, keys);
      await checkInclusion(given.leaf, given.position, given.size, given.path, parsed.root);
      return {
        ok: true,
        code: "ok",
        detail: "position " + given.position + " is in tree " + given.size + " (key " + keyId + ")",
      };
    } catch (error) {
      if (error instanceof Invalid) return { ok: false, code: error.code, detail: error.message };
      throw error;
    }
  }

  root.huiyanReceipt = { verifyReceipt };
  if (typeof module !== "undefined" && module.exports) module.exports = { verifyReceipt };

  // The page: a form[data-receipt-form] with a textarea "receipt", its result in
  // [data-receipt-result], the ledger's keys in [data-ledger-vkey], messages in data-msg-*.
  if (typeof document === "undefined") return;
  document.addEventListener("DOMContentLoaded", () => {
    const form = document.querySelector("form[data-receipt-form]");
    if (!form) return;
    const out = document.querySelector("[data-receipt-result]");
    const vkeys = Array.from(document.querySelectorAll("[data-ledger-vkey]"), (e) => e.textContent);

    function show(result, where) {
      const message = form.dataset["msg" + result.code[0].toUpperCase() + result.code.slice(1)];
      out.className = result.ok ? "card ok" : "card bad";
      out.textContent = (result.ok ? "✓ " : "✗ ") + (message || "") + " (" + result.detail + ")";
      out.dataset.code = result.code;
      out.dataset.where = where;
      out.hidden = false;
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      let receipt;
      try {
        receipt = JSON.parse(form.elements.receipt.value);
      } catch (error) {
        show({ ok: false, code: "shape", detail: "not JSON" }, "browser");
        return;
      }
      const result = await verifyReceipt(receipt, vkeys);
      if (result.code !== "unsupported") {
        show(result, "browser");
        return;
      }
      try {
        const answer = await fetch(form.action, {
          method: "POST",
          body: new FormData(form),
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        });
        show(await answer.json(), "server");
      } catch (error) {
        show({ ok: false, code: "server", detail: String(error) }, "server");
      }
    });
  });
})(typeof window !== "undefined" ? window : globalThis);
