"""De-identify a file or a folder tree into an output folder, in parallel processes.

Layout of the output folder::

    OUT/clean/<hh>/<new SOP Instance UID>.dcm   de-identified instances (<hh>: 2 hex digits
                                                of the SHA-256 of the new UID)
    OUT/quarantine/<sha256 of the file>.dcm     unchanged copies of instances that may hold
                                                burned-in text (identifiable: never share)
    OUT/deid-report.json                        the report (see :mod:`.report`)

No output name comes from a DICOM value other than the keyed new UID. Every file is written
atomically. A file that cannot be read or written is recorded as an error and the batch goes
on.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from os import PathLike
from pathlib import Path

from pydicom.errors import InvalidDicomError

from vesalius.errors import InputError
from vesalius.ingest.deid.apply import deidentify_dataset
from vesalius.ingest.deid.burnin import burned_in_reason
from vesalius.ingest.deid.encode import encode
from vesalius.ingest.deid.keys import DeidKeys
from vesalius.ingest.deid.profile import CompiledProfile
from vesalius.ingest.deid.read import parse_instance, unusable_reason
from vesalius.ingest.deid.report import BatchReport, FileResult, Status
from vesalius.io.atomic import fsync_dir, write_bytes_atomic

logger = logging.getLogger(__name__)

CLEAN_DIR = "clean"
QUARANTINE_DIR = "quarantine"
REPORT_NAME = "deid-report.json"
_IO_THREADS = 4
_CHUNK = 16


@dataclass(frozen=True)
class DeidJob:
    """Everything a worker needs for one batch (pickled once per worker process).

    Attributes
    ----------
    profile
        The compiled profile.
    keys
        The keyed replacements.
    input_root
        The folder input paths are reported relative to.
    out_dir
        The output folder.
    copy_quarantined
        Copy quarantined originals to ``OUT/quarantine`` (else only list them).
    """

    profile: CompiledProfile
    keys: DeidKeys
    input_root: Path
    out_dir: Path
    copy_quarantined: bool = True


def find_input_files(source: Path) -> tuple[Path, tuple[Path, ...]]:
    """Return the folder to report paths against and the files under ``source``, sorted.

    Raises
    ------
    InputError
        ``source`` does not exist.
    """
    if source.is_file():
        return source.parent, (source,)
    if not source.is_dir():
        raise InputError(source, "no such file or folder")
    files = tuple(sorted(p for p in source.rglob("*") if p.is_file()))
    return source, files


def deidentify_file(path: Path, job: DeidJob) -> FileResult:
    """De-identify one file; never raises for a bad file, returns an error record instead."""
    return deidentify_files((path,), job)[0]


def deidentify_files(paths: Iterable[Path], job: DeidJob) -> list[FileResult]:
    """De-identify files in turn, writing each in an I/O thread while the next is prepared.

    Reading, de-identification and encoding run in this thread; the atomic writes (whose
    fsync waits on the disk) run in a few I/O threads. A failed write turns that file's
    record into an error and leaves nothing behind.
    """
    with ThreadPoolExecutor(_IO_THREADS, thread_name_prefix="deid-io") as io:
        pending = [_prepare(path, job, io) for path in paths]
        return [_settle(result, write) for result, write in pending]


def _prepare(
    path: Path, job: DeidJob, io: ThreadPoolExecutor
) -> tuple[FileResult, Future[Path] | None]:
    source = _relative(path, job.input_root)
    write: Future[Path] | None = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result, output = _deidentify_file(path, source, job)
            if output is not None:
                write = io.submit(write_bytes_atomic, *output)
        except InvalidDicomError:
            result = FileResult(source, Status.ERROR, reason="not a DICOM file")
        except OSError as err:
            result = FileResult(source, Status.ERROR, reason=f"cannot read: {err}")
        except Exception as err:  # one broken file must not stop a batch
            logger.debug("failed on %s", path, exc_info=True)
            result = FileResult(source, Status.ERROR, reason=f"{type(err).__name__}: {err}")
    notes = tuple(sorted({str(w.message) for w in caught}))
    return (replace(result, notes=notes) if notes else result), write


def _settle(result: FileResult, write: Future[Path] | None) -> FileResult:
    if write is None:
        return result
    try:
        write.result()
    except OSError as err:
        return FileResult(result.source, Status.ERROR, reason=f"cannot write: {err}")
    return result


_Output = tuple[Path, bytes]


def _deidentify_file(path: Path, source: str, job: DeidJob) -> tuple[FileResult, _Output | None]:
    data = path.read_bytes()
    ds = parse_instance(data, name=str(path))
    problem = unusable_reason(ds)
    if problem is not None:
        return FileResult(source, Status.ERROR, reason=problem), None
    reason = burned_in_reason(ds)
    if reason is not None:
        return _quarantine(data, source, reason, job)
    actions = deidentify_dataset(ds, profile=job.profile, keys=job.keys)
    uid = str(ds.SOPInstanceUID)
    folder = hashlib.sha256(uid.encode("ascii")).hexdigest()[:2]
    relative = Path(CLEAN_DIR, folder, f"{uid}.dcm")
    result = FileResult(
        source, Status.WRITTEN, output=relative.as_posix(), sop_instance_uid=uid, actions=actions
    )
    return result, (job.out_dir / relative, encode(ds, source=data))


def _quarantine(
    data: bytes, source: str, reason: str, job: DeidJob
) -> tuple[FileResult, _Output | None]:
    if not job.copy_quarantined:
        return FileResult(source, Status.QUARANTINED, reason=reason), None
    relative = Path(QUARANTINE_DIR, hashlib.sha256(data).hexdigest()[:32] + ".dcm")
    result = FileResult(source, Status.QUARANTINED, output=relative.as_posix(), reason=reason)
    return result, (job.out_dir / relative, data)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


_WORKER_JOB: DeidJob | None = None


def _init_worker(job: DeidJob) -> None:
    global _WORKER_JOB  # one job per worker process, set by the pool
    _WORKER_JOB = job


def _run_in_worker(paths: tuple[Path, ...]) -> list[FileResult]:
    if _WORKER_JOB is None:  # pragma: no cover - the pool initializer always runs first
        raise RuntimeError("worker started without a job")
    return deidentify_files(paths, _WORKER_JOB)


def _results(files: tuple[Path, ...], job: DeidJob, workers: int) -> Iterator[FileResult]:
    size = max(1, min(_CHUNK, len(files) // max(1, workers * 4)))
    chunks = [files[start : start + size] for start in range(0, len(files), size)]
    if workers <= 1 or len(chunks) < 2:
        for chunk in chunks:
            yield from deidentify_files(chunk, job)
        return
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(job,)) as pool:
        for results in pool.map(_run_in_worker, chunks):
            yield from results


def deidentify_paths(
    source: str | PathLike[str],
    out_dir: str | PathLike[str],
    *,
    profile: CompiledProfile,
    keys: DeidKeys,
    workers: int = 1,
    copy_quarantined: bool = True,
    on_result: Callable[[FileResult], None] | None = None,
) -> BatchReport:
    """De-identify a file or every file under a folder into ``out_dir`` and write the report.

    Parameters
    ----------
    source
        A DICOM file or a folder searched recursively (every file is tried).
    out_dir
        The output folder (created); must not lie inside ``source``.
    profile, keys
        The compiled profile and the keyed replacements.
    workers
        Worker processes; 1 runs in this process.
    copy_quarantined
        Copy instances that may hold burned-in text to ``OUT/quarantine`` (else list only).
    on_result
        Called in this process with each file's result, in input order (progress bars).

    Raises
    ------
    InputError
        ``source`` does not exist or ``out_dir`` lies inside it.
    """
    src, out = Path(source), Path(out_dir)
    root, files = find_input_files(src)
    if src.is_dir() and out.resolve().is_relative_to(src.resolve()):
        raise InputError(out, "the output folder must not lie inside the input folder")
    out.mkdir(parents=True, exist_ok=True)
    job = DeidJob(profile, keys, root, out, copy_quarantined)
    results = _collect(_results(files, job, workers), on_result)
    _fsync_outputs(out)
    options = tuple(sorted(opt.column for opt in profile.options))
    report = BatchReport(results, profile_table=profile.source, options=options)
    report.write(out / REPORT_NAME)
    return report


def _fsync_outputs(out: Path) -> None:
    folders = [out / QUARANTINE_DIR, out / CLEAN_DIR]
    if folders[1].is_dir():
        folders.extend(p for p in folders[1].iterdir() if p.is_dir())
    for folder in folders:
        if folder.is_dir():
            fsync_dir(folder)


def _collect(
    results: Iterator[FileResult], on_result: Callable[[FileResult], None] | None
) -> tuple[FileResult, ...]:
    seen: set[str] = set()
    collected: list[FileResult] = []
    for result in results:
        if result.output is not None and result.output in seen:
            note = "same SOP Instance as an earlier file: it replaced that output"
            result = replace(result, notes=(*result.notes, note))
        if result.output is not None:
            seen.add(result.output)
        collected.append(result)
        if on_result is not None:
            on_result(result)
    return tuple(collected)
