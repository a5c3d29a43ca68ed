"""The kernel-side ``Room`` against a real standalone server (and once a real Jupyter
server with a real kernel)."""

from __future__ import annotations

import copy
import json
import os
import random
import subprocess
import sys
import threading
import weakref

import ase
import numpy as np
import pytest
from ase.calculators.singlepoint import SinglePointCalculator

from zndraw_widget import ConflictError, LockedError, Room
from zndraw_widget.client import (
    AuthenticationError,
    RoomNotFoundError,
    ServerNotFoundError,
    discover,
)

from ..conftest import ServerProcess, free_port, make_atoms, tagged, tags
from .list_ops import outcome, random_operation

pytestmark = pytest.mark.usefixtures("no_ambient_server")


# -- list semantics ------------------------------------------------------------------------
#: What a room answers like a list (reads too); tests/client/test_client_operations.py adds
#: the writes that are one change each.
LIST_KINDS = ("append", "insert", "extend", "set", "set_slice", "set_ext", "del", "del_slice",
              "del_ext", "get", "get_slice", "get_list", "pop", "iadd")


@pytest.mark.parametrize("seed", [0, 1])
def test_list_semantics_match_a_python_list(connect, seed):
    rng = random.Random(seed)
    room, model = connect(f"list-{seed}"), []
    counter = iter(range(10**6))

    def new() -> ase.Atoms:
        return tagged(next(counter), natoms=rng.randint(1, 3))

    for step in range(250):
        what, function = random_operation(rng, len(model), new, LIST_KINDS,
                                          [None, 1, 2, -1, -2, 3])
        expected = outcome(function, model)
        got = outcome(function, room)
        assert got == expected, f"step {step}: {what}"
        assert tags(room[:]) == tags(model), f"step {step}: {what}"
    assert len(room) == len(model)
    assert tags(room) == tags(model) and tags(reversed(room)) == tags(reversed(model))


def test_indexing_with_numpy_and_errors_like_a_list(connect):
    room = connect()
    room.extend([tagged(k) for k in range(6)])
    assert tags(room[np.array([5, 0, -1])]) == [5, 0, 5]
    assert tags([room[np.int64(2)]]) == [2]
    assert tags(room[::-2]) == [5, 3, 1]
    assert room[[]] == []
    with pytest.raises(IndexError):
        room[6]
    with pytest.raises(IndexError):
        room[[0, 6]]
    with pytest.raises(TypeError, match="not str"):
        room["0"]
    with pytest.raises(TypeError):
        room[0:2.5]
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        room[::0]
    with pytest.raises(TypeError):
        room[(0, 1)]
    with pytest.raises(ValueError, match="attempt to assign sequence of size 1 to extended "
                                         "slice of size 3"):
        room[::2] = [tagged(9)]
    del room[[0, -1, 0]]
    assert tags(room) == [1, 2, 3, 4]
    room.insert(-100, tagged(7))
    room.insert(100, tagged(8))
    assert tags(room) == [7, 1, 2, 3, 4, 8]
    room.clear()
    assert len(room) == 0


# -- content -------------------------------------------------------------------------------
def rich_atoms() -> ase.Atoms:
    atoms = ase.Atoms("H2O", positions=[[0, 0, 0], [0.9, 0.1, 0], [-0.2, 0.8, 0.3]],
                      cell=[[4, 0, 0], [0.5, 5, 0], [0, 0, 6]], pbc=[True, False, True])
    atoms.set_initial_magnetic_moments([0.5, 0, -0.5])
    atoms.set_momenta(np.arange(9.0).reshape(3, 3))
    atoms.arrays["label_id"] = np.array([3, 1, 2], dtype=np.int32)
    atoms.info.update({"name": "water", "energy_ref": -14.25, "step": 7, "converged": True,
                       "meta": {"code": "x", "tags": [1, 2]}, "charges": [0.1, 0.2]})
    atoms.calc = SinglePointCalculator(atoms, energy=-14.5, forces=np.ones((3, 3)) * 0.25,
                                       stress=np.arange(6.0), free_energy=-14.6)
    return atoms


def test_frames_come_back_equal_and_inputs_are_untouched(connect):
    room = connect()
    atoms = rich_atoms()
    before = copy.deepcopy(atoms)
    room.append(atoms)
    room.extend([atoms, make_atoms(1, natoms=5)[0]])
    room[1] = atoms
    back = room[0]
    for original in (atoms, before):
        assert back == original
        assert back.info == original.info
        assert sorted(back.arrays) == sorted(original.arrays)
        for name, value in original.arrays.items():
            np.testing.assert_array_equal(back.arrays[name], value)
            assert back.arrays[name].dtype == value.dtype
        assert back.calc.results.keys() == original.calc.results.keys()
        for name, value in original.calc.results.items():
            np.testing.assert_array_equal(back.calc.results[name], value)
    np.testing.assert_array_equal(back.cell, before.cell)
    assert list(back.pbc) == [True, False, True]
    assert atoms.info == before.info and atoms == before
    assert room[1] == before and room[1].info == before.info


def test_get_returns_raw_arrays(connect):
    room = connect()
    frames = make_atoms(4, natoms=3)
    room.extend(frames)
    one = room.get(2)
    assert list(one) == ["positions"]
    np.testing.assert_array_equal(one["positions"], frames[2].positions)
    many = room.get(slice(1, 3), fields=["positions", "numbers"])
    assert [sorted(f) for f in many] == [["numbers", "positions"]] * 2
    np.testing.assert_array_equal(many[1]["numbers"], frames[2].numbers)
    stacked = room.get([0, 3], columnar=True)
    assert stacked["positions"].shape == (2, 3, 3)
    np.testing.assert_array_equal(stacked["positions"][1], frames[3].positions)
    room.append(make_atoms(1, natoms=5)[0])
    with pytest.raises(ValueError, match="columnar=False"):
        room.get(slice(None), columnar=True)
    long = room.get(list(range(5)) * 100)  # sent as POST select
    assert len(long) == 500


def test_frame_dicts_are_accepted(connect):
    room = connect()
    room.append({"positions": np.zeros((2, 3)), "numbers": np.array([1, 8])})
    assert room[0].get_chemical_formula() == "HO"


# -- several clients -------------------------------------------------------------------------
def test_two_clients_see_each_others_changes(connect):
    a, b = connect(), connect()
    a.extend([tagged(k) for k in range(3)])
    assert tags(b) == [0, 1, 2]
    b[1] = tagged(10)
    del b[0]
    b.append(tagged(11))
    assert tags(a[:]) == [10, 2, 11]
    a.append(tagged(12))  # a's view of the order is outdated: an append lands anyway
    assert tags(b) == [10, 2, 11, 12]


def test_lock_blocks_other_writers_and_is_released_on_exception(connect):
    a, b = connect(lease_ttl=1.0), connect()
    a.append(tagged(0))
    with a.lock():
        threading.Event().wait(1.5)  # longer than the ttl: the lease is renewed meanwhile
        with pytest.raises(LockedError) as raised:
            b.append(tagged(1))
        assert raised.value.holder == a.session and a.session in str(raised.value)
        assert len(b) == 1  # b's view of the order is current: the lease is what stops it
        with pytest.raises(LockedError):
            del b[0]
        a.append(tagged(2))
    b.append(tagged(3))
    with pytest.raises(RuntimeError), a.lock():
        raise RuntimeError("boom")
    assert b.info()["leases"] == []
    b.append(tagged(4))
    assert tags(a) == [0, 2, 3, 4]


def test_stale_writes_raise_conflicts(connect):
    a, b = connect(), connect()
    a.extend([tagged(0), tagged(1)])
    assert tags([a[0]]) == [0]
    b[0] = tagged(5)  # frame 0 is now at version 2
    with pytest.raises(ConflictError) as raised:
        a[0] = tagged(6)
    assert raised.value.current_version == 2
    assert tags([a[0]]) == [5]  # reading again brings a up to date
    a[0] = tagged(6)
    a.append(tagged(8))
    order = a.info()["order_version"]
    with pytest.raises(ConflictError):  # b has not seen a's append
        b.insert(0, tagged(7))
    assert len(b) == 3
    b.insert(0, tagged(7))
    with pytest.raises(ConflictError) as raised:
        del a[0]
    assert raised.value.current_version == order + 1
    assert len(a) == 4
    del a[0]
    assert tags(b) == [6, 1, 8]


# -- writes: batching, bad input -------------------------------------------------------------
def test_extend_streams_a_generator_in_batches(connect):
    room = connect(batch_bytes=64 << 10)
    alive = peak = 0

    def gone() -> None:
        nonlocal alive
        alive -= 1

    def frames():
        nonlocal alive, peak
        for k in range(3000):
            atoms = tagged(k, natoms=4)
            weakref.finalize(atoms, gone)
            alive += 1
            peak = max(peak, alive)
            yield atoms

    room.extend(frames())
    assert len(room) == 3000
    assert tags(room[-3:]) == [2997, 2998, 2999]
    assert peak < 1000  # never all at once
    info = room.info()
    assert info["leases"] == [] and info["order_version"] > 2  # several requests


def test_extend_splits_bodies_over_the_servers_limit(tmp_path):
    small = ServerProcess(tmp_path, "--max-upload-mb", "0.05")
    try:
        with Room.create("r", url=small.url, token=small.token) as room:
            room.extend(make_atoms(300, natoms=8))
            assert len(room) == 300 and room[-1].info["step"] == 299
    finally:
        small.stop()


def test_bad_input_writes_nothing(connect):
    room = connect(batch_bytes=1 << 10)
    room.extend([tagged(0)])
    version = room.info()["order_version"]
    with pytest.raises(TypeError, match="not str"):
        room.append("H2O")
    with pytest.raises(TypeError, match="not int"):
        room.extend([tagged(1), 5])
    mismatched = {"positions": np.zeros((3, 3)), "numbers": np.array([1, 1])}
    with pytest.raises(ValueError, match="same length"):
        room.insert(0, mismatched)
    with pytest.raises(ValueError, match="same length"):
        room[0] = mismatched
    with pytest.raises(ValueError, match="same length"):  # after several batches were sent
        room.extend([*(tagged(k) for k in range(100)), mismatched])
    with pytest.raises(ValueError):
        room.append(ase.Atoms("H", positions=[[np.nan, 0, 0]]))
    with pytest.raises(TypeError, match="can only assign an iterable"):
        room[0:1] = 5
    assert tags(room) == [0]
    assert room.info()["leases"] == []
    assert room.info()["order_version"] > version + 2  # batches were sent, then removed


def test_undo_redo_history(connect):
    room = connect()
    room.extend([tagged(0), tagged(1)])
    room[0] = tagged(2)
    assert [v["version"] for v in room.history(0)] == [1, 2]
    room.undo()
    assert tags(room) == [0, 1]
    room.redo()
    assert tags(room) == [2, 1]
    room.undo()
    room.undo()
    assert len(room) == 0


# -- discovery -------------------------------------------------------------------------------
def test_discovery_from_environment(server, monkeypatch):
    monkeypatch.setenv("ZNDRAW_URL", server.base)
    monkeypatch.setenv("ZNDRAW_TOKEN", server.token)
    with Room.create("from-env") as room:
        room.append(tagged(0))
        assert room.url == server.url
    with pytest.raises(RoomNotFoundError, match="does not exist"):
        Room("missing")
    with Room.create("copy", base="from-env") as copied:
        assert tags(copied) == [0]
    monkeypatch.setenv("ZNDRAW_TOKEN", "wrong")
    with pytest.raises(AuthenticationError, match="token"):
        Room("from-env")


def test_discovery_errors_say_what_to_do(monkeypatch):
    with pytest.raises(ServerNotFoundError, match="ZNDRAW_URL"):
        Room("x")
    with pytest.raises(ServerNotFoundError, match="Is it running"):
        Room("x", url="http://127.0.0.1:9/", token="t")


def test_discovery_from_a_runtime_file(server, monkeypatch, tmp_path):
    pid = 424242
    (tmp_path / f"jpserver-{pid}.json").write_text(json.dumps(
        {"url": server.base, "base_url": "/", "token": server.token, "pid": pid}))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    monkeypatch.setenv("JPY_PARENT_PID", str(pid))
    with Room.create("from-runtime-file") as room:
        room.append(tagged(0))
        assert room.url == server.url and len(room) == 1
    monkeypatch.setenv("JPY_PARENT_PID", "1")
    with pytest.raises(ServerNotFoundError, match="no jpserver-1.json"):
        Room("x")


def test_discovery_under_jupyterhub():
    env = {"JUPYTERHUB_API_TOKEN": "hub", "JUPYTERHUB_SERVICE_PREFIX": "/user/alice/",
           "JUPYTERHUB_SERVICE_URL": "http://0.0.0.0:8888/user/alice/"}
    endpoint = discover(env=env)
    assert endpoint.api_url == "http://127.0.0.1:8888/user/alice/zndraw/api/"
    assert endpoint.token == "hub"
    assert discover("http://h:1/zndraw/api", env=env).api_url == "http://h:1/zndraw/api/"


def test_a_kernel_finds_its_server_again_after_an_outage(monkeypatch, tmp_path):
    """A kernel whose Jupyter server does not answer uses its own rooms, saying so, and
    finds the server's rooms again as soon as it is back (a stopped server refuses the
    connection: no ``SILENT_FOR`` wait), and keeps a server that answered."""
    from zndraw_widget import kernel_rooms
    from zndraw_widget.client import discovery

    own = discovery.Endpoint("http://127.0.0.1:1/zndraw/api/", "t", kernel_rooms.SOURCE,
                             local=True)
    monkeypatch.setattr(kernel_rooms, "in_kernel", lambda: True)
    monkeypatch.setattr(kernel_rooms, "endpoint", lambda: own)
    monkeypatch.setattr(discovery, "_answers", {})
    monkeypatch.setattr(discovery, "_silent", {})
    port, pid = free_port(), 434343
    (tmp_path / f"jpserver-{pid}.json").write_text(json.dumps(
        {"url": f"http://127.0.0.1:{port}/", "token": "test-token", "pid": pid}))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    monkeypatch.setenv("JPY_PARENT_PID", str(pid))

    def start() -> ServerProcess:
        return ServerProcess(tmp_path / "storage", "--port", str(port))

    server = start()
    try:
        with Room.create("kept", url=server.base, token=server.token) as room:
            room.append(tagged(0))  # (not through discovery)
        server.stop()
        with pytest.warns(RuntimeWarning, match=rf"127\.0\.0\.1:{port}/zndraw/api/ .*"
                                                r"did not answer: using this kernel's own rooms"):
            assert discover() == own
        assert not discovery._silent  # it refused: asked again next time
        server = start()
        assert discover().api_url == server.url
        assert tags(Room("kept")) == [0]
        server.stop()
        assert discover().api_url == server.url  # kept: the client's errors say it is down
    finally:
        server.stop()


def test_a_server_that_does_not_answer_is_not_asked_again_for_a_while(monkeypatch):
    """The probe of a Jupyter server connects within CONNECT_TIMEOUT, waits ANSWER_TIMEOUT
    for its answer, and a server that took the connection and said nothing is not asked
    again for SILENT_FOR seconds: each discovery would wait for it otherwise. One that
    refused (restarting) costs nothing to ask again, and is."""
    import socket

    from zndraw_widget.client import discovery

    assert discovery.CONNECT_TIMEOUT <= 2 < discovery.ANSWER_TIMEOUT
    monkeypatch.setattr(discovery, "_silent", {})
    monkeypatch.setattr(discovery, "ANSWER_TIMEOUT", 0.2)  # (the wait for an answer)
    with socket.create_server(("127.0.0.1", 0)) as silent:  # takes connections, answers none
        silent.setblocking(False)
        endpoint = discovery.Endpoint(f"http://127.0.0.1:{silent.getsockname()[1]}/zndraw/api/",
                                      None, "test")
        assert discovery._serves_api(endpoint) is None
        silent.accept()[0].close()  # the probe's connection
        assert discovery._serves_api(endpoint) is None
        with pytest.raises(BlockingIOError):  # not asked again
            silent.accept()
        monkeypatch.setattr(discovery, "SILENT_FOR", 0.0)
        discovery._silent.clear()
        assert discovery._serves_api(endpoint) is None
        silent.accept()[0].close()
        assert discovery._serves_api(endpoint) is None  # asked again, SILENT_FOR later
        silent.accept()[0].close()

    refused = discovery.Endpoint(f"http://127.0.0.1:{free_port()}/zndraw/api/", None, "test")
    monkeypatch.setattr(discovery, "SILENT_FOR", 30.0)
    assert discovery._serves_api(refused) is None and refused not in discovery._silent


def test_a_kernel_of_a_real_jupyter_server_finds_it(tmp_path):
    from jupyter_client.manager import KernelManager

    runtime, config = tmp_path / "runtime", tmp_path / "config"
    config.mkdir()
    (config / "jupyter_server_config.json").write_text(json.dumps({
        "ServerApp": {"jpserver_extensions": {"zndraw_widget": True}},
        "ZnDrawWidget": {"storage_path": str(tmp_path / "storage")}}))
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(runtime), "JUPYTER_CONFIG_DIR": str(config)}
    server = subprocess.Popen(  # with a generated token, to be read from the runtime file
        [sys.executable, "-m", "jupyter", "server", "--no-browser", "--allow-root", "--ip",
         "127.0.0.1", "--port", "0", f"--ServerApp.root_dir={tmp_path}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    kernel = None
    try:
        for line in server.stderr:  # logged right after the runtime file is written
            if "copy and paste one of these URLs" in line:
                break
        else:
            pytest.fail("the Jupyter server did not start")
        threading.Thread(target=server.stderr.read, daemon=True).start()
        info = json.loads((runtime / f"jpserver-{server.pid}.json").read_text())
        kernel = KernelManager(kernel_name="python3")
        # independent: else jupyter_client sets JPY_PARENT_PID to this test's pid
        kernel.start_kernel(env={**env, "JPY_PARENT_PID": str(server.pid)}, independent=True)
        client = kernel.client()
        client.start_channels()
        client.wait_for_ready(timeout=60)
        code = ("import ase\nfrom zndraw_widget import Room\nroom = Room('x', create=True)\n"
                "room.append(ase.Atoms('H2', positions=[[0, 0, 0], [0, 0, 0.7]]))\n"
                "print(len(room), room.url)")
        outputs = []
        reply = client.execute_interactive(
            code, timeout=60,
            output_hook=lambda msg: outputs.append(msg["content"].get("text", "")))
        client.stop_channels()
        assert reply["content"]["status"] == "ok", reply["content"]
        assert "".join(outputs).split() == ["1", info["url"] + "zndraw/api/"]
        with Room("x", url=info["url"], token=info["token"], create=False) as room:
            assert room[0].get_chemical_formula() == "H2"
    finally:
        if kernel is not None:
            kernel.shutdown_kernel(now=True)
        server.terminate()
        server.wait(30)
