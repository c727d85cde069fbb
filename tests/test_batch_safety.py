"""Outputs that no neighbour, symlink, full disk or dead parent can break."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from classifier.batch import LabelError, label_file
from classifier.batch.writers import OutputLock
from classifier.predict import Classifier

TEXT = "My hamstrings are really sore after yesterday's deadlifts, nothing sharp."


def tickets_csv(path: Path, rows: int = 12, text: str = TEXT, noise: int = 0) -> Path:
    """``rows`` tickets; ``noise`` random hex characters per row keep them from compressing."""
    texts = [f"{text} {os.urandom(noise // 2).hex()}" if noise else text for _ in range(rows)]
    frame = pd.DataFrame({"id": [f"T{i:04d}" for i in range(rows)], "text": texts})
    frame.to_csv(path, index=False)
    return path


def test_a_second_run_on_the_same_output_refuses_at_once(
    classifier: Classifier, tmp_path: Path
) -> None:
    source = tickets_csv(tmp_path / "in.csv")
    target = tmp_path / "out.csv"
    other_run = OutputLock(target)
    other_run.acquire()
    try:
        with pytest.raises(LabelError, match=rf"another painclf run \(pid {os.getpid()}\)"):
            label_file(source, target, classifier=classifier, quiet=True)
        assert not target.exists()
    finally:
        other_run.release()
    label_file(source, target, classifier=classifier, quiet=True)
    assert len(pd.read_csv(target)) == 12
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_two_runs_never_share_a_partial_file(classifier: Classifier, tmp_path: Path) -> None:
    # The partial file used to be <out>.painclf-partial for every run; each run now
    # makes its own with mkstemp, so two outputs in one folder never mix.
    source = tickets_csv(tmp_path / "in.csv", rows=30)
    names: list[set[str]] = []

    def watch(chunks: int, rows: int) -> None:
        names.append({p.name for p in tmp_path.iterdir() if p.name.endswith("painclf-partial")})

    label_file(source, tmp_path / "a.csv", classifier=classifier, chunk_size=10, on_chunk=watch)
    label_file(source, tmp_path / "b.csv", classifier=classifier, chunk_size=10, on_chunk=watch)
    a, b = names[0], names[-1]
    assert len(a) == len(b) == 1 and a != b
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_a_planted_symlink_is_never_followed(classifier: Classifier, tmp_path: Path) -> None:
    source = tickets_csv(tmp_path / "in.csv")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    target = tmp_path / "out.csv"
    # The old fixed partial name, and a guess at the new pattern: neither is used.
    (tmp_path / ".out.csv.painclf-partial").symlink_to(victim)
    (tmp_path / ".out.csv.abc.painclf-partial").symlink_to(victim)
    label_file(source, target, classifier=classifier, quiet=True)
    assert victim.read_text(encoding="utf-8") == "precious"
    assert len(pd.read_csv(target)) == 12
    # A symlink at the lock's path is refused, not followed.
    (tmp_path / ".out2.csv.painclf-lock").symlink_to(victim)
    with pytest.raises(LabelError, match="symbolic link"):
        label_file(source, tmp_path / "out2.csv", classifier=classifier, quiet=True)
    assert victim.read_text(encoding="utf-8") == "precious"


def test_a_symlink_at_the_destination_is_replaced_not_written_through(
    classifier: Classifier, tmp_path: Path
) -> None:
    source = tickets_csv(tmp_path / "in.csv")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    target = tmp_path / "out.csv"
    target.symlink_to(victim)
    with pytest.raises(LabelError, match="already exists"):
        label_file(source, target, classifier=classifier, quiet=True)
    label_file(source, target, classifier=classifier, quiet=True, force=True)
    assert victim.read_text(encoding="utf-8") == "precious"
    assert not target.is_symlink() and len(pd.read_csv(target)) == 12


def test_an_output_that_is_a_directory_is_one_clear_error(
    classifier: Classifier, tmp_path: Path
) -> None:
    source = tickets_csv(tmp_path / "in.csv")
    (tmp_path / "existing_dir.csv").mkdir()
    with pytest.raises(LabelError, match="is a directory"):
        label_file(source, tmp_path / "existing_dir.csv", classifier=classifier, force=True)


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """A 256 kB tmpfs (root only; skipped otherwise)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet", ".csv.gz"])
def test_a_full_disk_is_one_line_and_leaves_nothing_behind(
    classifier: Classifier, tmp_path: Path, tiny_disk: Path, suffix: str
) -> None:
    source = tickets_csv(tmp_path / "in.csv", rows=600, noise=1200)
    target = tiny_disk / f"out{suffix}"
    with pytest.raises(LabelError) as error:
        label_file(source, target, classifier=classifier, chunk_size=50, quiet=True)
    message = str(error.value)
    assert "no space left" in message and str(tiny_disk) in message and "\n" not in message
    assert list(tiny_disk.iterdir()) == [], "the partial output must not keep the disk full"


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find the workers")
def test_workers_exit_when_their_parent_is_killed(model_dir: Path, tmp_path: Path) -> None:
    source = tickets_csv(tmp_path / "in.csv", rows=20_000)
    script = textwrap.dedent(
        f"""
        from classifier.batch import label_file
        label_file({str(source)!r}, {str(tmp_path / "out.csv")!r}, jobs=2, chunk_size=200,
                   model={str(model_dir)!r}, quiet=True)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    try:
        workers: list[int] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(workers) < 2:
            time.sleep(0.5)
            # loky starts the workers (and a resource tracker) as children of the run.
            workers = [p for p in _children(parent.pid) if "loky" in _cmdline(p)]
            assert parent.poll() is None, "the run ended before its workers were seen"
        assert len(workers) >= 2, "no worker processes started"
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(_alive(p) for p in workers):
            time.sleep(0.5)
        left = [p for p in workers if _alive(p)]
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        assert left == [], "workers outlived their parent"
    finally:
        if parent.poll() is None:
            parent.kill()


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
