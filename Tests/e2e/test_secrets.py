"""No secret anywhere: an API key given through `from_env` and a JWKS URL from a sensitive variable
(it carries a token) appear in no process's environment or command line, in no file of the
environment folder, and in no output of any command, saved plan files included."""
import http.server
import os
import secrets
import json
import socketserver
import threading

from conftest import ROOT

EXAMPLES = os.path.join(ROOT, "examples")


def processes_under(state_dir, host_pid):
    """The host and every process whose parent chain leads to it."""
    parents = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = open(f"/proc/{d}/stat").read()
                parents[int(d)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                pass
    found = {host_pid}
    changed = True
    while changed:
        changed = False
        for pid, ppid in parents.items():
            if ppid in found and pid not in found:
                found.add(pid)
                changed = True
    return found


def test_no_secret_in_any_process_file_or_output(mlgw, tmp_path):
    key = "key-" + secrets.token_urlsafe(24)
    token = "tok-" + secrets.token_urlsafe(24)
    jwks = open(os.path.join(EXAMPLES, "keys", "jwks.json"), "rb").read()

    class JWKS(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if token in self.path else 403)
            self.end_headers()
            if token in self.path:
                self.wfile.write(jwks)

        def log_message(self, *args):
            pass

    server = socketserver.TCPServer(("127.0.0.1", 0), JWKS)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stack = tmp_path / "secret.yaml"
    stack.write_text(f"""stack: secret
variables:
  api_key: {{type: string, sensitive: true, from_env: SECRET_API_KEY}}
  jwks: {{type: string, sensitive: true, from_env: SECRET_JWKS_URL}}
models:
  m: {{runtime: linear, artifact: {EXAMPLES}/models/churn-v1.json}}
  own: {{command: [python3, {EXAMPLES}/servers/serve.py], environment: {{MODEL_DIR: {EXAMPLES}/servers/rules}},
        probe: {{content_type: text/csv, body: "12,80.5,3"}}}}
endpoints:
  churn: {{variants: {{a: {{model: m}}}}}}
  echo: {{variants: {{a: {{model: own}}}}}}
functions:
  score: {{runtime: python3, handler: score.handler, code: {EXAMPLES}/functions, provisioned_concurrency: 1,
          environment: {{ENDPOINT_NAME: "${{endpoints.churn.name}}"}}}}
gateway:
  usage_plans:
    p: {{throttle: {{rate: 10}}}}
  api_keys:
    ci: {{value: "${{var.api_key}}", usage_plan: p}}
  authorizers:
    idp: {{issuer: https://id.example.com, audiences: [api], jwks_url: "${{var.jwks}}"}}
  stages:
    v1:
      routes:
        POST /score: {{endpoint: churn, auth: api_key}}
        POST /fn: {{function: score, auth: idp}}
outputs:
  url: ${{stages.v1.url}}
  key_echo: {{value: "${{var.api_key}}"}}
""")
    env = {"SECRET_API_KEY": key, "SECRET_JWKS_URL": f"http://127.0.0.1:{server.server_address[1]}/jwks.json?token={token}"}
    try:
        outputs = []
        plan_file = tmp_path / "secret.plan"
        outputs.append(mlgw.run("validate", stack, env=env))
        outputs.append(mlgw.run("plan", stack, "--out", plan_file, env=env))
        outputs.append(mlgw.run("plan", stack, "--json", env=env))
        outputs.append(mlgw.run("apply", plan_file, env=env))
        outputs.append(mlgw.run("apply", stack, "--auto-approve", "--json", env=env))
        for args in (["status", stack, "--json"], ["status", stack], ["output", stack, "--json"], ["output", stack],
                     ["state", "list", stack], ["state", "show", stack, "stages.v1"], ["state", "show", stack, "api_keys.ci"],
                     ["logs", stack, "gateway"], ["logs", stack, "environment"], ["graph", stack]):
            outputs.append(mlgw.run(*args, env=env))
        host_pid = json.loads(mlgw.run("status", stack, "--json", env=env).stdout)["host"]["pid"]

        pids = processes_under(mlgw.state_dir, host_pid)
        assert len(pids) >= 4, pids  # the host, two model servers, a function worker
        for pid in pids:
            for part in ("environ", "cmdline"):
                try:
                    data = open(f"/proc/{pid}/{part}", "rb").read()
                except (FileNotFoundError, PermissionError):
                    continue
                assert key.encode() not in data and token.encode() not in data, f"a secret in /proc/{pid}/{part}"
        for root, _, files in os.walk(mlgw.state_dir):
            for name in files:
                data = open(os.path.join(root, name), "rb").read()
                assert key.encode() not in data and token.encode() not in data, f"a secret in {os.path.join(root, name)}"
        data = plan_file.read_bytes()
        assert key.encode() not in data and token.encode() not in data, "a secret in the saved plan"
        for p in outputs:
            assert key not in p.stdout + p.stderr and token not in p.stdout + p.stderr, f"a secret in the output of {p.args}"
        assert "(sensitive value)" in mlgw.run("output", stack, env=env).stdout
        # Destroy works without the secrets.
        mlgw.run("destroy", stack, "--auto-approve", env=env)
    finally:
        server.shutdown()
