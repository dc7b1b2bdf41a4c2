#!/usr/bin/env python3
"""crunch exec kernel: the exact sum of i*i for from <= i < to.

crunch runs this program with one argument, the step (plan, run or
reduce), writes one JSON object to its stdin and reads one JSON value
from its stdout. Standard library only.
"""
import json
import sys

PER_CHUNK = 2_000_000  # numbers per chunk by default: about 0.2 s of Python


def plan(params):
    extent = params["to"] - params["from"]
    chunks = max(1, min(4096, -(-extent // PER_CHUNK)))
    return {"extent": max(0, extent), "chunks": chunks}


def run(params, lo, hi):
    start = params["from"]
    # An exact Python integer, written as a decimal string: JSON numbers
    # beyond 2**53 lose precision in many readers.
    return {"sum": str(sum(i * i for i in range(start + lo, start + hi)))}


def reduce(params, partials):
    total = sum(int(p["sum"]) for p in partials)
    return {"result": {"from": params["from"], "to": params["to"], "sum": str(total)}}


def main():
    step = sys.argv[1]
    req = json.load(sys.stdin)
    params = req["params"]
    if params["to"] < params["from"]:
        print(f"sumsq: to ({params['to']}) is below from ({params['from']})", file=sys.stderr)
        sys.exit(2)
    if step == "plan":
        out = plan(params)
    elif step == "run":
        out = run(params, req["lo"], req["hi"])
    elif step == "reduce":
        out = reduce(params, req["partials"])
    else:
        print(f"sumsq: unknown step {step!r}", file=sys.stderr)
        sys.exit(2)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
