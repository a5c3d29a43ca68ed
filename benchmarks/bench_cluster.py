"""The production topology against one process, in the same run: nginx (the project's own
docker/nginx/nginx.conf, rendered for local ports) in front of three ``serve`` replicas on
one redis-server, beside a single ``serve`` process with the embedded store.

    python benchmarks/bench_cluster.py [--quick]

Figures (goals from the deployment issue):
- frame_updated fan-out to 100 clients (bench_control.py's figure): p50/p95 through the
  cluster beside one process (goal: cluster p95 within 1.5x of one process's);
- 1k-atom frame reads (bench_data_channel.py's figure): the median latency of one client's
  sequential reads, and reads/s of several client processes reading at once (goal: the
  cluster's reads/s at least one process's).
Needs nginx and redis-server (scripts/install-test-deps.sh installs them).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import multiprocessing
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_control  # noqa: E402  (the fan-out figure and its client)
from bench_data_channel import frames_body  # noqa: E402
from tests.conftest import ServerProcess  # noqa: E402  (the tests' helpers)
from tests.test_deploy import Cluster  # noqa: E402

TOKEN = bench_control.TOKEN
FRAMES, ATOMS = 200, 1000
BLOCKS = 3


def make_room(api: str, name: str) -> None:
    """A room of FRAMES frames of ATOMS atoms, written through ``api``."""
    where = urlsplit(api)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
    headers = {"Authorization": f"token {TOKEN}"}
    connection.request("POST", where.path + "rooms", json.dumps({"name": name, "base": None}),
                       headers)
    created = connection.getresponse()
    created.read()
    assert created.status == 201, created.status
    rng = np.random.default_rng(0)
    body = frames_body(rng.random((FRAMES, ATOMS, 3)), np.ones((FRAMES, ATOMS), dtype=np.int64))
    connection.request("POST", where.path + f"rooms/{name}/frames?base_version=0", body, headers)
    response = connection.getresponse()
    response.read()
    assert response.status == 201, response.status
    connection.close()


def read_frames(api: str, room: str, indices: list[int]) -> list[float]:
    """Seconds of each ``GET frames?index=i`` on one keep-alive connection."""
    where = urlsplit(api)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
    headers = {"Authorization": f"token {TOKEN}"}
    times = []
    for index in indices:
        start = time.perf_counter()
        connection.request("GET", where.path + f"rooms/{room}/frames?index={index}",
                           headers=headers)
        response = connection.getresponse()
        response.read()
        times.append(time.perf_counter() - start)
        if response.status != 200:
            raise RuntimeError(f"read {index}: {response.status}")
    connection.close()
    return times


def _reader(job: tuple[str, str, list[int]]) -> float:
    start = time.perf_counter()
    read_frames(*job)
    return time.perf_counter() - start


def read_figures(api: str, room: str, reads: int, clients: int) -> tuple[list[float], float]:
    """(seconds of one client's reads, reads/s of ``clients`` processes reading at once)."""
    rng = np.random.default_rng(1)
    latencies = read_frames(api, room, list(rng.integers(0, FRAMES, reads)))
    jobs = [(api, room, list(rng.integers(0, FRAMES, reads))) for _ in range(clients)]
    with multiprocessing.get_context("fork").Pool(clients) as pool:
        start = time.perf_counter()
        pool.map(_reader, jobs)
        elapsed = time.perf_counter() - start
    return latencies, clients * reads / elapsed


def main(quick: bool) -> int:
    for program in ("nginx", "redis-server"):
        if not (shutil.which(program) or shutil.which(program, path="/usr/sbin")):
            print(f"{program} is not installed: run scripts/install-test-deps.sh")
            return 1
    rounds, reads, clients = (30, 200, 4) if quick else (200, 1000, 4)
    work = Path(tempfile.mkdtemp(prefix="zndraw-bench-cluster-"))
    one = cluster = None
    try:
        one = ServerProcess(work / "one", token=TOKEN)
        cluster = Cluster(work / "cluster", token=TOKEN)
        # The two set-ups are measured in turn, block by block, so that load from elsewhere
        # on the machine weighs on both alike.
        single, through = [], []
        for block in range(BLOCKS):
            print(f"... fan-out, block {block + 1}/{BLOCKS}", file=sys.stderr, flush=True)
            single += asyncio.run(bench_control.fanout(one, [one], 100, rounds // BLOCKS))
            through += asyncio.run(bench_control.fanout(cluster, [cluster], 100,
                                                        rounds // BLOCKS))
        make_room(one.url, "reads")
        make_room(cluster.api, "reads")
        for api in (one.url, cluster.api):  # warm every replica's cache alike
            read_frames(api, "reads", list(range(FRAMES)) * 3)
        one_times, cluster_times, one_rates, cluster_rates = [], [], [], []
        for block in range(BLOCKS):
            print(f"... 1k-atom reads, block {block + 1}/{BLOCKS}", file=sys.stderr, flush=True)
            for api, times, rates in ((one.url, one_times, one_rates),
                                      (cluster.api, cluster_times, cluster_rates)):
                latencies, rate = read_figures(api, "reads", reads // BLOCKS, clients)
                times += latencies
                rates.append(rate)
        one_latency = statistics.median(one_times) * 1e3
        cluster_latency = statistics.median(cluster_times) * 1e3
        one_rate, cluster_rate = statistics.median(one_rates), statistics.median(cluster_rates)

        print(f"{'figure':<52} {'one process':>14} {'nginx + 3':>14} {'ratio':>7}  goal")
        p95_one, p95_cluster = np.percentile(single, 95), np.percentile(through, 95)
        fan_ok = p95_cluster <= 1.5 * p95_one
        print(f"{'frame_updated fan-out x100, p50/p95 ms':<52} "
              f"{np.percentile(single, 50):>6.2f}/{p95_one:<7.2f} "
              f"{np.percentile(through, 50):>6.2f}/{p95_cluster:<7.2f} "
              f"{p95_cluster / p95_one:>6.2f}x  p95 <= 1.5x {'pass' if fan_ok else 'MISS'}")
        print(f"{'1k-atom frame read, one client, median ms':<52} {one_latency:>14.3f} "
              f"{cluster_latency:>14.3f} {cluster_latency / one_latency:>6.2f}x  -")
        rate_ok = cluster_rate >= one_rate
        print(f"{f'1k-atom frame reads/s, {clients} client processes':<52} {one_rate:>14,.0f} "
              f"{cluster_rate:>14,.0f} {cluster_rate / one_rate:>6.2f}x  >= 1x "
              f"{'pass' if rate_ok else 'MISS'}")
        ok = fan_ok and rate_ok
    finally:
        if cluster is not None:
            cluster.stop()
        if one is not None:
            one.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and reads")
    sys.exit(main(parser.parse_args().quick))
