"""``Room``: a room of a zndraw server as a mutable sequence of ``ase.Atoms``.

Why one file over 400 lines: ``Room`` is one ``MutableSequence``; its list semantics
(indexing, slice and index-list assignment as one splice, undo groups) belong together.
HTTP, the event feed, uploads and indexing live in their own modules.
"""

from __future__ import annotations

import getpass
import operator
import os
import re
import secrets
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator, MutableSequence, Sequence, Sized
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote

from ..atom_index import atom_indices
from ..errors import AlreadyExists, BadRequest, NotFound, PayloadTooLarge
from ..frames import Column, Frame, FrameBatch
from . import download, upload
from .bookmarks import Bookmarks
from .discovery import Endpoint, discover
from .errors import ConflictError, LockedError, RoomNotFoundError
from .feed import Callback, RoomFeed
from .frame_cache import FrameCache
from .http import HttpClient, new_idempotency_key
from .indexing import Key, clamp_insert, is_extended, key_text, normalize
from .lease import OrderLease
from .link import TIMEOUT, Link
from .view import View

if TYPE_CHECKING:
    import ase

ITER_CHUNK = 256  # frames per request while iterating
MAX_URL_INDEX = 2000  # longer index lists are sent in a POST body


def new_session_id() -> str:
    """A random session id that also says whose it is (it names lease holders)."""
    try:
        user = re.sub(r"[^A-Za-z0-9_.\-]", "", getpass.getuser())[:40]
    except (OSError, KeyError):
        user = ""
    return f"{user or 'client'}-{secrets.token_hex(8)}"


class Room(MutableSequence["ase.Atoms"]):
    """The frames of room ``name`` on a zndraw server, as a list of ``ase.Atoms``.

    The server is found from ``url``/``token``, the ``ZNDRAW_URL``/``ZNDRAW_TOKEN``
    environment variables, the Jupyter server running this kernel, or JupyterHub.
    ``Room(name)`` attaches to an existing room (:class:`RoomNotFoundError` if there is
    none); ``Room(name, create=True)`` creates it if missing (empty, or as a copy of room
    ``base``); :meth:`Room.create` makes a new one (``AlreadyExists`` if taken).
    Reads and writes follow a Python list's rules (plus numpy's assignment to a list of
    indices); each list operation is one atomic change on the server (one event, one
    :meth:`undo`), states the version it is based on (:class:`ConflictError` if the room
    changed meanwhile) and fails with :class:`LockedError` while another client holds the
    room's lock. A control channel (websocket, in a daemon thread) keeps :attr:`step`, the
    frame cache (up to ``cache_bytes``) and :meth:`on_change` callbacks current. Not
    thread-safe.
    """

    def __init__(self, name: str, url: str | None = None, token: str | None = None,
                 create: bool = False, base: str | None = None, *, lease_ttl: float = 30.0,
                 batch_bytes: int = 8 << 20, cache_bytes: int = 256 << 20,
                 _new: dict[str, Any] | None = None) -> None:
        self.name = name
        self.session = new_session_id()
        self.batch_bytes = batch_bytes
        self._path = f"rooms/{quote(str(name), safe='')}"
        endpoint = discover(url, token)
        self._http = HttpClient(endpoint, self.session)
        self._view = View()
        self._cache = FrameCache(cache_bytes)
        self._lease = OrderLease(self._http, f"{self._path}/leases/order", lease_ttl)
        try:
            if _new is None:
                self._open(create, base)
            else:
                self._create(base, _new)
        except BaseException:
            self._http.close()
            raise
        # the feed's requests are not retried: the link reconnects and resyncs instead
        self._feed = RoomFeed(name, HttpClient(endpoint, self.session, retry_for=0), self._path,
                              self._cache)
        self._link = Link(endpoint, self.session, name, self._feed)
        self._closer = weakref.finalize(self, _close, self._link, self._feed, self._http)
        # Joined, or the first attempt failed: then reads and writes still work, the frame
        # cache waits for the link, and the link keeps trying in the background.
        self._link.settled.wait(TIMEOUT)
        if not self._link.joined.is_set():
            warnings.warn(f"live updates of room {name!r} are unavailable for now "
                          f"({self._link.error or 'no answer'}); reading and writing work, "
                          "and the control channel keeps reconnecting", RuntimeWarning,
                          stacklevel=2)

    @classmethod
    def create(cls, name: str, url: str | None = None, token: str | None = None,
               base: str | None = None, *, description: str = "", ephemeral: bool = False,
               **options: Any) -> Room:
        """Create room ``name`` (``AlreadyExists`` if it exists): empty, or a copy of room
        ``base`` (sharing its stored data). An ``ephemeral`` room is deleted by the server
        a while after the last view and kernel left it, unless :meth:`keep` is called.
        ``options``: those of :class:`Room`."""
        return cls(name, url, token, base=base,
                   _new={"description": description, "ephemeral": ephemeral}, **options)

    def _open(self, create: bool, base: str | None) -> None:
        try:
            self._info()
            return
        except NotFound:
            if not create:
                raise RoomNotFoundError(
                    f"room {self.name!r} does not exist on {self.url}: create it with "
                    f"Room.create({self.name!r}) or Room({self.name!r}, create=True)") from None
        try:
            self._create(base, {}, retry=True)  # a repeat finds it created: AlreadyExists
        except AlreadyExists:  # created by someone else just now
            self._info()

    def _create(self, base: str | None, fields: dict[str, Any], retry: bool = False) -> None:
        try:
            info = self._http.json("POST", "rooms", retry=retry,
                                   json_body={"name": self.name, "base": base, **fields})
        except NotFound as error:
            raise RoomNotFoundError(f"cannot copy room {base!r}: {error}") from None
        self._view.saw_order(info["order_version"], info["length"])

    @property
    def url(self) -> str:
        """The API root of the server."""
        return self._http.endpoint.api_url

    @property
    def endpoint(self) -> Endpoint:
        """The server this room lives on and how this client logs in."""
        return self._http.endpoint

    def __repr__(self) -> str:
        return f"Room({self.name!r}, url={self.url!r})"

    # -- lifetime -------------------------------------------------------------------------
    def close(self) -> None:
        """Close the control channel (its thread ends) and the connection to the server."""
        self._closer()

    def __enter__(self) -> Room:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- live -----------------------------------------------------------------------------
    @property
    def step(self) -> int:
        """The room's current frame (what viewers show), kept current by the room's events.

        Setting it takes the presenter token for a moment: :class:`LockedError` naming the
        holder while someone else presents. Negative values count from the end; outside
        the room an ``IndexError``.
        """
        step = self._feed.step
        return self._info()["step"] if step is None else step

    @step.setter
    def step(self, value: int) -> None:
        index = operator.index(value)
        length = len(self)
        position = index + length if index < 0 else index
        if not 0 <= position < length:
            raise IndexError(f"step {index} is outside the room of {length} frames")
        try:
            self._link.request("request_presenter_token", room=self.name)
        except LockedError as error:
            raise LockedError(f"cannot set the step of room {self.name!r}: {error.holder} is "
                              "presenting (holds the presenter token); try again once they "
                              "stop", **error.details) from None
        try:
            self._link.request("set_room_frame", room=self.name, frame=position)
        finally:
            self._link.request("release_presenter_token", room=self.name)
        self._feed.step = position

    def on_change(self, callback: Callback) -> Callable[[], None]:
        """Call ``callback(event)`` for every event of the room from now on.

        ``event`` is a dict with a ``type``: ``frames_spliced``, ``frames_inserted``,
        ``frames_deleted``, ``frame_updated``, ``step``, ``lease``, ``presence``, ``room_deleted`` (as in
        docs/protocol.md) or ``resync`` (after a reconnect or a gap: ``reload`` says whether
        the missed changes were unknown). It runs in the Room's link thread, one event at a
        time and in order: keep it short, and do not set :attr:`step` from it. Returns a
        function that removes the callback again.
        """
        return self._feed.subscribe(callback)

    def lock(self) -> OrderLease:
        """``with room.lock(): ...`` holds the room's order lease (renewed in the background)
        so that no other client inserts or deletes frames until the block ends."""
        return self._lease

    # -- reading --------------------------------------------------------------------------
    def _info(self) -> dict[str, Any]:
        info = self._http.json("GET", self._path)
        self._view.saw_order(info["order_version"], info["length"])
        return info

    def info(self) -> dict[str, Any]:
        """The room's metadata: length, seq, order_version, step, created, description,
        expires (of an ephemeral room, else None), leases."""
        return self._info()

    # -- the room itself ------------------------------------------------------------------
    @property
    def description(self) -> str:
        """A free text kept with the room and shown in the room list."""
        return self._info().get("description", "")

    @description.setter
    def description(self, text: str) -> None:
        self._http.json("PATCH", self._path, json_body={"description": text})

    def keep(self) -> None:
        """Make an ephemeral room (as ``Viewer(frames)`` creates) permanent."""
        self._http.json("PATCH", self._path, json_body={"keep": True})

    def copy(self, name: str, *, description: str = "") -> Room:
        """A new room ``name`` holding the frames of this one (no data is copied: both refer
        to the same stored content); ``AlreadyExists`` if ``name`` is taken."""
        endpoint = self.endpoint
        return Room.create(name, endpoint.api_url if endpoint.explicit else None,
                           endpoint.token if endpoint.explicit else None, base=self.name,
                           description=description, batch_bytes=self.batch_bytes)

    def delete(self) -> None:
        """Delete the room with its frames and history (for everyone), then close it."""
        self._http.json("DELETE", self._path)
        self.close()

    @property
    def atoms(self) -> ase.Atoms:
        """The frame at the room's :attr:`step` (what viewers following the room show).
        Setting it replaces that frame; in an empty room it becomes the first frame."""
        return self[self.step]

    @atoms.setter
    def atoms(self, value: ase.Atoms) -> None:
        if self._length() == 0:
            self.append(value)
        else:
            self[self.step] = value

    def __len__(self) -> int:
        return self._info()["length"]

    def _read(self, key: Key, fields: Sequence[str] | None = None) -> dict[str, Any]:
        """One request reading the frames ``key`` selects."""
        params = {"data": ",".join(fields)} if fields else {}
        if isinstance(key, list) and len(key) * 8 > MAX_URL_INDEX:
            body = {"index": key, "data": list(fields) if fields else None}
            message = self._http.msgpack("POST", f"{self._path}/select", json_body=body,
                                         retry=True)
        else:
            message = self._http.msgpack("GET", f"{self._path}/frames",
                                         params={"index": key_text(key), **params})
        self._view.saw_read(message)
        return message

    def __getitem__(self, key: Any) -> Any:
        key = normalize(key)
        if isinstance(key, list) and not key:
            return []
        batch = self._cached(key)
        if batch is None:
            token = self._cache.begin()
            message = self._read(key)
            batch = FrameBatch.from_wire(message, validate=False)
            self._remember(token, key, message, batch)
        atoms = batch.to_atoms()
        return atoms[0] if isinstance(key, int) else atoms

    def _cached(self, key: Key) -> FrameBatch | None:
        """The frames ``key`` selects if the cache has all of them, else None."""
        if isinstance(key, slice):
            length = self._cache.length()
            if length is None:
                return None
            positions = range(*key.indices(length))
        else:
            positions = [self._cache.position(k) for k in
                         ([key] if isinstance(key, int) else key)]
            if None in positions:
                return None
        return self._cache.lookup(positions)

    def _remember(self, token: int, key: Key, message: dict[str, Any],
                  batch: FrameBatch) -> None:
        """Cache what a read of all fields returned (one-frame answers may carry the
        counters of an earlier order: then only the position that was asked for counts)."""
        refs = list(zip(message["ids"], message["versions"].tolist()))
        if len(refs) != 1:
            self._cache.store(token, message["indices"].tolist(), refs, batch,
                              int(message["length"]))
            return
        single = key if isinstance(key, int) else key[0] if isinstance(key, list) else None
        position = None if single is None else self._cache.position(single)
        if position is not None:  # a negative index is stored only while the length is known
            self._cache.store(token, [position], refs, batch, None)

    def get(self, key: Any, fields: Sequence[str] | None = ("positions",),
            columnar: bool = False) -> Any:
        """Raw arrays of the selected frames without building ``ase.Atoms``.

        ``fields`` names what to read (``None``: everything). Returns a dict of field ->
        read-only numpy array per frame (one dict for an int ``key``, else a list), or with
        ``columnar=True`` one dict of field -> array stacked over the frames.
        """
        key = normalize(key)
        if isinstance(key, list) and not key:
            return {} if columnar else []
        batch = FrameBatch.from_wire(self._read(key, fields), validate=False)
        if columnar:
            return {name: _dense(name, column) for name, column in batch.columns.items()}
        frames = batch.frames()
        return frames[0] if isinstance(key, int) else frames

    def __iter__(self) -> Iterator[ase.Atoms]:
        start = 0
        while True:
            chunk = self[start:start + ITER_CHUNK]
            yield from chunk
            if len(chunk) < ITER_CHUNK:
                return
            start += ITER_CHUNK

    def __reversed__(self) -> Iterator[ase.Atoms]:
        stop = len(self)
        while stop > 0:
            start = max(0, stop - ITER_CHUNK)
            yield from reversed(self[start:stop])
            stop = start

    # -- writing --------------------------------------------------------------------------
    def _order_base(self) -> int:
        if self._view.order_version is None:
            self._info()
        return self._view.order_version

    def _length(self) -> int:
        if self._view.length is None:
            self._info()
        return self._view.length

    def _insert(self, frames: list[Frame], body: bytes, at: int | None,
                retry: bool = False, group: str | None = None, key: str | None = None) -> int:
        """POST ``frames`` (encoded as ``body``) at ``at`` (append when None); the count.

        ``key`` (a new one when None) is the request's idempotency key; the requests this
        one turns into get keys derived from it. An append (``retry``) based on an outdated
        order is retried once at the current version: where it lands does not depend on
        what this client saw. With a ``group`` (an extend), ``body`` is a splice
        (:func:`upload.splice_body`) whose undo record joins the others of the group. A
        body over the server's limit is sent in halves.
        """
        key = key or new_idempotency_key()
        base = self._order_base()
        path = f"{self._path}/frames" if group is None else f"{self._path}/splice"
        params = {"base_version": base, **({} if at is None or group else {"at": at})}
        headers = {"X-ZnDraw-Undo-Group": group} if group else None
        try:
            try:
                reply = self._http.json("POST", path, params=params, body=body,
                                        headers=headers, key=key)
            except ConflictError as error:
                if not retry or error.current_version is None:
                    raise
                base = params["base_version"] = error.current_version
                reply = self._http.json("POST", path, params=params, body=body,
                                        headers=headers, key=f"{key}-rebased")
            finally:
                self._cache.changed_order(None)
        except PayloadTooLarge:
            if len(frames) == 1:
                raise
            self.batch_bytes = max(1 << 16, len(body) // 2)
            half = len(frames) // 2
            first = self._insert(frames[:half], _insert_body(frames[:half], at, group), at,
                                 retry, group, f"{key}-0")
            rest = None if at is None else at + first
            return first + self._insert(frames[half:], _insert_body(frames[half:], rest, group),
                                        rest, retry, group, f"{key}-1")
        if group is not None:
            if reply["length"] is None:  # a repeated key: the length now is not known
                self._view.forget()
            else:
                self._view.saw_order(reply["order_version"], reply["length"])
            return len(frames)
        self._view.saw_insert(base, reply)
        return reply["count"]

    def append(self, value: ase.Atoms | Frame) -> None:
        """Add one frame at the end."""
        frame = upload.to_frame(value)
        self._insert([frame], upload.encode([frame]), None, retry=True)

    def insert(self, index: int, value: ase.Atoms | Frame) -> None:
        """Insert one frame before ``index`` (clamped to the room, as ``list.insert``)."""
        index = operator.index(index)
        frame = upload.to_frame(value)
        body = upload.encode([frame])
        self._insert([frame], body, clamp_insert(index, self._length()))

    def extend(self, values: Iterable[ase.Atoms | Frame], progress: bool | None = None, *,
               on_written: Callable[[int], None] | None = None) -> None:
        """Append every frame of ``values`` (any iterable, read lazily), holding the lock.

        Frames go in requests of about ``batch_bytes``, each encoded while the previous one
        uploads and each with its own idempotency key (``<upload key>-<chunk>``), so a
        chunk retried after its server went away lands once; a progress bar shows for
        long uploads (``progress``: always / never). One :meth:`undo` removes them all,
        however many requests they took. On an error nothing stays written: frames
        already sent are removed again. ``on_written(count)`` is called each time a request
        has landed, with the number of frames written so far.
        """
        if values is self:
            values = self[:]
        bar = upload.Progress(len(values) if isinstance(values, Sized) else None, progress)
        group = secrets.token_hex(8)
        upload_key = new_idempotency_key()
        with self._lease, ThreadPoolExecutor(1, thread_name_prefix="zndraw-upload") as pool:
            start = self._info()["length"]
            written = sent = 0
            pending: Future[int] | None = None
            try:
                for chunk, frames in enumerate(upload.batches(values, self.batch_bytes)):
                    body = _insert_body(frames, start + sent, group)
                    if pending is not None:
                        written += pending.result()
                        pending = None
                        if on_written is not None:
                            on_written(written)
                    pending = pool.submit(self._insert, frames, body, start + sent, False,
                                          group, f"{upload_key}-{chunk}")
                    sent += len(frames)
                    bar.update(len(frames), len(body))
                if pending is not None:
                    written += pending.result()
                    pending = None
                    if on_written is not None:
                        on_written(written)
            except BaseException as error:
                if pending is not None and pending.exception() is None:
                    written += pending.result()
                self._remove_written(start, written, error)
                raise
            finally:
                bar.close()

    def export(self, target: str | os.PathLike[str] | IO[Any], format: str | None = None,
               index: Any = None, progress: bool | None = None) -> int:
        """Write the frames ``index`` selects (an int, a slice or a list; None: all) to
        ``target``, a path or a file object, in ``format`` (an ase format name, or ``h5md``;
        None: the one the file name says, e.g. ``.xyz`` extxyz, ``.traj``, ``.h5``). The
        server writes the file and streams it (docs/protocol.md, Export); a progress bar
        shows for long exports (``progress``: always / never). Returns the number of frames;
        a path is removed again if the export fails."""
        return download.download(self._http, self._path, target, format, index, progress)

    def _remove_written(self, start: int, count: int, error: BaseException) -> None:
        """Undo the part of a failed extend that reached the server (the lock is held):
        its commits share one undo record."""
        if not count:
            return
        try:
            self.undo()
        except Exception as cleanup:
            error.add_note(f"the {count} frames written before the error stay in the room "
                           f"(at {start}): removing them failed: {cleanup}")

    def _delete(self, index: str) -> None:
        try:
            reply = self._http.json("DELETE", f"{self._path}/frames",
                                    params={"index": index, "base_version": self._order_base()},
                                    key=new_idempotency_key())
        finally:
            self._cache.changed_order(None)
        self._view.saw_order(reply["order_version"], None)

    def __delitem__(self, key: Any) -> None:
        key = normalize(key)
        if isinstance(key, list):
            if key:
                self._delete(key_text(key))
        else:
            self._delete(key_text(key))

    def __setitem__(self, key: Any, value: Any) -> None:
        key = normalize(key)
        if isinstance(key, int):
            frame = upload.to_frame(value)
            self._replace(self._position(key), upload.encode([frame]))
        elif isinstance(key, slice):
            self._assign_slice(key, value)
        else:
            self._assign_list(key, value)

    def _position(self, index: int) -> int:
        """The non-negative position of ``index``, its id and version known to the view."""
        position = index + self._length() if index < 0 else index
        if position < 0:
            raise IndexError("list assignment index out of range")
        if position not in self._view.frames:
            self._read([position], ["numbers"])
        return position

    def _replace(self, position: int, body: bytes) -> None:
        frame_id, version = self._view.frames[position]
        try:
            reply = self._http.json("PUT", f"{self._path}/frames/{position}",
                                    params={"base_version": version, "id": frame_id},
                                    body=body, key=new_idempotency_key())
        finally:
            self._cache.changed_frame(position)
        self._view.frames[position] = (frame_id, reply["version"])

    def _assign_slice(self, key: slice, value: Any) -> None:
        """One splice: the frames the slice selects are replaced (as many as there are new
        frames), the rest of them deleted or the rest of the new frames inserted."""
        if not isinstance(value, Iterable):
            raise TypeError("must assign iterable to extended slice" if is_extended(key)
                            else "can only assign an iterable")
        frames = [upload.to_frame(v) for v in value]
        positions = range(*key.indices(self._info()["length"]))
        if is_extended(key):
            if len(frames) != len(positions):
                raise ValueError(f"attempt to assign sequence of size {len(frames)} to "
                                 f"extended slice of size {len(positions)}")
            self._splice(update=positions, frames=frames)
            return
        start, stop = positions.start, max(positions.start, positions.stop)
        kept = min(stop - start, len(frames))
        self._splice(update=range(start, start + kept),
                     delete=slice(start + kept, stop) if stop > start + kept else None,
                     insert=range(start + kept, start + len(frames)), frames=frames)

    def _assign_list(self, key: list[int], value: Any) -> None:
        """Element-wise, as numpy: ``room[[1, 5]] = [a, b]`` (a position given twice gets
        the last of its frames), one splice."""
        if not isinstance(value, Iterable):
            raise TypeError("can only assign an iterable to a list of indices")
        frames = [upload.to_frame(v) for v in value]
        if len(frames) != len(key):
            raise ValueError(f"cannot assign {len(frames)} frames to {len(key)} indices")
        length = self._info()["length"] if key else 0
        last: dict[int, Frame] = {}
        for index, frame in zip(key, frames):
            position = index + length if index < 0 else index
            if not 0 <= position < length:
                raise IndexError(f"index {index} is out of range for a room of {length} frames")
            last[position] = frame
        if last:
            self._splice(update=list(last), frames=list(last.values()))

    def _splice(self, *, update: Iterable[int] = (), delete: slice | None = None,
                insert: Iterable[int] = (), frames: list[Frame]) -> None:
        """One atomic change (docs/protocol.md, ``/splice``) based on the order last seen:
        replace the frames at ``update``, delete ``delete``, then insert at ``insert``
        (``frames``: those of the updates, then those of the inserts)."""
        body = upload.splice_body(delete, update, insert, frames)
        try:
            reply = self._http.json("POST", f"{self._path}/splice",
                                    params={"base_version": self._order_base()}, body=body,
                                    key=new_idempotency_key())
        finally:
            self._cache.changed_order(None)
        if reply["length"] is None:  # nothing changed, or a repeated key
            self._view.forget()
        else:
            self._view.saw_order(reply["order_version"], reply["length"])

    def clear(self) -> None:
        del self[:]

    def reverse(self) -> None:
        """Reverse the frames in place: one change (the content is not stored again)."""
        with self._lease:
            self[:] = self[::-1]

    # -- shared with the room's views ------------------------------------------------------
    @property
    def selection(self) -> list[int]:
        """Your selection of atoms in this room (one per user, shared by your views and
        kernels; each view shows the other people's in their colour). Setting it selects
        those atoms in your views; a reader of the room may too."""
        reply = self._http.json("GET", f"{self._path}/selection")
        return reply["selections"].get(reply["user"], [])

    @selection.setter
    def selection(self, atoms: Iterable[int]) -> None:
        if isinstance(atoms, (Iterator, set, frozenset)):  # a generator, a set: its indices
            atoms = list(atoms)
        indices = atom_indices(atoms, "selection", BadRequest).tolist()
        self._http.json("PUT", f"{self._path}/selection", json_body={"atoms": indices},
                        retry=True)

    @property
    def selections(self) -> dict[str, list[int]]:
        """Everyone's selection in this room: ``{user: [atom, ...]}``."""
        return self._http.json("GET", f"{self._path}/selection")["selections"]

    @property
    def bookmarks(self) -> Bookmarks:
        """The room's bookmarks, a mapping ``{name: {"frame", "camera"}}`` every view lists
        (a click there jumps to the frame and camera): see :class:`Bookmarks`."""
        return Bookmarks(self._http, self._path, self.__len__)

    # -- history --------------------------------------------------------------------------
    def undo(self) -> None:
        """Reverse this client's last change (``NotFound`` if there is none)."""
        self._replay("undo")

    def redo(self) -> None:
        """Re-apply the change the last :meth:`undo` reversed."""
        self._replay("redo")

    def _replay(self, action: str) -> None:
        try:
            self._http.json("POST", f"{self._path}/{action}", key=new_idempotency_key())
        finally:
            self._cache.changed_order(None)
        self._view.forget()

    def history(self, index: int) -> list[dict[str, Any]]:
        """``[{"version", "hash"}, ...]`` of frame ``index``'s kept versions, oldest first."""
        return self._http.json("GET", f"{self._path}/frames/{operator.index(index)}/history"
                               )["versions"]

    # -- access ---------------------------------------------------------------------------
    @property
    def access(self) -> dict[str, Any]:
        """``{"owner", "grants", "role"}``: the room's owner, its grants (``user:<name>``,
        ``group:<name>`` or ``*`` to ``read``, ``write`` or ``admin``) and your role."""
        return self._http.json("GET", f"{self._path}/access")

    def share(self, user: str | None = None, role: str | None = None, *,
              group: str | None = None, everyone: str | None = None) -> dict[str, Any]:
        """Give a user, a group or everyone a role in this room (you need ``admin``):
        ``share("ben", "write")``, ``share(group="lab", role="read")``,
        ``share(everyone="read")``. Returns the new :attr:`access`."""
        if everyone is not None:
            return self._grant("*", everyone)
        if role is None:
            raise TypeError("share needs a role: 'read', 'write' or 'admin'")
        return self._grant(_grantee(user, group), role)

    def unshare(self, user: str | None = None, *, group: str | None = None,
                everyone: bool = False) -> dict[str, Any]:
        """Take back what :meth:`share` gave: ``unshare("ben")``, ``unshare(group="lab")``,
        ``unshare(everyone=True)``. Returns the new :attr:`access`."""
        return self._grant("*" if everyone else _grantee(user, group), None)

    def _grant(self, key: str, role: str | None) -> dict[str, Any]:
        grants = self.access["grants"]
        if role is None:
            grants.pop(key, None)
        else:
            grants[key] = role
        return self._http.json("PUT", f"{self._path}/access", json_body={"grants": grants})


def _grantee(user: str | None, group: str | None) -> str:
    """The grant key of exactly one of ``user`` and ``group``."""
    if (user is None) == (group is None):
        raise TypeError("name either a user or a group=")
    return f"user:{user}" if user is not None else f"group:{group}"


def _insert_body(frames: list[Frame], at: int | None, group: str | None) -> bytes:
    """The body inserting ``frames`` at ``at``: a splice within an undo ``group``."""
    if group is None:
        return upload.encode(frames)
    return upload.splice_body(insert=range(at, at + len(frames)), frames=frames)


def _dense(name: str, column: Column) -> Any:
    """A column as one array over the frames (a list for non-numeric values)."""
    if column.objects is not None:
        return column.objects
    if column.shapes is not None or column.present is not None:
        raise ValueError(f"field {name!r} differs in shape between the frames: use "
                         "columnar=False")
    return column.values


def _close(link: Link, feed: RoomFeed, http: HttpClient) -> None:
    """End what a Room holds open (on close, or once it is garbage)."""
    link.close()
    feed.close()
    http.close()
