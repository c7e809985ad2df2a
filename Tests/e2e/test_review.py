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
