#!/usr/bin/python3
"""The seed article's threaded matrix-multiply benchmark, transcribed as the article has it:
ten np.dot products of two random 1000 x 1000 matrices submitted to a ThreadPoolExecutor, timed
from the pool's creation to the last result, reported as the average time per product.

Additions, each marked below: the thread count and sizes come from the command line (the
article hard-codes 8 threads), and the result is printed as one JSON object for
side_by_side.py. Run it with OPENBLAS_NUM_THREADS=1, as the article's threads assume: each
np.dot then runs on the thread that called it.
"""
import argparse
import json
import os
import time
import threading  # noqa: F401  (imported by the article)
import numpy as np
from concurrent.futures import ThreadPoolExecutor


def matrix_multiply(a, b):
    return np.dot(a, b)


def benchmark(mode, num_threads, size=1000, products=10):  # added: size, products
    a = np.random.rand(size, size)
    b = np.random.rand(size, size)

    start = time.time()
    with ThreadPoolExecutor(max_workers=num_threads) as executor:
        futures = [executor.submit(matrix_multiply, a, b) for _ in range(products)]
        results = [f.result() for f in futures]  # noqa: F841
    end = time.time()

    return (end - start) / products  # Average time per op


if __name__ == "__main__":  # added: the command line and the JSON report
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--products", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3, help="runs; the median is reported")
    args = parser.parse_args()
    blas = sorted({line.split()[-1] for line in open("/proc/self/maps")
                   if "blas" in line.rsplit("/", 1)[-1]})  # added: which BLAS NumPy loaded
    runs = sorted(benchmark("free", args.threads, args.size, args.products)
                  for _ in range(args.repeat))
    print(json.dumps({"program": "article matmul (NumPy + ThreadPoolExecutor)",
                      "threads": args.threads, "blas": blas,
                      "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS"), "size": args.size, "products": args.products,
                      "seconds_per_product": runs[len(runs) // 2],
                      "seconds": runs[len(runs) // 2] * args.products}))
