"""Files that appear complete or not at all: ``vitalproc._files.atomic_file``, used by every
writer of a file (exports, .vital files, datasets, quality tables, truth files)."""

from __future__ import annotations

import os
import stat

import pytest

from vitalproc._files import TMP_SUFFIX, atomic_file


def _beside(folder):
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def umask():
    """Set the process umask for one test, then put it back."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda mask: os.umask(mask)
    os.umask(old)


def test_a_complete_write_replaces_the_old_file_and_leaves_nothing_beside(tmp_path):
    dest = tmp_path / "out.bin"
    dest.write_bytes(b"old")
    with atomic_file(dest) as f:
        f.write(b"new")
        # the temporary name is in the same folder, hidden, with the known suffix
        (tmp,) = [n for n in _beside(tmp_path) if n != "out.bin"]
        assert tmp.startswith(".out.bin.") and tmp.endswith(TMP_SUFFIX)
        assert dest.read_bytes() == b"old"  # readers see the old file until the end
    assert dest.read_bytes() == b"new" and _beside(tmp_path) == ["out.bin"]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path, error):
    dest = tmp_path / "out.bin"
    dest.write_bytes(b"old")
    with pytest.raises(error), atomic_file(str(dest)) as f:
        f.write(b"half of the new")
        raise error("interrupted")
    assert dest.read_bytes() == b"old" and _beside(tmp_path) == ["out.bin"]


def test_an_interrupted_first_write_leaves_no_file(tmp_path):
    with pytest.raises(RuntimeError), atomic_file(tmp_path / "out.bin") as f:
        f.write(b"half")
        raise RuntimeError("interrupted")
    assert _beside(tmp_path) == []


def test_a_failed_rename_leaves_the_old_file_and_removes_the_temporary(tmp_path, monkeypatch):
    dest = tmp_path / "out.bin"
    dest.write_bytes(b"old")

    def failing_replace(src, dst):
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk gone"), atomic_file(dest) as f:
        f.write(b"new")
    assert dest.read_bytes() == b"old" and _beside(tmp_path) == ["out.bin"]


def test_the_data_reaches_the_disk_before_the_rename(tmp_path, monkeypatch):
    steps = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        steps.append(("fsync", os.fstat(fd).st_size))
        real_fsync(fd)

    def replace(src, dst):
        steps.append(("replace", os.path.getsize(src)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    with atomic_file(tmp_path / "out.bin") as f:
        f.write(b"x" * 100)  # still in the file object's buffer
    assert steps == [("fsync", 100), ("replace", 100)]
    steps.clear()
    with atomic_file(tmp_path / "export.bin", durable=False) as f:
        f.write(b"y" * 50)  # an export: renamed complete, not synced
    assert steps == [("replace", 50)]
    assert (tmp_path / "export.bin").read_bytes() == b"y" * 50


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_a_new_file_gets_the_usual_mode(tmp_path, umask, mask):
    umask(mask)
    with atomic_file(tmp_path / "new.bin") as f:
        f.write(b"x")
    assert stat.S_IMODE((tmp_path / "new.bin").stat().st_mode) == 0o666 & ~mask


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o755])
def test_a_replaced_file_keeps_its_mode(tmp_path, umask, mode):
    umask(0o022)
    dest = tmp_path / "out.bin"
    dest.write_bytes(b"old")
    dest.chmod(mode)
    with atomic_file(dest) as f:
        f.write(b"new")
    assert dest.read_bytes() == b"new"
    assert stat.S_IMODE(dest.stat().st_mode) == mode


def test_a_device_is_written_to_not_replaced(tmp_path):
    with atomic_file(os.devnull) as f:
        f.write(b"nothing")
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_a_missing_folder_is_an_error_and_creates_nothing(tmp_path):
    with pytest.raises(FileNotFoundError), atomic_file(tmp_path / "no" / "out.bin"):
        pass
    assert _beside(tmp_path) == []
