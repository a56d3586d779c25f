"""The recording corpus: the registry, the fetch helper (benchmarks/data.py), tests/data, the corpus marker.

No network here: fetching is tried from a ``file://`` mirror built in tmp_path out of the bundled recordings,
with pooch's SHA-256 check doing the work it does on a real download.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from benchmarks import data
from tests.support.shared_data import BUNDLED, shared

REGISTRY = data.load_registry()
BY_PATH = {entry.path: entry for entry in REGISTRY}
# folders of tests/data holding cuts of corpus files (tests/data/README.md), not whole copies
EXCERPTS = ("physionet_mitdb_5min", "physionet_rr_healthy_subjects_heads", "polar_h10_detectPVC_60s")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def registry_sha256(relative: str, path: Path) -> str:
    """The SHA-256 as the registry states it: the ltdb headers are hashed as upstream serves them (CRLF)."""
    content = path.read_bytes()
    if relative.startswith("physionet_ltdb/") and relative.endswith(".hea") and b"\r\n" not in content:
        content = content.replace(b"\n", b"\r\n")
    return hashlib.sha256(content).hexdigest()


def test_the_registry_names_each_file_once_with_a_source() -> None:
    assert len(BY_PATH) == len(REGISTRY) > 480
    for entry in REGISTRY:
        assert entry.source is None or entry.source.startswith(("https://", data.REPO_PREFIX)), entry
    not_fetched = sorted(entry.path for entry in REGISTRY if entry.source is None)
    # mirror-only PhysioNet side files, and the one file converted from R data (an excerpt is bundled)
    assert not_fetched == [
        *(
            f"physionet_{db}/{name}"
            for db in ("chf2db", "nsr2db")
            for name in ("DOI", "HEADER.shtml", "SHA256SUMS")
        ),
        "polar_h10_detectPVC/polar_h10_ecg_hr_rr.csv",
    ]


def test_every_file_the_registry_copies_from_the_repository_is_here_unchanged() -> None:
    copied = [entry for entry in REGISTRY if entry.source and entry.source.startswith(data.REPO_PREFIX)]
    assert len(copied) >= 15
    for entry in copied:
        source = str(entry.source).removeprefix(data.REPO_PREFIX)
        assert sha256(data.REPO / source) == entry.sha256, entry.path


def test_whole_recordings_in_tests_data_are_byte_copies_of_the_corpus() -> None:
    """Every bundled file that keeps its corpus name is the corpus file (kubios_pyhrv has its own SOURCE)."""
    renamed = {"kubios_pyhrv/series_1.npy": "kubios_reference/series_1.npy"}
    renamed["kubios_pyhrv/SampleNNISeriesShort.npy"] = "kubios_reference/SampleNNISeriesShort.npy"
    checked = 0
    for path in sorted(BUNDLED.rglob("*")):
        relative = path.relative_to(BUNDLED).as_posix()
        if path.is_dir() or path.parent == BUNDLED or relative.startswith(EXCERPTS):
            continue  # tests/data's own README.md and make_excerpts.py, and the cuts
        corpus_name = renamed.get(relative, relative)
        if corpus_name in BY_PATH:
            assert registry_sha256(corpus_name, path) == BY_PATH[corpus_name].sha256, relative
            checked += 1
    assert checked >= 25


def test_tests_data_stays_a_few_megabytes() -> None:
    size = sum(path.stat().st_size for path in BUNDLED.rglob("*") if path.is_file())
    assert size < 5_000_000, f"tests/data holds {size / 1e6:.1f} MB"


def _mirror(tmp_path: Path, paths: list[str]) -> Path:
    """A mirror on disk holding ``paths`` (taken from tests/data, where they are whole copies)."""
    mirror = tmp_path / "mirror"
    for relative in paths:
        target = mirror / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        source = (
            BUNDLED / relative if relative != "README.md" else data.REPO / "benchmarks" / "corpus" / relative
        )
        target.write_bytes(source.read_bytes())
    return mirror


def test_fetch_from_a_mirror_checks_every_hash_and_skips_what_is_already_there(tmp_path: Path) -> None:
    wanted = ["physionet_nsr2db/nsr001.ecg", "physionet_nsr2db/nsr001.hea", "hrm_captures/captures.json"]
    mirror = _mirror(tmp_path, wanted)
    entries = [BY_PATH[path] for path in wanted]
    calls: list[str] = []

    def counting(url: str, output_file: str, pooch: object = None) -> None:
        calls.append(url)
        data.copy_downloader(url, output_file, pooch)

    target = tmp_path / "corpus"
    report = data.fetch(target, entries, mirror=mirror.as_uri(), downloader=counting, say=lambda _: None)
    assert report.in_place == tuple(wanted) and report.not_fetched == ()
    assert calls == [f"{mirror.as_uri()}/{path}" for path in wanted]
    for path in wanted:
        assert sha256(target / path) == BY_PATH[path].sha256
    data.fetch(target, entries, mirror=mirror.as_uri(), downloader=counting, say=lambda _: None)
    assert len(calls) == 3  # right hashes already there: nothing downloaded again

    # a mirror serving other bytes is refused, and the good copy already fetched is not touched
    (mirror / wanted[0]).write_bytes(b"not the annotation file")
    (target / wanted[0]).unlink()
    with pytest.raises(ValueError, match=r"nsr001\.ecg"):
        data.fetch(target, entries[:1], mirror=mirror.as_uri(), say=lambda _: None)
    assert not (target / wanted[0]).exists()
    assert sha256(target / wanted[1]) == BY_PATH[wanted[1]].sha256


def test_fetch_copies_repository_files_and_lists_what_it_cannot_get(tmp_path: Path) -> None:
    entries = data.select(REGISTRY, ["polar_h10_detectPVC"])
    assert {entry.path for entry in entries} >= {"README.md", "polar_h10_detectPVC/polar_h10_rr_only.csv"}
    report = data.fetch(tmp_path, entries, say=lambda _: None)  # everything here comes from the repository
    assert report.not_fetched == ("polar_h10_detectPVC/polar_h10_ecg_hr_rr.csv",)
    assert (tmp_path / "README.md").is_file()
    assert sha256(tmp_path / "polar_h10_detectPVC" / "polar_h10_rr_only.csv") == sha256(
        BUNDLED / "polar_h10_detectPVC" / "polar_h10_rr_only.csv"
    )
    with pytest.raises(ValueError, match="no corpus folder nope"):
        data.select(REGISTRY, ["nope"])


def test_the_command_fetches_into_restbeat_shared_data_and_then_finds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mirror = _mirror(tmp_path, ["README.md", "hrm_captures/SOURCE.txt", "hrm_captures/captures.json"])
    target = tmp_path / "corpus"
    monkeypatch.setenv(data.ENV, str(target))
    assert data.main(["fetch", "--only", "hrm_captures", "--mirror", mirror.as_uri()]) == 0
    assert "3 file(s) in" in capsys.readouterr().out
    assert data.find_corpus() == target
    assert data.main(["where"]) == 0
    assert capsys.readouterr().out.strip() == str(target)
    (mirror / "hrm_captures" / "captures.json").write_text("{}")
    (target / "hrm_captures" / "captures.json").unlink()
    assert data.main(["fetch", "--only", "hrm_captures", "--mirror", mirror.as_uri()]) == 1
    err = capsys.readouterr().err
    assert err.startswith("benchmarks.data fetch: ") and "captures.json" in err and err.count("\n") == 1


def test_no_corpus_is_one_line_that_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(data.ENV, raising=False)
    monkeypatch.setattr(data, "REPO", tmp_path / "clone")
    monkeypatch.setattr(data, "cache_dir", lambda: tmp_path / "cache")
    assert data.find_corpus() is None
    assert data.main(["where"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "python -m benchmarks.data fetch" in err and data.ENV in err and str(tmp_path / "cache") in err


def test_an_unmarked_test_may_not_read_the_corpus() -> None:
    with pytest.raises(
        RuntimeError, match=r"test_an_unmarked_test_may_not_read_the_corpus reads the full corpus"
    ):
        shared("physionet_nsr2db")
    with pytest.raises(RuntimeError, match=r"mark it @pytest\.mark\.corpus"):
        data.corpus_path("physionet_nsr2db")  # the benchmarks' way in is guarded too


MARKED_SUITE = """
    import pytest

    from tests.support.shared_data import shared

    @pytest.mark.corpus
    def test_needs_the_corpus():
        assert shared("README.md").is_file()

    def test_bundled_only():
        pass
"""


@pytest.mark.parametrize("corpus_present", [False, True])
def test_corpus_tests_skip_with_the_fetch_command_where_the_corpus_is_missing_and_run_where_it_is(
    tmp_path: Path, corpus_present: bool
) -> None:
    corpus, suite = tmp_path / "corpus", tmp_path / "suite"
    corpus.mkdir()
    suite.mkdir()
    if corpus_present:
        (corpus / "README.md").write_text("corpus\n")
    (suite / "conftest.py").write_text(
        "from benchmarks import data\n"
        f"data.candidates = lambda: [data.Path({str(corpus)!r})]\n"
        "from tests.conftest import (\n"
        "    pytest_collection_modifyitems, pytest_runtest_setup, pytest_runtest_teardown,\n"
        ")\n"
    )
    (suite / "pytest.ini").write_text("[pytest]\nmarkers =\n    corpus: the full corpus\n")
    (suite / "test_marked.py").write_text(textwrap.dedent(MARKED_SUITE))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-rs", "-q", "-p", "no:cacheprovider", str(suite)],
        cwd=suite,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(data.REPO)},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    if corpus_present:
        assert "2 passed" in result.stdout
    else:
        assert "1 passed, 1 skipped" in result.stdout
        assert "recording corpus not found" in result.stdout
        assert "python -m benchmarks.data fetch" in result.stdout and data.ENV in result.stdout


@pytest.mark.corpus
def test_the_corpus_here_matches_the_registry() -> None:
    """Every file of the corpus in use is in the registry with its SHA-256 (ltdb headers: upstream's CRLF)."""
    corpus = shared("README.md").parent
    files = sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*") if p.is_file())
    assert set(files) <= set(BY_PATH)
    for relative in files:
        assert registry_sha256(relative, corpus / relative) == BY_PATH[relative].sha256, relative
