"""A bring-your-own model server, standard library only, honouring SageMaker's container contract:

- listens on 127.0.0.1:$SAGEMAKER_BIND_TO_PORT (8080 when unset);
- GET /ping answers 200 once the model is loaded;
- POST /invocations takes CSV rows of numbers and answers one score per line (text/csv), or
  {"instances": [[...]]} and answers {"predictions": [...]} (application/json);
- stops on SIGTERM.

The "model" is a small rule set read from $SM_MODEL_DIR/rules.json (the folder the stack's
`artifact:` becomes, as SageMaker's /opt/ml/model; $MODEL_DIR or ./rules next to this file when
unset): a weighted sum of the features squashed to (0, 1). A row that is exactly `fail` answers
500, to show how a failing model looks to callers (a ModelError with the original status and
message).

Asked for `Accept: application/jsonlines`, it streams: one JSON line per row, each sent as its own
HTTP chunk as soon as it is scored (what InvokeEndpointWithResponseStream relays as PayloadParts).
A `fail` row in a streamed request breaks the connection after the rows before it, to show a
model failing mid-stream.

With SAGEMAKER_MULTI_MODEL=true it is a multi-model server instead, with the multi-model container
API: POST /models {"model_name", "url"} loads a rules file (409 if loaded, 507 beyond
MAX_MODELS), GET /models lists them, DELETE /models/{name} unloads one (404 if not loaded), and
POST /models/{name}/invoke scores with it (404 if it is not loaded).
"""
import json
import math
import os
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MULTI_MODEL = os.environ.get("SAGEMAKER_MULTI_MODEL", "").lower() == "true"
MAX_MODELS = int(os.environ.get("MAX_MODELS", "1000"))
MODEL_DIR = (os.environ.get("SM_MODEL_DIR") or os.environ.get("MODEL_DIR")
             or os.path.join(os.path.dirname(os.path.abspath(__file__)), "rules"))
RULES = None
if not MULTI_MODEL:
    with open(os.path.join(MODEL_DIR, "rules.json")) as f:
        RULES = json.load(f)
LOADED = {}  # multi-model: name -> rules
LOCK = threading.Lock()


def score(row, rules=None):
    rules = rules or RULES
    z = rules["bias"] + sum(w * x for w, x in zip(rules["weights"], row))
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
        elif MULTI_MODEL and self.path == "/models":
            with LOCK:
                names = sorted(LOADED)
            self.answer(200, json.dumps({"models": [{"modelName": n} for n in names]}), "application/json")
        else:
            self.answer(404, "not found")

    def do_DELETE(self):
        name = urllib.parse.unquote(self.path[len("/models/"):]) if self.path.startswith("/models/") else None
        with LOCK:
            found = name is not None and LOADED.pop(name, None) is not None
        self.answer(200 if found else 404, json.dumps({"message": f"{'unloaded' if found else 'not loaded'}: {name}"}), "application/json")

    def load(self):
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        name, url = request.get("model_name"), request.get("url")
        with LOCK:
            if name in LOADED:
                self.answer(409, json.dumps({"message": f"{name} is already loaded"}), "application/json")
                return
            if len(LOADED) >= MAX_MODELS:
                self.answer(507, json.dumps({"message": "out of memory for models"}), "application/json")
                return
        try:
            with open(url) as f:
                rules = json.load(f)
        except (OSError, ValueError, TypeError) as e:
            self.answer(404, json.dumps({"message": f"cannot load {name} from {url}: {e}"}), "application/json")
            return
        with LOCK:
            LOADED[name] = rules
        self.answer(200, json.dumps({"message": f"loaded {name}"}), "application/json")

    def do_POST(self):
        if MULTI_MODEL:
            if self.path == "/models":
                self.load()
                return
            if self.path.startswith("/models/") and self.path.endswith("/invoke"):
                name = urllib.parse.unquote(self.path[len("/models/"):-len("/invoke")])
                with LOCK:
                    rules = LOADED.get(name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                if rules is None:
                    self.answer(404, f"model {name} is not loaded")
                    return
                rows = [[float(v) for v in line.split(",")] for line in body.splitlines() if line.strip()]
                self.answer(200, "\n".join(f"{score(r, rules):.6f}" for r in rows) + "\n", "text/csv")
                return
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
    what = f"multi-model, up to {MAX_MODELS} models" if MULTI_MODEL else f"{len(RULES['weights'])} weights"
    print(f"rules server listening on 127.0.0.1:{port} ({what})", flush=True)
    server.serve_forever()
    print("rules server stopped", flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
