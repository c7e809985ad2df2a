"""Plans for review: `plan --format markdown` is the pull-request comment (golden files hold its
exact text for every case in Tests/ReconcilerTests/Fixtures/plan; here the command itself)."""
import os

from conftest import ROOT

STACK = os.path.join(ROOT, "stacks", "quickstart.yaml")


def test_plan_as_markdown_for_a_pull_request(mlgw):
    p = mlgw.run("plan", STACK, "--format", "markdown", "--detailed-exitcode", check=False)
    assert p.returncode == 2, p.stderr
    text = p.stdout
    assert text.startswith("### mlgw-deploy plan: stack `quickstart`, environment `default`\n")
    assert "#### Risks\n\nNone: nothing is replaced or destroyed" in text
    assert "<details><summary><code>+ endpoints." in text and "| + | <code>" in text
    assert "\x1b[" not in text  # no colour codes in a comment
    same = mlgw.run("plan", STACK, "--format", "markdown", check=False).stdout
    assert same == text


def test_plan_formats_are_checked(mlgw):
    p = mlgw.run("plan", STACK, "--format", "yaml", check=False)
    assert p.returncode != 0 and "--format must be text, json or markdown, not 'yaml'" in p.stderr
    p = mlgw.run("plan", STACK, "--format", "markdown", "--json", check=False)
    assert p.returncode != 0 and "disagree" in p.stderr
    assert mlgw.run("plan", STACK, "--format", "json").stdout.lstrip().startswith("{")


CI = os.path.join(ROOT, "examples", "ci", "scripts")


def script(mlgw, name, *args, env=None, check=True):
    import subprocess
    from conftest import BIN
    full = dict(os.environ, MLGW_STATE_DIR=mlgw.state_dir, MLGW_DEPLOY=BIN, NO_COLOR="1", **(env or {}))
    p = subprocess.run([os.path.join(CI, name), *map(str, args)], capture_output=True, text=True, env=full, cwd=ROOT, timeout=300)
    if check:
        assert p.returncode == 0, f"{name} {args} exited {p.returncode}\n{p.stdout}\n{p.stderr}"
    return p


def test_the_ci_scripts_plan_post_apply_and_bring_environments_up_and_down(mlgw, tmp_path):
    out = tmp_path / "plan-output"
    mlgw.used.add((STACK, "default"))
    script(mlgw, "plan.sh", STACK, env={"OUT_DIR": str(out)})
    assert (out / "has-changes").read_text().strip() == "true"
    comment = (out / "plan.md").read_text()
    assert comment.startswith("### mlgw-deploy plan: stack `quickstart`") and "#### Risks" in comment
    assert (out / "plan.bin").stat().st_size > 0
    p = script(mlgw, "apply.sh", out)
    assert "Apply complete" in p.stdout or "apply complete" in p.stdout.lower(), p.stdout
    # Planned again after the apply: nothing to do, and apply.sh says so without applying.
    script(mlgw, "plan.sh", STACK, env={"OUT_DIR": str(out)})
    assert (out / "has-changes").read_text().strip() == "false"
    assert "No changes." in (out / "plan.md").read_text()
    assert "no changes" in script(mlgw, "apply.sh", out).stdout
    # A broken stack fails the plan step with validate's located errors.
    bad = tmp_path / "bad.yaml"
    bad.write_text("stack: bad\nmodels:\n  m: {runtime: linear, artifact: nowhere.json}\n")
    p = script(mlgw, "plan.sh", bad, env={"OUT_DIR": str(tmp_path / "bad-output")}, check=False)
    assert p.returncode == 1 and "bad.yaml:3:" in p.stderr
    # A per-pull-request environment: up, tests against its outputs, down.
    mlgw.used.add((STACK, "pr-7"))
    script(mlgw, "pr-env.sh", "up", STACK, 7)
    assert mlgw.status(STACK, env="pr-7")["running"]
    probe = tmp_path / "probe.sh"
    probe.write_text('#!/usr/bin/env bash\nset -e\ntest -n "$MLGW_AWS_URL"\npython3 -c "import os, urllib.request; urllib.request.urlopen(os.environ[\'MLGW_AWS_URL\'] + \'/metrics\', timeout=5).read()"\necho "tested $MLGW_AWS_URL"\n')
    probe.chmod(0o755)
    p = script(mlgw, "pr-env.sh", "test", STACK, 7, probe)
    assert "tested http://127.0.0.1:" in p.stdout
    failing = script(mlgw, "pr-env.sh", "test", STACK, 7, "false", check=False)
    assert failing.returncode != 0
    script(mlgw, "pr-env.sh", "down", STACK, 7)
    assert not mlgw.status(STACK, env="pr-7")["running"]
    # The default environment is untouched by pr-7's life.
    assert mlgw.status(STACK)["running"]


def test_the_example_workflows_call_the_tested_scripts():
    import yaml
    for name in ["plan-on-pull-request.yml", "environment-per-pull-request.yml"]:
        workflow = yaml.safe_load(open(os.path.join(ROOT, "examples", "ci", name)))
        runs = [step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"]]
        assert runs and all("examples/ci/scripts/" in r or "gh pr comment" in r for r in runs if r), runs
        for r in runs:
            for word in r.split():
                if word.startswith("examples/ci/scripts/"):
                    assert os.access(os.path.join(ROOT, word), os.X_OK), word
