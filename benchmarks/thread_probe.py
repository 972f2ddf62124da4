"""What sets torch's intra-op thread count when fits run on several Python threads?

Each scenario runs in a fresh process: a worker thread ("A") is set up as the
scenario says, then runs 8 products of 1500x1500 float32 matrices (MKL) and 8
exp+sum over 4M floats (ATen's OpenMP loops). Reported: torch.get_num_threads()
on A, the parallelism A really used (process CPU time / wall time), the
default a thread started afterwards gets, and the main thread's count. Run it
alone (under the CPU lock): another process on the cores lowers the ratios.

    python benchmarks/thread_probe.py [--out results/threads.md]
"""

import argparse
import json
import subprocess
import sys
import threading
import time

from _common import print_table


def parallelism(torch):
    a, x = torch.randn(1500, 1500), torch.randn(4_000_000)
    ratios = []
    for op in (lambda: a @ a, lambda: torch.exp(x).sum()):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(8):
            op()
        ratios.append(
            round((time.process_time() - cpu) / (time.perf_counter() - wall), 2)
        )
    return ratios


def in_thread(function):
    thread = threading.Thread(target=function)
    thread.start()
    thread.join()


def scenario(name):
    import torch
    from threadpoolctl import threadpool_limits

    from skae._cpu import ThreadBudget

    if name.startswith("after torch.set_num_threads(2) in main"):
        torch.set_num_threads(2)

    def setup():
        if "A: torch.set_num_threads(1)" in name:
            torch.set_num_threads(1)
        if "threadpool_limits(1)" in name:
            torch.get_num_threads()  # torch's per-thread initialisation first
            threadpool_limits(1, user_api="openmp")
        if "then another thread sets 2" in name:
            in_thread(lambda: torch.set_num_threads(2))
        if "ThreadBudget" in name:
            ThreadBudget(1e12).__enter__()  # a first fit
            ThreadBudget(1e12).__enter__()  # a second one joins

    result = {}

    def body():
        setup()
        result["threads"] = torch.get_num_threads()
        result["ratios"] = parallelism(torch)

    in_thread(body)
    later = []
    in_thread(lambda: later.append(torch.get_num_threads()))
    return [
        name,
        result["threads"],
        *result["ratios"],
        later[0],
        torch.get_num_threads(),
    ]


SCENARIOS = [
    "A: nothing",
    "A: torch.set_num_threads(1)",
    "A: threadpool_limits(1) (torch's OpenMP runtime)",
    "A: torch.set_num_threads(1), then another thread sets 2",
    "after torch.set_num_threads(2) in main, A: threadpool_limits(1) (torch's OpenMP runtime)",
    "after torch.set_num_threads(2) in main, A: torch.set_num_threads(1)",
    "A: ThreadBudget with 2 big fits running",
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=None)
    parser.add_argument("--scenario", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scenario:
        print(json.dumps(scenario(args.scenario)))
        return
    rows = []
    for name in SCENARIOS:
        output = subprocess.run(
            [sys.executable, __file__, "--scenario", name],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(output.stdout.strip().splitlines()[-1]))
    import torch

    print_table(
        f"torch {torch.__version__}: intra-op threads of a worker thread A (default {torch.get_num_threads()})",
        [
            "scenario",
            "A's torch.get_num_threads()",
            "A's matmul CPU/wall",
            "A's exp CPU/wall",
            "a later thread's default",
            "main thread's",
        ],
        rows,
        args.out,
    )


if __name__ == "__main__":
    main()
