"""The figure mailbox: a view PUTs a PNG (or its error), the kernel GETs it, waiting."""

from __future__ import annotations

import asyncio

from zndraw_widget.server.figures import BOX

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
FIGURE = "f" * 22


async def test_a_figure_is_taken_once(api):
    await api.json("PUT", f"figures/{FIGURE}", 201, body=PNG,
                   headers={"Content-Type": "image/png", "X-ZnDraw-Session": "view-1"})
    error = await api.json("PUT", f"figures/{FIGURE}", 409, body=PNG,
                           headers={"Content-Type": "image/png"})
    assert "sent already" in error["message"]
    response = await api.call("GET", f"figures/{FIGURE}", params={"timeout": 0})
    assert response.code == 200 and response.body == PNG
    assert response.headers["X-ZnDraw-View"] == "view-1"
    gone = await api.json("GET", f"figures/{FIGURE}", 404, params={"timeout": 0})
    assert "is a view of the viewer displayed" in gone["message"]


async def test_the_kernel_waits_for_the_view(api):
    waiting = asyncio.ensure_future(api.call("GET", f"figures/{FIGURE}w", params={"timeout": 20}))
    while not any(figure == f"{FIGURE}w" for _user, figure in BOX._waiting):
        await asyncio.sleep(0.01)  # until the server waits for it (the servers run in-process)
    await api.json("PUT", f"figures/{FIGURE}w", 201, body=PNG,
                   headers={"Content-Type": "image/png"})
    response = await waiting
    assert response.code == 200 and response.body == PNG


async def test_a_failed_figure_and_bad_input(api):
    await api.json("PUT", f"figures/{FIGURE}e", 201,
                   json_body={"error": "a picture of 9000 x 9000 pixels: too large"})
    failed = await api.json("GET", f"figures/{FIGURE}e", 422, params={"timeout": 0})
    assert failed["error"] == "figure_failed" and "9000" in failed["message"]
    not_png = await api.json("PUT", f"figures/{FIGURE}x", 400, body=b"GIF89a",
                             headers={"Content-Type": "image/gif"})
    assert "PNG" in not_png["message"]
    assert (await api.call("GET", "figures/short")).code == 404  # no such route
    bad = await api.json("GET", f"figures/{FIGURE}", 400, params={"timeout": 1000})
    assert "timeout" in bad["message"]
    await api.json("PUT", f"figures/{FIGURE}j", 400, json_body={"error": ""})
