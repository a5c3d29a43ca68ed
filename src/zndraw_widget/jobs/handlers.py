"""The jobs' HTTP handlers: ``POST rooms/<room>/files`` (stream a trajectory file in; a job
imports it), ``GET jobs``, ``GET jobs/<id>`` and ``DELETE jobs/<id>`` (cancel). Mixins,
combined with an authentication base by :func:`~zndraw_widget.server.handlers.build_handlers`."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from ..errors import AlreadyExists, BadRequest, NotFound, ZnDrawError
from ..policy import Action
from ..room_service import in_thread
from ..server.base import ApiError, BaseHandler, api
from ..state.base import check_room_name
from .parse import upload_format
from .service import MAX_WAIT, Jobs
from .upload import UploadFeed


class JobsMixin(BaseHandler):
    @property
    def jobs(self) -> Jobs:
        return self.settings["zndraw_jobs"]()


class FilesHandler(JobsMixin):
    """``POST rooms/<room>/files?name=<file name>[&format=<ase format>]``, the body the file.
    The name, format, size (``Content-Length``) and access are checked before the body is
    read, a missing room is created (the caller owns it), and the import job starts at once:
    it parses the body while it streams into a spool file under the storage path. Answered
    202 with the job once the body is in."""

    def initialize(self, **kwargs: Any) -> None:
        super().initialize(**kwargs)
        self._feed: UploadFeed | None = None
        self._created = False

    async def prepare(self) -> None:
        await super().prepare()
        if self._finished or self._refusal is not None or self.request.method != "POST":
            return
        room = self.path_kwargs["room"]
        try:
            name, fmt = await self._admit(room)
            self.jobs.warm()
            spool = self.jobs.spool_file()
            self._feed = await self.jobs.start_import(
                self.caller, room, name, fmt, spool, self._length() or 0, self._created)
        except ZnDrawError as error:
            self._abandon()
            self.refuse(ApiError(error.status, error.to_json()))
            return
        except ApiError as refusal:  # too large
            self.refuse(refusal)
            return
        self._created = False  # the job's now: it deletes the room if it commits nothing

    def _length(self) -> int | None:
        length = self.request.headers.get("Content-Length", "")
        return int(length) if length.isdigit() else None

    async def _admit(self, room: str) -> tuple[str, str]:
        """The file's name and format, once they and the size and the caller's access are
        checked; a missing room is created."""
        name = _file_name(self.get_query_argument("name", None))
        fmt = await in_thread(  # the first call imports ase.io (a second or so)
            upload_format, name, self.get_query_argument("format", None))
        if (self._length() or 0) > self.max_upload_bytes:
            self._too_large()
        room = check_room_name(room)
        try:
            await self.service.policy.check(self.caller, Action.WRITE, room)
        except NotFound:
            try:
                await self.service.create_room(self.caller, room, None)
            except AlreadyExists:  # made meanwhile, or one the caller may not read
                await self.service.policy.check(self.caller, Action.WRITE, room)
            else:
                self._created = True
        return name, fmt

    def keep(self, chunk: bytes) -> None:
        if self._feed is not None:  # None: a method other than POST (answered 405)
            self._feed.write(chunk)

    @api
    async def post(self, room: str) -> None:
        if self._received > self.max_upload_bytes:
            self._too_large()
        if not self._received:
            raise BadRequest("the request has no body: send the file's bytes as the body")
        await self._feed.end()
        job = await self.jobs.registry.get(self._feed.job_id)
        job.bytes_total = self._received  # known now, even if the job has not looked yet
        self.write_json({"job": job.to_json()}, status=202)

    def on_finish(self) -> None:
        super().on_finish()
        self._abandon()

    def on_connection_close(self) -> None:
        super().on_connection_close()
        self._abandon()

    def _abandon(self) -> None:
        """The upload failed: its job hears it (and removes the file and a room it made);
        a room made for a job that never started is deleted here."""
        if self._feed is not None and not self._feed.ended:
            asyncio.ensure_future(self._feed.end(
                f"the upload broke off after {self._received} bytes ({self._reason_for()})"))
        if self._created:
            self._created = False
            asyncio.ensure_future(_delete_room(self.service, self.caller, self.path_kwargs["room"]))

    def _reason_for(self) -> str:
        if self._received > self.max_upload_bytes:
            return f"over the upload limit of {self.settings['zndraw_max_upload_mb']:g} MB"
        if self._finished:
            return f"answered {self.get_status()}"
        return "the connection closed"


async def _delete_room(service: Any, caller: Any, room: str) -> None:
    with contextlib.suppress(ZnDrawError):
        await service.delete_room(caller, room)


def _file_name(name: str | None) -> str:
    if not name:
        raise BadRequest("missing query argument 'name': the file's name (its extension tells "
                         "the format unless ?format= is given)")
    if len(name) > 255 or not name.isprintable() or "/" in name or "\\" in name:
        raise BadRequest("'name' must be a file name: at most 255 printable characters, "
                         "no path separators")
    return name


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= MAX_WAIT:
        raise BadRequest(f"'wait' must be a number of seconds from 0 to {MAX_WAIT:g}, not "
                         f"{text[:40]!r}")
    return seconds


class JobsHandler(JobsMixin):
    """``GET jobs[?room=<room>]``: the recent jobs the caller may see."""

    @api
    async def get(self) -> None:
        room = self.get_query_argument("room", None)
        jobs = await self.jobs.visible(self.caller, None if room is None else
                                       check_room_name(room))
        self.write_json({"jobs": [job.to_json() for job in jobs]})


class JobHandler(JobsMixin):
    """``GET jobs/<id>[?wait=<seconds>]``: one job (with ``wait``: once it has ended, or
    after that many seconds); ``DELETE jobs/<id>``: cancel it."""

    @api
    async def get(self, job: str) -> None:
        wait = self.get_query_argument("wait", None)
        if wait is None:
            found = await self.jobs.get(self.caller, job)
        else:
            found = await self.jobs.wait(self.caller, job, _seconds(wait))
        self.write_json(found.to_json())

    @api
    async def delete(self, job: str) -> None:
        self.write_json((await self.jobs.cancel(self.caller, job)).to_json())


ROUTES = [
    (r"/rooms/(?P<room>[^/]+)/files", FilesHandler),
    (r"/jobs", JobsHandler),
    (r"/jobs/(?P<job>[0-9a-f]{16})", JobHandler),
]
