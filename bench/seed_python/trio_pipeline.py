#!/usr/bin/python3
"""The seed article's trio nursery pipeline, transcribed as the article has it: the data split
into 8 chunks with np.array_split, one heavy_compute task per chunk in a trio nursery, each
computing np.sum(np.random.rand(10000, 10000) * data_chunk).

Additions, each marked below: N and the chunk count come from the command line; the data is
N * chunks random values, so that each chunk has N of them and broadcasts against the N x N
matrix (the article leaves `big_dataset` undefined); the tasks' results are kept so that the
total can be printed (the article drops them); the run is timed and reported as one JSON object
for side_by_side.py. trio runs every task on one thread, so this uses one core.
"""
import argparse
import json
import time
import trio
import numpy as np

N = 10000  # the article's rand(10000, 10000); set from the command line below


async def heavy_compute(data_chunk, results, k):  # added: results, k
    # Simulate CPU work
    await trio.sleep(0)  # Yield for fairness
    results[k] = np.sum(np.random.rand(N, N) * data_chunk)


async def parallel_pipeline(data, chunk_count=8, results=None):  # added: chunk_count, results
    async with trio.open_nursery() as nursery:
        chunks = np.array_split(data, chunk_count)
        for k, chunk in enumerate(chunks):
            nursery.start_soon(heavy_compute, chunk, results, k)
    # All tasks complete here— no leaks!


if __name__ == "__main__":  # added: the command line, the timing and the JSON report
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--chunks", type=int, default=8)
    args = parser.parse_args()
    N = args.n
    big_dataset = np.random.rand(args.n * args.chunks)
    results = [0.0] * args.chunks
    start = time.perf_counter()
    trio.run(parallel_pipeline, big_dataset, args.chunks, results)
    seconds = time.perf_counter() - start
    print(json.dumps({"program": "article pipeline (trio + NumPy)", "n": args.n,
                      "chunks": args.chunks, "total": float(sum(results)),
                      "seconds": seconds}))
