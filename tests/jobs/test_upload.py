"""Uploading trajectory files into rooms as background jobs, against a real server process
(the default engine: its process pool): progress on a websocket, the frames as ase read
them, cancel, corrupt files, bad formats, access, and no empty room left by a failure."""

from __future__ import annotations

import asyncio
import os
import signal
import socket

import ase.io
import httpx
import numpy as np
import pytest

from ..conftest import ServerProcess, add_user, make_atoms
from .helpers import FINAL, Client, children, follow, run, same_frames, write_trajectory


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """A server with users alice and bob (and the admin token)."""
    directory = tmp_path_factory.mktemp("jobs")
    users = directory / "users"
    tokens = {name: add_user(users, name) for name in ("alice", "bob")}
    server = ServerProcess(directory / "storage", "--users", str(users))
    yield server, {name: Client(server.url, token) for name, token in tokens.items()}
    server.stop()


async def upload_and_follow(client: Client, room: str, path, **params) -> tuple[dict, list]:
    """Upload ``path`` into ``room`` (which exists) and follow its job to the end."""
    control = await client.control(room)
    response = await client.upload(room, path, **params)
    assert response.status_code == 202, response.text
    job = response.json()["job"]
    events = await follow(control, job["id"])
    control.close()
    return job, events


def test_an_upload_is_imported_in_batches_with_progress_events(deployment, files):
    server, users = deployment
    alice = users["alice"]
    trajectory, frames, _ = files
    assert alice.call("POST", "rooms", json={"name": "md", "base": None}).status_code == 201
    job, events = run(upload_and_follow(alice, "md", trajectory))
    assert job["state"] in ("queued", "running", "done")  # it starts with the first bytes
    assert job["format"] == "extxyz"
    assert job["bytes_total"] == trajectory.stat().st_size and job["user"] == "alice"
    final = events[-1]
    assert final["state"] == "done", final
    assert final["frames_done"] == len(frames) and final["bytes_done"] == job["bytes_total"]
    running = [event["frames_done"] for event in events if event["state"] == "running"]
    assert running == sorted(running)  # committed in batches, in order; the first at once
    assert 0 < running[1] < len(frames)
    same_frames(alice.frames("md", ":"), frames)
    assert alice.call("GET", f"jobs/{job['id']}").json() == final
    listed = alice.call("GET", "jobs", params={"room": "md"}).json()["jobs"]
    assert [entry["id"] for entry in listed] == [job["id"]]


def test_a_100_mb_file_is_imported_with_progress_seen_on_a_websocket(deployment, files):
    server, users = deployment
    alice = users["alice"]
    trajectory, frames, large = files
    assert large.stat().st_size > 100e6
    assert alice.call("POST", "rooms", json={"name": "large", "base": None}).status_code == 201
    job, events = run(upload_and_follow(alice, "large", large))
    assert events[-1]["state"] == "done", events[-1]
    assert events[-1]["frames_done"] == 10 * len(frames)
    progress = [event["bytes_done"] for event in events if event["state"] == "running"]
    assert len(progress) >= 5 and progress == sorted(progress)
    assert alice.call("GET", "rooms/large").json()["length"] == 10 * len(frames)
    same_frames(alice.frames("large", "-3:"), frames[-3:])


@pytest.mark.parametrize("name, count", [("md.traj", 40), ("POSCAR", 1)])
def test_other_formats_are_read_by_frame_windows(deployment, tmp_path, name, count):
    """``traj`` (read by windows of frame indices) and a one-frame format (vasp)."""
    server, users = deployment
    alice = users["alice"]
    written = make_atoms(count, natoms=10)
    ase.io.write(tmp_path / name, written if count > 1 else written[0])
    expected = ase.io.read(tmp_path / name, ":")
    room = f"other-{count}"
    assert alice.call("POST", "rooms", json={"name": room, "base": None}).status_code == 201
    job, events = run(upload_and_follow(alice, room, tmp_path / name))
    assert events[-1]["state"] == "done" and events[-1]["frames_done"] == count, events[-1]
    got = alice.frames(room, ":")
    assert [a.positions.tolist() for a in got] == [a.positions.tolist() for a in expected]


def test_a_pdb_keeps_its_residue_names_through_upload_read_and_export(deployment, tmp_path):
    """PDB's per-atom string arrays (``residuenames``, ``atomtypes``) are stored as lists of
    N strings: the upload succeeds, reads give them back as arrays, and the export has them."""
    from ase.build import molecule

    server, users = deployment
    alice = users["alice"]
    moved = molecule("CH3CH2OH")
    moved.positions += 0.5
    ase.io.write(tmp_path / "mol.pdb", [molecule("CH3CH2OH"), moved])  # ase's PDB: one atom count
    expected = ase.io.read(tmp_path / "mol.pdb", ":")
    assert expected[0].arrays["residuenames"].dtype.kind == "U"
    assert alice.call("POST", "rooms", json={"name": "pdb", "base": None}).status_code == 201
    job, events = run(upload_and_follow(alice, "pdb", tmp_path / "mol.pdb"))
    assert events[-1]["state"] == "done" and events[-1]["frames_done"] == 2, events[-1]
    got = alice.frames("pdb", ":")
    for read, want in zip(got, expected):
        for name in ("residuenames", "atomtypes"):
            assert read.arrays[name].tolist() == want.arrays[name].tolist()
    exported = alice.call("GET", "rooms/pdb/export", params={"format": "proteindatabank"})
    assert exported.status_code == 200, exported.text
    (tmp_path / "back.pdb").write_bytes(exported.content)
    back = ase.io.read(tmp_path / "back.pdb", ":")
    assert [a.arrays["residuenames"].tolist() for a in back] == [
        a.arrays["residuenames"].tolist() for a in expected]
    assert [a.positions.round(3).tolist() for a in back] == [a.positions.round(3).tolist() for a in expected]
    as_xyz = alice.call("GET", "rooms/pdb/export", params={"format": "extxyz"})
    (tmp_path / "back.xyz").write_bytes(as_xyz.content)
    assert [a.arrays["residuenames"].tolist() for a in ase.io.read(tmp_path / "back.xyz", ":")] == [
        a.arrays["residuenames"].tolist() for a in expected]


def test_an_h5md_file_as_export_writes_it_uploads_and_round_trips(deployment, tmp_path):
    """H5MD is read by znh5md wherever a file's format is decided: a room exported as
    ``h5md`` (znh5md writes it) and uploaded back as ``x.h5md`` gives the same frames,
    positions and energies."""
    server, users = deployment
    alice = users["alice"]
    write_trajectory(tmp_path / "md.extxyz", 12, natoms=16)
    frames = ase.io.read(tmp_path / "md.extxyz", ":")  # as ase reads it back (8 digits)
    for room in ("h5-source", "h5-back"):
        assert alice.call("POST", "rooms", json={"name": room, "base": None}).status_code == 201
    job, events = run(upload_and_follow(alice, "h5-source", tmp_path / "md.extxyz"))
    assert events[-1]["state"] == "done", events[-1]
    exported = alice.call("GET", "rooms/h5-source/export", params={"format": "h5md"})
    assert exported.status_code == 200, exported.text
    (tmp_path / "x.h5md").write_bytes(exported.content)
    job, events = run(upload_and_follow(alice, "h5-back", tmp_path / "x.h5md"))
    assert job["format"] == "znh5md"
    assert events[-1]["state"] == "done" and events[-1]["frames_done"] == 12, events[-1]
    back = alice.frames("h5-back", ":")
    assert len(back) == len(frames)
    for got, want in zip(back, frames):
        np.testing.assert_allclose(got.positions, want.positions)
        np.testing.assert_array_equal(got.numbers, want.numbers)
        np.testing.assert_allclose(got.get_potential_energy(), want.get_potential_energy())


def test_cancel_stops_a_job_and_keeps_the_frames_committed(deployment, files):
    server, users = deployment
    alice = users["alice"]
    large = files[2]
    assert alice.call("POST", "rooms", json={"name": "cancelled", "base": None}).status_code == 201

    async def cancel_after_the_first_batch():
        control = await alice.control("cancelled")
        job = (await alice.upload("cancelled", large)).json()["job"]
        await control.event(lambda e: e["type"] == "job" and e["job"]["frames_done"] > 0)
        cancelled = alice.call("DELETE", f"jobs/{job['id']}")
        control.close()
        return cancelled

    response = run(cancel_after_the_first_batch())
    assert response.status_code == 200, response.text
    job = response.json()
    assert job["state"] == "cancelled", job
    assert 0 < job["frames_done"] < 8000
    assert alice.call("GET", "rooms/cancelled").json()["length"] == job["frames_done"]
    assert alice.call("DELETE", f"jobs/{job['id']}").json()["state"] == "cancelled"


def test_a_parse_process_killed_mid_job_fails_the_job_saying_so(deployment, files):
    """SIGKILL a parse process of the server's pool mid-job: the job fails with a clear
    error (not a hang, not a raw BrokenProcessPool), and the next upload gets a new pool."""
    server, users = deployment
    alice = users["alice"]
    trajectory, frames, large = files
    for room in ("parse-killed", "after-kill"):
        assert alice.call("POST", "rooms", json={"name": room, "base": None}).status_code == 201

    async def kill_mid_job():
        control = await alice.control("parse-killed", timeout=60)
        release = asyncio.Event()
        upload = asyncio.ensure_future(alice.upload_held("parse-killed", large, 8 << 20, release))
        running = await control.event(
            lambda e: e["type"] == "job" and e["job"]["frames_done"] > 0)
        parse_processes = [pid for child in children(server.process.pid)
                           for pid in children(child)]  # the fork server's children
        os.kill(parse_processes[0], signal.SIGKILL)
        release.set()
        ended = await control.event(lambda e: e["type"] == "job" and e["job"]["state"] in FINAL
                                    and e["job"]["id"] == running["job"]["id"])
        await upload
        control.close()
        return ended["job"]

    ended = run(kill_mid_job())
    assert ended["state"] == "failed", ended
    assert ended["error"]["message"].startswith(
        "the worker running this job stopped (a parse process died")
    assert ended["error"]["message"].endswith("upload the file again")
    job, events = run(upload_and_follow(alice, "after-kill", trajectory))
    assert events[-1]["state"] == "done", events[-1]


def corrupted(source, target, line: int, text: str) -> None:
    """``source`` with its (1-based) ``line`` replaced by ``text``."""
    lines = source.read_text().splitlines(keepends=True)
    lines[line - 1] = text + "\n"
    target.write_text("".join(lines))


@pytest.mark.parametrize("where, text", [("atom", "H 1.0 not-a-number 2.0"),
                                         ("count", "many atoms")])
def test_a_corrupt_file_fails_saying_where_and_keeps_the_frames_before(
        deployment, files, tmp_path, where, text):
    server, users = deployment
    alice = users["alice"]
    trajectory, frames, _ = files
    natoms = len(frames[0])
    bad_frame = 300  # past the first pieces: frame and line count across pieces
    header = bad_frame * (natoms + 2) + 1
    broken = tmp_path / "broken.extxyz"
    corrupted(trajectory, broken, header + 5 if where == "atom" else header, text)
    room = f"broken-{where}"
    assert alice.call("POST", "rooms", json={"name": room, "base": None}).status_code == 201
    _, events = run(upload_and_follow(alice, room, broken))
    final = events[-1]
    assert final["state"] == "failed", final
    error = final["error"]
    assert error["frame"] == bad_frame and error["line"] == header, error
    assert ("not-a-number" if where == "atom" else "many atoms") in error["message"]
    assert final["frames_done"] == bad_frame
    same_frames(alice.frames(room, f":{bad_frame}"), frames[:bad_frame])


def test_an_unknown_format_is_refused_naming_it(deployment, files):
    server, users = deployment
    alice = users["alice"]
    head = files[0].read_bytes()[:100_000]
    response = alice.upload_small("fmt", head, "md.extxyz", format="no-such-format")
    assert response.status_code == 400 and "no-such-format" in response.json()["message"]
    response = alice.upload_small("fmt", head, "md.unknown-extension")
    assert response.status_code == 400 and "?format=" in response.json()["message"]
    response = alice.upload_small("fmt", head, "")
    assert response.status_code == 400 and "'name'" in response.json()["message"]
    assert alice.call("GET", "rooms/fmt").status_code == 404  # never created


def test_a_file_that_fails_before_any_frame_leaves_no_empty_room(deployment, tmp_path):
    server, users = deployment
    alice = users["alice"]
    garbage = tmp_path / "garbage.xyz"
    garbage.write_text("this is not\nan xyz file\n")

    response = run(alice.upload("fresh", garbage))
    assert response.status_code == 202, response.text
    final = wait_final(alice, response.json()["job"]["id"])
    assert final["state"] == "failed" and final["error"]["line"] == 1, final
    assert alice.call("GET", "rooms/fresh").status_code == 404


def wait_final(client: Client, job_id: str) -> dict:
    """The job once it has ended (``?wait=``: the server answers then)."""
    job = client.call("GET", f"jobs/{job_id}", params={"wait": 60}).json()
    assert job["state"] in FINAL, job
    return job


def test_uploads_need_a_login_and_write_access(deployment, files):
    server, users = deployment
    alice, bob = users["alice"], users["bob"]
    trajectory = files[0]
    head = trajectory.read_bytes()[:100_000]
    anonymous = Client(server.url, "wrong-token")
    assert anonymous.upload_small("private", head, "md.extxyz").status_code == 401
    assert alice.call("GET", "rooms/private").status_code == 404
    assert alice.call("POST", "rooms", json={"name": "private", "base": None}).status_code == 201
    assert alice.call("PUT", "rooms/private/access",
                      json={"grants": {"user:bob": "read"}}).status_code == 200
    response = bob.upload_small("private", head, "md.extxyz")
    assert response.status_code == 403 and "read-only" in response.json()["message"]
    assert alice.call("GET", "rooms/private").json()["length"] == 0
    mine = run(alice.upload("private", trajectory)).json()["job"]
    assert bob.call("GET", f"jobs/{mine['id']}").status_code == 200  # bob reads the room
    assert bob.call("DELETE", f"jobs/{mine['id']}").status_code == 403
    assert alice.call("PUT", "rooms/private/access", json={"grants": {}}).status_code == 200
    assert bob.call("GET", f"jobs/{mine['id']}").status_code == 404
    assert bob.call("GET", "jobs").json()["jobs"] == []
    assert wait_final(alice, mine["id"])["state"] == "done"


def test_frames_are_committed_while_the_file_still_uploads(deployment, files):
    """The job starts with the first bytes: its first frames are in the room before the
    rest of the file is sent."""
    server, users = deployment
    alice = users["alice"]
    trajectory, frames, _ = files
    data = trajectory.read_bytes()
    assert alice.call("POST", "rooms", json={"name": "early", "base": None}).status_code == 201

    async def scenario():
        control = await alice.control("early")
        first_frames = asyncio.Event()

        async def body():
            yield data[: 2 << 20]
            await first_frames.wait()  # the rest only once frames are in the room
            yield data[2 << 20:]

        async with httpx.AsyncClient(timeout=120) as client:
            upload = asyncio.ensure_future(client.post(
                f"{alice.url}rooms/early/files", params={"name": "md.extxyz"}, content=body(),
                headers=alice.headers))
            event = await control.event(lambda e: e["type"] == "job"
                                        and e["job"]["frames_done"] > 0)
            length = alice.call("GET", "rooms/early").json()["length"]
            first_frames.set()
            response = await upload
        events = await follow(control, response.json()["job"]["id"])
        control.close()
        return event["job"], length, events[-1]

    early, length, final = run(scenario())
    assert 0 < early["frames_done"] <= length < len(frames)
    assert early["bytes_done"] < 2 << 20
    assert final["state"] == "done" and final["frames_done"] == len(frames), final
    same_frames(alice.frames("early", ":"), frames)


def test_an_upload_that_breaks_off_fails_its_job_and_leaves_no_empty_room(deployment, files):
    server, users = deployment
    alice = users["alice"]
    head = files[0].read_bytes()[: 100_000]
    host, port = server.url.split("//")[1].split("/")[0].split(":")
    with socket.create_connection((host, int(port))) as connection:  # promises 10 MB, sends 0.1
        connection.sendall(
            f"POST /zndraw/api/rooms/broken-off/files?name=md.extxyz HTTP/1.1\r\n"
            f"Host: {host}:{port}\r\nAuthorization: token {alice.token}\r\n"
            f"Content-Length: {10 << 20}\r\n\r\n".encode() + head)
        jobs = []
        while not jobs:  # the job appears once the headers are in: asked until it does
            jobs = alice.call("GET", "jobs", params={"room": "broken-off"}).json()["jobs"]
    final = wait_final(alice, jobs[0]["id"])
    assert final["state"] == "failed" and "broke off" in final["error"]["message"], final
    assert alice.call("GET", "rooms/broken-off").status_code == 404
