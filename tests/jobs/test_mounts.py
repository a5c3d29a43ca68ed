"""The upload endpoint on both mounts (the Jupyter extension and the standalone server, in
this process): a small file imported by the default engine."""

from __future__ import annotations

import io

import ase.io

from ..conftest import make_atoms


async def test_an_upload_is_imported_on_both_mounts(api):
    frames = make_atoms(20, natoms=8)
    text = io.StringIO()
    ase.io.write(text, frames, format="extxyz")
    answer = await api.json("POST", "rooms/mounted/files", 202, body=text.getvalue().encode(),
                            params={"name": "small.xyz", "format": "extxyz"})
    job = answer["job"]
    assert job["format"] == "extxyz" and job["room"] == "mounted"
    done = await api.json("GET", f"jobs/{job['id']}", params={"wait": "30"})
    assert done["state"] == "done" and done["frames_done"] == 20, done
    assert (await api.json("GET", "rooms/mounted"))["length"] == 20
    assert [entry["id"] for entry in (await api.json("GET", "jobs"))["jobs"]] == [job["id"]]
    refused = await api.call("GET", f"jobs/{job['id']}", params={"wait": "600"})
    assert refused.code == 400 and b"'wait'" in refused.body
