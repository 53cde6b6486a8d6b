"""The tests' cluster, in a process of its own: ``python cluster_main.py``.

Starts ``distributed.LocalCluster(n_workers=2, threads_per_worker=1,
processes=True)`` on 127.0.0.1 with the dashboard off, prints the
scheduler's address on stdout, and shuts the cluster down when stdin closes
(the fixture closes it; so does the test process dying). Run apart from the
tests so that the scheduler's own sockets and threads are not the test
process's: every test then sees only its client's sockets, which the leak
check can hold it to.
"""

from __future__ import annotations

import sys

from distributed import LocalCluster


def main() -> None:
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},  # its HTTP server on a free port
    ) as cluster:
        print(cluster.scheduler_address, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
