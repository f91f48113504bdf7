"""The witness over HTTP: C2SP tlog-witness ``POST /add-checkpoint``, on the standard library.

200 with the cosignature line; 400 for a request that does not follow the format; 403 when
no signature by the log's key verifies; 404 for an unknown origin; 409 with the witness's
size (``text/x.tlog.size``); 422 for a proof that does not show consistency. Requests are
served on threads; the witness's state transaction serialises them (audit/witness.py).
"""

from __future__ import annotations

import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from audit.witness import Conflict, Refusal, Witness
from ledger.witness_protocol import PATH, SIZE_CONTENT_TYPE, AddCheckpoint, ProtocolError

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 64 << 10  # a checkpoint, a few signatures and at most 63 proof lines


class WitnessServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, witness: Witness, address: tuple[str, int]) -> None:
        super().__init__(address, WitnessHandler)
        self.witness = witness


class WitnessHandler(BaseHTTPRequestHandler):
    server: WitnessServer
    protocol_version = "HTTP/1.1"  # keep-alive, as tlog-witness recommends

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        length = self.headers.get("Content-Length", "")
        if self.path != PATH or not length.isdigit() or int(length) > MAX_REQUEST_BYTES:
            self.close_connection = True  # the body is left unread: no next request on it
            if self.path != PATH:
                self._answer(404, f"no such endpoint: {self.path[:80]}\n")
            else:
                self._answer(400, f"a request needs a Content-Length up to {MAX_REQUEST_BYTES}\n")
            return
        try:
            request = AddCheckpoint.decode(self.rfile.read(int(length)))
            answer = self.server.witness.add_checkpoint(request)
        except ProtocolError as error:
            self._answer(400, f"{error}\n")
        except Conflict as conflict:
            self._answer(409, f"{conflict.size}\n", SIZE_CONTENT_TYPE)  # exactly this type
        except Refusal as refusal:
            self._answer(refusal.status, f"{refusal}\n")
        except Exception:  # the log sees a 500, the operator the traceback
            log.exception("add-checkpoint failed")
            self._answer(500, "internal error\n")
        else:
            self._answer(200, answer)

    def _answer(
        self, status: int, text: str, content_type: str = "text/plain; charset=utf-8"
    ) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        log.info("%s " + format, self.address_string(), *args)
