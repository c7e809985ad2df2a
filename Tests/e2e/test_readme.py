"""The README's tours, pasted as a reader would: each shell block runs in one bash, command by
command, in a copy of stacks/ and examples/; every command must succeed, and the answers the README
shows in comments must be what the commands print."""
import json
import math
import os
import re
import shlex
import subprocess

import pytest

from conftest import BIN, ROOT

# A comment fragment naming one of these is an answer the README promises, checked word for word
# (whitespace aside); any other comment only explains.
PROMISES = ("Plan:", "No process", " -> ")


def shell_block(section):
    text = open(os.path.join(ROOT, "README.md")).read()
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```sh\n(.*?)```", body, re.S).group(1)


def commands(block):
    """(command, comment) pairs: continuation lines joined, comment-only lines dropped."""
    out, pending = [], ""
    for line in block.splitlines():
        if pending:
            line = pending + " " + line.strip()
            pending = ""
        if line.rstrip().endswith("\\"):
            pending = line.rstrip()[:-1]
            continue
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        command, comment = split_comment(line)
        out.append((command, comment))
    return out


def split_comment(line):
    """The command and its trailing comment: the first ' # ' outside quotes."""
    quote = None
    for i, c in enumerate(line):
        if quote:
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "#" and i > 0 and line[i - 1] == " ":
            return line[:i].rstrip(), line[i + 1:].strip()
    return line.rstrip(), ""


def squeeze(text):
    return " ".join(text.split())


def matches(expected, actual):
    if isinstance(expected, float):
        return isinstance(actual, (int, float)) and math.isclose(expected, actual, abs_tol=1e-4)
    return expected == actual


def run_block(section, workdir, state_dir, env=None):
    steps = commands(shell_block(section))
    outputs = workdir / f"out-{section.split()[-1]}"
    outputs.mkdir()
    script = ["set -uo pipefail", f'mlgw() {{ "{BIN}" "$@"; }}']
    for i, (command, _) in enumerate(steps):
        if command.startswith("alias mlgw="):
            continue  # the function above stands in for it (aliases do not expand in scripts)
        script.append(f'{{ {command} ; }} > "{outputs}/{i}" 2> "{outputs}/{i}.err" '
                      f'|| {{ echo README command failed: {shlex.quote(command)}; cat "{outputs}/{i}" "{outputs}/{i}.err"; exit 1; }}')
    p = subprocess.run(["bash", "-c", "\n".join(script)], cwd=workdir, capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, MLGW_STATE_DIR=state_dir, NO_COLOR="1", **(env or {})))
    assert p.returncode == 0, p.stdout + p.stderr
    for i, (command, comment) in enumerate(steps):
        if command.startswith("alias mlgw=") or not comment:
            continue
        printed = (outputs / str(i)).read_text()  # what it printed on stdout (curl's progress goes to stderr)
        if comment.startswith("{"):
            expected, actual = json.loads(comment), json.loads(printed)
            assert all(matches(v, actual.get(k)) for k, v in expected.items()), (command, comment, printed)
            continue
        for fragment in (f.strip() for f in comment.split("...")):
            if any(p in fragment for p in PROMISES):
                assert squeeze(fragment) in squeeze(printed), (command, fragment, printed)


def test_the_two_minute_tour_pastes_and_answers_as_shown(mlgw, workdir):
    mlgw.used.add((str(workdir / "stacks" / "quickstart.yaml"), "default"))
    run_block("A two-minute tour", workdir, mlgw.state_dir)


def test_the_gateway_tour_pastes_and_answers_as_shown(mlgw, workdir):
    pytest.importorskip("cryptography")
    mlgw.used.add((str(workdir / "stacks" / "fraud-gateway.yaml"), "default"))
    run_block("The gateway", workdir, mlgw.state_dir)


def test_the_feature_group_tour_pastes_and_answers_as_shown(mlgw, workdir):
    mlgw.used.add((str(workdir / "stacks" / "enterprise"), "default"))
    run_block("Feature groups", workdir, mlgw.state_dir)
    outputs = workdir / "out-groups"
    steps = commands(shell_block("Feature groups"))
    printed = {command: (outputs / str(i)).read_text() for i, (command, _) in enumerate(steps) if (outputs / str(i)).exists()}
    v3 = next(v for c, v in printed.items() if "$V3/score/c0001" in c)
    v2 = next(v for c, v in printed.items() if "$V2/score/c0001" in c)
    # Both paths score with the stored features (age 38, spend 853.08), each on the variant it names or picked.
    models = {v: json.load(open(os.path.join(ROOT, "examples", "models", f"enterprise-{m}.json"))) for v, m in [("current", "v1"), ("challenger", "v2")]}
    row = [120.5, 3, 0.4, 2, 38, 853.08]
    scores = {v: 1 / (1 + math.exp(-(sum(w * x for w, x in zip(m["coefficients"], row)) + m["intercept"]))) for v, m in models.items()}
    assert any(math.isclose(float(v3), s, rel_tol=1e-9) for s in scores.values()), (v3, scores)
    assert math.isclose(json.loads(v2)["fraud_probability"], scores[json.loads(v2)["variant"]], abs_tol=1e-6)
    export = next(v for c, v in printed.items() if "features export" in c)
    assert export.splitlines() == ["customer_id,label_time,age", "c0001,1800000000,38", "c0001,1900000001,39"]
    assert [f["ValueAsString"] for f in json.loads(next(v for c, v in printed.items() if "get-record" in c))["Record"]] == ["21", "65.19"]
