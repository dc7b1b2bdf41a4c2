#!/usr/bin/env python3
"""crunch exec kernel: the price of a European call option by Monte Carlo.

The work is split into blocks of BLOCK paths; block b draws its normal
variates from random.Random(seed * 2**32 + b), whichever chunk runs it, and
every sum is kept exactly (each float payoff is a multiple of 2**-1074), so
the price is the same for every chunk count and every number of workers,
rounded once at the end. Standard library only.
"""
import json
import math
import random
import sys
from fractions import Fraction

BLOCK = 1000  # paths per unit of work
SCALE = 1074  # every finite float is an integer multiple of 2**-1074
PER_CHUNK = 200  # blocks per chunk by default: about 0.2 s of Python


def exact(x):
    """x (a non-negative float) as an integer multiple of 2**-SCALE."""
    n, d = x.as_integer_ratio()
    return n << (SCALE - (d.bit_length() - 1))


def blocks(params):
    return -(-params["paths"] // BLOCK)


def plan(params):
    n = blocks(params)
    return {"extent": n, "chunks": max(1, min(4096, -(-n // PER_CHUNK)))}


def run(params, lo, hi):
    s, k, r = params["spot"], params["strike"], params["rate"]
    vol, t, paths = params["vol"], params["years"], params["paths"]
    drift = (r - 0.5 * vol * vol) * t
    diffusion = vol * math.sqrt(t)
    total = total_sq = count = 0
    for b in range(lo, hi):
        rng = random.Random(params["seed"] * 2**32 + b)
        for _ in range(min(BLOCK, paths - b * BLOCK)):
            payoff = max(s * math.exp(drift + diffusion * rng.gauss(0.0, 1.0)) - k, 0.0)
            total += exact(payoff)
            total_sq += exact(payoff * payoff)
            count += 1
    return {"count": count, "sum": str(total), "sum_sq": str(total_sq)}


def reduce(params, partials):
    n = sum(p["count"] for p in partials)
    total = Fraction(sum(int(p["sum"]) for p in partials), 2**SCALE)
    total_sq = Fraction(sum(int(p["sum_sq"]) for p in partials), 2**SCALE)
    mean = total / n
    variance = max(total_sq / n - mean * mean, Fraction(0))
    discount = math.exp(-params["rate"] * params["years"])
    return {"result": {
        "paths": n,
        "price": discount * float(mean),
        "stderr": discount * math.sqrt(float(variance) / n),
    }}


def main():
    step = sys.argv[1]
    req = json.load(sys.stdin)
    params = req["params"]
    if step == "plan":
        out = plan(params)
    elif step == "run":
        out = run(params, req["lo"], req["hi"])
    elif step == "reduce":
        out = reduce(params, req["partials"])
    else:
        print(f"mcoption: unknown step {step!r}", file=sys.stderr)
        sys.exit(2)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
