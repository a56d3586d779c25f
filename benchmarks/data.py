"""The full recording corpus for the benchmarks and the corpus tests: where it is, and how to fetch it.

    python -m benchmarks.data where                 # the corpus in use, or how to get one
    python -m benchmarks.data fetch [--to DIR] [--only FOLDER ...] [--mirror URL]

The corpus (about 37 MB: PhysioNet nsr2db, chf2db, ltdb, mitdb and RR healthy subjects, GUDB R-peak
annotations, NeuroKit2 example data, pyHRV's Kubios reference, detectPVC's Polar H10 recording, strap
payloads) is looked up in order: the directory named by ``RESTBEAT_SHARED_DATA``, ``../shared/data``
beside the repository, and the fetch cache (``platformdirs.user_cache_path("restbeat") / "corpus"``).  A
directory is a corpus when it holds the corpus README.md.

``fetch`` downloads every file of ``corpus_registry.txt`` from its public URL into ``--to`` (default:
``RESTBEAT_SHARED_DATA`` if set, else the fetch cache), checks each against its SHA-256 (pooch; a file already
there with the right hash is not downloaded again, a wrong one is replaced), and copies the corpus
documentation and the recordings bundled in this repository from here.  ``--mirror URL`` fetches every file
from ``URL/<path>`` instead (a lab server, or ``file:///DIR`` for a copy on disk), still hash-checked.
pooch is the optional ``data`` extra: ``pip install -e '.[data]'``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

ENV = "RESTBEAT_SHARED_DATA"
REPO = Path(__file__).resolve().parents[1]
REGISTRY = Path(__file__).with_name("corpus_registry.txt")
REPO_PREFIX = "repo:"
FETCH_HINT = f"`python -m benchmarks.data fetch` (needs `pip install -e '.[data]'`), or set {ENV} to a copy"

Downloader = Callable[[str, str, Any], None]

# Called before every read of the corpus: the test suite installs one that refuses tests not marked `corpus`
# (tests/support/shared_data.py), so that no default test needs the corpus through a benchmark helper.
access_guard: Callable[[], None] | None = None


class CorpusMissingError(FileNotFoundError):
    """No corpus directory was found; the message says where it looked and how to get one."""


@dataclass(frozen=True)
class CorpusFile:
    """One registry line: where the file sits in the corpus, its SHA-256, and where to get it.

    ``source`` is an https URL, ``repo:PATH`` (copied from this repository), or None (not fetched: the
    registry comment above the line says why).
    """

    path: str
    sha256: str
    source: str | None

    @property
    def folder(self) -> str:
        return self.path.split("/", 1)[0]


@dataclass(frozen=True)
class FetchReport:
    """What ``fetch`` did: files now in place (downloaded or already there), and files it could not get."""

    target: Path
    in_place: tuple[str, ...]
    not_fetched: tuple[str, ...]


def cache_dir() -> Path:
    """Where ``fetch`` puts the corpus when neither --to nor RESTBEAT_SHARED_DATA says otherwise."""
    import platformdirs

    return Path(platformdirs.user_cache_path("restbeat")) / "corpus"


def candidates() -> list[Path]:
    """The directories looked at, in order."""
    found = [Path(env)] if (env := os.environ.get(ENV)) else []
    return [*found, REPO.parent / "shared" / "data", cache_dir()]


def find_corpus() -> Path | None:
    """The first candidate directory that holds the corpus README.md, or None."""
    return next((c for c in candidates() if (c / "README.md").is_file()), None)


def missing_message() -> str:
    searched = ", ".join(str(c) for c in candidates())
    return f"recording corpus not found (searched {searched}); get it with {FETCH_HINT}"


def corpus_dir() -> Path:
    """The corpus directory; raises CorpusMissingError (saying how to fetch it) when there is none."""
    if access_guard is not None:
        access_guard()
    if (found := find_corpus()) is None:
        raise CorpusMissingError(missing_message())
    return found


def corpus_path(*parts: str) -> Path:
    """Path of a file or folder inside the corpus."""
    return corpus_dir().joinpath(*parts)


def load_registry(path: Path = REGISTRY) -> tuple[CorpusFile, ...]:
    """The registry: ``path sha256 source`` per line (source ``-`` for not fetched), ``#`` comments."""
    entries = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) != 3 or len(fields[1]) != 64:
            raise ValueError(f"{path}, line {number}: expected 'path sha256 source', got {raw!r}")
        name, digest, source = fields
        entries.append(CorpusFile(name, digest.lower(), None if source == "-" else source))
    return tuple(entries)


def copy_downloader(url: str, output_file: str, _pooch: Any = None) -> None:
    """A pooch downloader for ``file://`` URLs (a mirror on disk): copies the file."""
    parsed = urlparse(url)
    if parsed.scheme != "file":
        raise ValueError(f"{url}: copy_downloader takes file:// URLs only")
    shutil.copyfile(unquote(parsed.path), output_file)


def _source_url(entry: CorpusFile, mirror: str | None) -> str | None:
    if mirror is not None:
        return f"{mirror.rstrip('/')}/{entry.path}"
    return entry.source


def _retrieve(url: str, entry: CorpusFile, target: Path, downloader: Downloader | None) -> None:
    import pooch

    destination = target / entry.path
    if url.startswith("file://") and downloader is None:
        downloader = copy_downloader
    pooch.retrieve(
        url,
        known_hash=f"sha256:{entry.sha256}",
        fname=destination.name,
        path=destination.parent,
        downloader=downloader,
        progressbar=False,
    )


def _copy_from_repo(entry: CorpusFile, source: str, target: Path) -> None:
    import pooch

    origin = REPO / source.removeprefix(REPO_PREFIX)
    destination = target / entry.path
    if not pooch.file_hash(str(origin)) == entry.sha256:
        raise ValueError(f"{origin}: SHA-256 differs from the registry entry for {entry.path}")
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(origin, destination)


def fetch(
    target: Path,
    entries: Iterable[CorpusFile],
    mirror: str | None = None,
    downloader: Downloader | None = None,
    say: Callable[[str], None] = print,
) -> FetchReport:
    """Bring every entry into ``target``, hash-checked; a download that fails or mismatches raises."""
    in_place, not_fetched = [], []
    for entry in entries:
        source = entry.source
        if source is not None and source.startswith(REPO_PREFIX) and mirror is None:
            _copy_from_repo(entry, source, target)
        elif (url := _source_url(entry, mirror)) is None:
            not_fetched.append(entry.path)
            continue
        else:
            _retrieve(url, entry, target, downloader)
        in_place.append(entry.path)
        say(f"ok  {entry.path}")
    return FetchReport(target, tuple(in_place), tuple(not_fetched))


def select(entries: Sequence[CorpusFile], folders: Sequence[str]) -> list[CorpusFile]:
    """The entries of the named top-level folders (all when none is named); README.md always comes."""
    known = {entry.folder for entry in entries}
    if unknown := sorted(set(folders) - known):
        raise ValueError(f"no corpus folder {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    return [e for e in entries if not folders or e.folder in folders or e.path == "README.md"]


def main(argv: Sequence[str] | None = None) -> int:
    description = (__doc__ or "").split("\n", 1)[0]
    parser = argparse.ArgumentParser(prog="python -m benchmarks.data", description=description)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("where", help="print the corpus directory in use")
    fetching = commands.add_parser("fetch", help="download the corpus, SHA-256 checked")
    fetching.add_argument("--to", type=Path, help=f"target directory (default: ${ENV}, else {cache_dir()})")
    fetching.add_argument("--only", nargs="+", default=[], metavar="FOLDER", help="only these folders")
    fetching.add_argument("--mirror", help="fetch every file from URL/<path> instead (file:// works)")
    args = parser.parse_args(argv)
    if args.command == "where":
        found = find_corpus()
        print(found if found is not None else missing_message(), file=sys.stdout if found else sys.stderr)
        return 0 if found is not None else 1
    target = args.to or (Path(env) if (env := os.environ.get(ENV)) else cache_dir())
    try:
        entries = select(load_registry(), args.only)
        report = fetch(target, entries, mirror=args.mirror)
    except ImportError:
        print("benchmarks.data fetch: needs pooch; run `pip install -e '.[data]'`", file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:  # a failed download, a hash mismatch, an unknown folder
        print(f"benchmarks.data fetch: {error}", file=sys.stderr)
        return 1
    print(f"{len(report.in_place)} file(s) in {report.target}")
    for path in report.not_fetched:
        print(f"not fetched: {path} (no public copy of these bytes; see the folder's SOURCE.txt)")
    if target != find_corpus():
        print(f"to use it: export {ENV}={report.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
