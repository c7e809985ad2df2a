"""A bring-your-own model server, standard library only, honouring SageMaker's container contract:

- listens on 127.0.0.1:$SAGEMAKER_BIND_TO_PORT (8080 when unset);
- GET /ping answers 200 once the model is loaded;
- POST /invocations takes CSV rows of numbers and answers one score per line (text/csv), or
  {"instances": [[...]]} and answers {"predictions": [...]} (application/json);
- stops on SIGTERM.

The "model" is a small rule set read from $MODEL_DIR/rules.json: a weighted sum of the features
squashed to (0, 1). A row that is exactly `fail` answers 500, to show how a failing model looks to
callers (a ModelError with the original status and message).

Asked for `Accept: application/jsonlines`, it streams: one JSON line per row, each sent as its own
HTTP chunk as soon as it is scored (what InvokeEndpointWithResponseStream relays as PayloadParts).
A `fail` row in a streamed request breaks the connection after the rows before it, to show a
model failing mid-stream.
"""
import json
import math
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL_DIR = os.environ.get("MODEL_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "rules"))
with open(os.path.join(MODEL_DIR, "rules.json")) as f:
    RULES = json.load(f)


def score(row):
    z = RULES["bias"] + sum(w * x for w, x in zip(RULES["weights"], row))
    return 1 / (1 + math.exp(-z))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, body, content_type="text/plain"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/ping":
            self.answer(200, "")
        else:
            self.answer(404, "not found")

    def do_POST(self):
        if self.path != "/invocations":
            self.answer(404, "not found")
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        content_type = self.headers.get("Content-Type", "text/csv")
        if self.headers.get("Accept", "") == "application/jsonlines":
            self.stream([line.strip() for line in body.splitlines() if line.strip()])
            return
        try:
            if content_type.startswith("application/json"):
                rows = json.loads(body)["instances"]
            else:
                lines = [line.strip() for line in body.splitlines() if line.strip()]
                if "fail" in lines:
                    self.answer(500, "injected failure: the rules engine crashed on this row")
                    return
                rows = [[float(v) for v in line.split(",")] for line in lines]
            if any(len(r) != len(RULES["weights"]) for r in rows):
                raise ValueError(f"each row needs {len(RULES['weights'])} values")
        except (ValueError, KeyError) as e:
            self.answer(400, f"bad input: {e}")
            return
        scores = [score(r) for r in rows]
        if "application/json" in self.headers.get("Accept", "") or content_type.startswith("application/json"):
            self.answer(200, json.dumps({"predictions": scores}), "application/json")
        else:
            self.answer(200, "\n".join(f"{s:.6f}" for s in scores) + "\n", "text/csv")

    def stream(self, lines):
        self.send_response(200)
        self.send_header("Content-Type", "application/jsonlines")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for line in lines:
            if line == "fail":
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)  # no final chunk: the stream breaks here
                return
            row = [float(v) for v in line.split(",")]
            chunk = (json.dumps({"row": row, "score": round(score(row), 6)}) + "\n").encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
            time.sleep(0.01)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def log_message(self, fmt, *args):
        pass  # one line per request would drown the log


def main():
    port = int(os.environ.get("SAGEMAKER_BIND_TO_PORT", "8080"))
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"rules server listening on 127.0.0.1:{port} with {len(RULES['weights'])} weights", flush=True)
    server.serve_forever()
    print("rules server stopped", flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
