import Foundation

/// The Python runtime that ships with mlgw-deploy: a Lambda Runtime API client in the standard
/// library only. The host writes it into the environment folder and runs `python3 bootstrap.py`
/// for each worker of a `runtime: python3` function, with `_HANDLER` naming `path/to/file.function`.
enum PythonBootstrap {
    static func install(in directory: String) throws -> String {
        let folder = directory + "/data/runtime"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/bootstrap.py"
        if (try? String(contentsOfFile: path, encoding: .utf8)) != source {
            try source.write(toFile: path + ".tmp", atomically: false, encoding: .utf8)
            guard rename(path + ".tmp", path) == 0 else { throw CocoaError(.fileWriteUnknown) }
        }
        return path
    }

    static let source = #"""
"""mlgw-deploy's Python runtime: runs `_HANDLER` (path/to/file.function) against the Lambda
Runtime API at AWS_LAMBDA_RUNTIME_API, one event at a time, as AWS Lambda's python runtime does."""
import http.client
import importlib.util
import json
import os
import sys
import time
import traceback

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
HOST, PORT = API.rsplit(":", 1)
BASE = "/2018-06-01/runtime"
_conn = None


def call(method, path, body=None, headers=None):
    """One Runtime API call over a kept-alive connection (reopened once if it was dropped)."""
    global _conn
    for attempt in (0, 1):
        if _conn is None:
            _conn = http.client.HTTPConnection(HOST, int(PORT))
        try:
            _conn.request(method, BASE + path, body=body, headers=headers or {})
            response = _conn.getresponse()
            return response, response.read()
        except (http.client.HTTPException, OSError):
            _conn.close()
            _conn = None
            if attempt:
                raise


class LambdaContext:
    def __init__(self, request_id, deadline_ms, arn, client_context):
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.invoked_function_arn = arn
        self.aws_request_id = request_id
        self.identity = None
        self.client_context = json.loads(client_context) if client_context else None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))


def error_body(exc, request_id=None):
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != __file__]
    body = {"errorMessage": str(exc), "errorType": type(exc).__name__, "stackTrace": traceback.format_list(frames)}
    if request_id:
        body["requestId"] = request_id
    return body


def log_error(body):
    sys.stderr.write("[ERROR] %s: %s\n%s" % (body["errorType"], body["errorMessage"], "".join(body["stackTrace"])))
    sys.stderr.flush()


def load_handler():
    spec = os.environ["_HANDLER"]
    module_path, _, function_name = spec.rpartition(".")
    root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    file = os.path.join(root, module_path + ".py")
    for folder in (os.path.dirname(file), root):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    module_spec = importlib.util.spec_from_file_location(module_path.replace("/", "."), file)
    if module_spec is None:
        raise ImportError("Unable to import module '%s': no file %s" % (module_path, file))
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_spec.name] = module
    module_spec.loader.exec_module(module)
    handler = getattr(module, function_name, None)
    if handler is None:
        raise AttributeError("Handler '%s' missing on module '%s'" % (function_name, module_path))
    return handler


def main():
    try:
        handler = load_handler()
    except Exception as exc:  # the runtime reports it and exits, as Lambda's does
        body = error_body(exc)
        kind = "Runtime.UserCodeSyntaxError" if isinstance(exc, SyntaxError) else "Runtime.ImportModuleError"
        body["errorType"] = kind
        log_error(body)
        call("POST", "/init/error", json.dumps(body), {"Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": kind})
        sys.exit(1)
    while True:
        response, data = call("GET", "/invocation/next")
        request_id = response.getheader("Lambda-Runtime-Aws-Request-Id")
        trace = response.getheader("Lambda-Runtime-Trace-Id")
        if trace:
            os.environ["_X_AMZN_TRACE_ID"] = trace
        context = LambdaContext(request_id, int(response.getheader("Lambda-Runtime-Deadline-Ms") or 0),
                                response.getheader("Lambda-Runtime-Invoked-Function-Arn") or "",
                                response.getheader("Lambda-Runtime-Client-Context"))
        try:
            event = json.loads(data) if data else {}
            result = handler(event, context)
            payload = json.dumps(result)
        except Exception as exc:
            body = error_body(exc, request_id)
            log_error(body)
            call("POST", "/invocation/%s/error" % request_id, json.dumps(body),
                 {"Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": "Unhandled"})
            continue
        call("POST", "/invocation/%s/response" % request_id, payload, {"Content-Type": "application/json"})


if __name__ == "__main__":
    main()
"""#
}
