"""A state folder that cannot be written: on a read-only file system, or on a full disk. The error
says what happened, where and what to do, and nothing keeps running that the state does not
record. Uses a small tmpfs of its own (the machines that run CI allow root to mount one)."""
import os
import subprocess
import uuid

import pytest

from conftest import ROOT, live_processes


def can_mount():
    probe = f"/tmp/mlgw-mount-probe-{uuid.uuid4().hex}"
    os.makedirs(probe)
    try:
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", probe], capture_output=True).returncode == 0
        if ok:
            subprocess.run(["umount", probe])
        return ok
    finally:
        os.rmdir(probe)


needs_mount = pytest.mark.skipif(not can_mount(), reason="mounting a tmpfs needs root with CAP_SYS_ADMIN")


@pytest.fixture
def small_disk(tmp_path):
    folder = tmp_path / "disk"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        for pid, _ in live_processes(str(folder)):
            os.kill(pid, 9)
        subprocess.run(["umount", "-l", str(folder)])


def apply(state_dir):
    return subprocess.run([os.path.join(ROOT, ".build", "debug", "mlgw-deploy"), "apply", "stacks/quickstart.yaml", "--auto-approve"],
                          capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, MLGW_STATE_DIR=state_dir, NO_COLOR="1"), timeout=60)


@needs_mount
def test_a_read_only_state_folder_is_a_clear_error_and_starts_nothing(small_disk):
    state = small_disk / "state"
    state.mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    p = apply(str(state))
    assert p.returncode == 1
    assert "the file system is read-only" in p.stderr and "--state-dir" in p.stderr, p.stderr
    assert "Error Domain" not in p.stderr and "NSCocoaError" not in p.stderr
    assert not live_processes(str(small_disk))


@needs_mount
def test_a_full_disk_is_a_clear_error_and_leaves_nothing_running(small_disk):
    state = small_disk / "state"
    (state / "quickstart" / "default" / "logs").mkdir(parents=True)
    # Fill the disk completely: the host cannot even write its log.
    subprocess.run(["dd", "if=/dev/zero", f"of={small_disk}/fill", "bs=1k", "count=1024"], capture_output=True)
    p = apply(str(state))
    assert p.returncode == 1
    assert "is full" in p.stderr and "free space on the disk" in p.stderr, p.stderr
    assert not live_processes(str(small_disk))
    # Room for the host, not for the state: the host that started is stopped again.
    os.unlink(small_disk / "fill")
    subprocess.run(["dd", "if=/dev/zero", f"of={small_disk}/fill", "bs=1k", "count=240"], capture_output=True)
    p = apply(str(state))
    assert p.returncode == 1
    assert "the disk is full" in p.stderr, p.stderr
    assert not live_processes(str(small_disk))
    os.unlink(small_disk / "fill")
    p = apply(str(state))
    assert p.returncode == 0, p.stderr
    subprocess.run([os.path.join(ROOT, ".build", "debug", "mlgw-deploy"), "destroy", "stacks/quickstart.yaml", "--auto-approve"],
                   capture_output=True, cwd=ROOT, env=dict(os.environ, MLGW_STATE_DIR=str(state)), timeout=60)
