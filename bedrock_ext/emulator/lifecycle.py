"""Moves jobs through Submitted → Validating → Scheduled → InProgress → terminal, on a clock.

Validation and record execution run on a small thread pool so one big job does not stall the
others; output files are written when a job reaches a terminal status (Completed,
PartiallyCompleted, Stopped, Expired), holding exactly the records processed by then.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

from bedrock_ext.emulator import catalog, execution, memory
from bedrock_ext.emulator.execution import InputInvalid, ObjectStore
from bedrock_ext.emulator.models import BatchBackend, Job
from bedrock_ext.emulator.spool import Counts, ResultSpool

log = logging.getLogger("bedrock_ext.emulator")
_PARTIAL = ("PartiallyCompleted", "Stopped", "Expired")


class Lifecycle:
    """Advances every active job of ``backend``; call :meth:`tick` or run it as a thread."""

    def __init__(self, backend: BatchBackend, store: ObjectStore, tick_s: float = 0.02) -> None:
        self.backend, self.store, self.tick_s = backend, store, tick_s
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="emulator-job")
        self._work: dict[str, Future[object]] = {}
        self._results: dict[str, ResultSpool] = {}  # a running job's output lines, on disk
        self._partial: set[str] = set()  # jobs whose outputs so far were written while InProgress
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="emulator-lifecycle", daemon=True)

    def start(self) -> None:
        memory.limit_arenas()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self) -> None:
        while not self._stop.wait(self.tick_s):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - keep the service alive, as AWS would
                log.exception("emulator lifecycle tick failed")

    def tick(self) -> None:
        for job in list(self.backend.active_jobs()):
            self._advance(job, time.time())

    def _advance(self, job: Job, now: float) -> None:
        t = self.backend.config.timings
        elapsed = now - job.last_modified_time
        if job.status == "Submitted" and elapsed >= t.submitted_s:
            self._set(job, "Validating", total=0)
        elif job.status == "Validating" and elapsed >= t.validating_s:
            self._validate(job)
        elif job.status == "Scheduled" and elapsed >= t.scheduled_s:
            self._set(job, "InProgress")
        elif job.status == "InProgress":
            self._progress(job, elapsed, t.in_progress_s + job.fault.slow_job_s)
        elif job.status == "Stopping" and elapsed >= t.stopping_s:
            self._finish(job, "Stopped")

    def _validate(self, job: Job) -> None:
        if job.fault.job_outcome == "Failed":
            self._set(job, "Failed", message=job.fault.failure_message)
            return
        total = self._await(job, lambda: self._load(job))
        if isinstance(total, InputInvalid):
            self._set(job, "Failed", message=str(total))
        elif isinstance(total, int):
            self._set(job, "Scheduled", total=total)

    def _load(self, job: Job) -> int | InputInvalid:
        """Validation reads the whole input, streamed; the records are not kept: a job reads its
        input again when it runs, so memory follows the jobs running, not every job queued."""
        try:
            return execution.validate_input(self.store, self._input_uri(job), self.backend.config.quotas)
        except InputInvalid as err:
            return err

    def _progress(self, job: Job, elapsed: float, run_s: float) -> None:
        results = self._results.get(job.job_id)
        if results is None:
            results = self._await(job, lambda: self._execute(job))  # type: ignore[assignment]
            if results is None:
                return
        total = len(results)
        limit = math.floor(total * job.fault.partial_fraction) if job.fault.job_outcome in _PARTIAL else total
        done = min(limit, math.floor(total * min(1.0, elapsed / run_s)) if run_s > 0 else total)
        self._count(job, results.counts(done))
        if elapsed >= run_s:
            self._finish(job, job.fault.job_outcome if limit < total else "Completed")
        elif 2 * done >= total > done and job.job_id not in self._partial:
            self._write_partial(job, results, done)

    def _write_partial(self, job: Job, results: ResultSpool, done: int) -> None:
        """Once half the records are processed, the output files so far (no manifest): AWS says
        results can be viewed in the output location while a job is InProgress."""
        self._partial.add(job.job_id)
        execution.write_outputs(self.store, self._output_uri(job), job.total or 0, results, done,
                                write_manifest=False)

    def _execute(self, job: Job) -> ResultSpool:
        """Every record of the job run into a spool on local disk (the job's lines are not held in
        memory while it is InProgress)."""
        uri, quotas = self._input_uri(job), self.backend.config.quotas
        results = ResultSpool(job.job_id)
        model = catalog.base_id(job.model_id, self.backend.config.application_inference_profiles)
        try:
            execution.run_input(self.store, uri, quotas, results, model, job.job_id, job.fault,
                                job.invocation_type)
        except BaseException:
            results.close()
            raise
        self._results[job.job_id] = results
        return results

    def _await(self, job: Job, work: object) -> object | None:
        """Run ``work`` on the pool once per job; the result when done, else None."""
        future = self._work.get(job.job_id)
        if future is None:
            self._work[job.job_id] = self._pool.submit(work)  # type: ignore[arg-type]
            return None
        if not future.done():
            return None
        del self._work[job.job_id]
        return future.result()

    def _finish(self, job: Job, status: str | None) -> None:
        results = self._results.get(job.job_id)
        if results is None and job.status == "Stopping" and job.processed:
            results = self._execute(job)  # restarted while stopping: recompute what was done
        if results is None:
            self._count(job, Counts(0, 0, 0, 0))
        else:
            done = min(job.processed or 0, len(results))
            execution.write_outputs(self.store, self._output_uri(job), job.total or 0, results, done,
                                    not job.fault.missing_manifest)
            self._count(job, results.counts(done))
            results.close()
        self._set(job, status or "Completed")
        self._results.pop(job.job_id, None)
        self._partial.discard(job.job_id)
        memory.trim()  # the job's buffers back to the OS

    def _count(self, job: Job, counts: Counts) -> None:
        with self.backend.lock:
            job.processed = counts.processed
            job.errors = counts.errors
            job.success = counts.processed - counts.errors

    def _set(self, job: Job, status: str, *, total: int | None = None, message: str | None = None) -> None:
        with self.backend.lock:
            if job.status not in ("Stopping",) or status == "Stopped":
                job.set_status(status, message)
            if total is not None:
                job.total, job.processed, job.success, job.errors = total, 0, 0, 0
        log.debug("job %s (%s): %s", job.job_id, job.request["jobName"], job.status)
        self.backend.save()

    @staticmethod
    def _input_uri(job: Job) -> str:
        return str(job.request["inputDataConfig"]["s3InputDataConfig"]["s3Uri"])

    @staticmethod
    def _output_uri(job: Job) -> str:
        return str(job.request["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"])
