// Package pricing is a crunch kernel written outside crunch: it prices a
// European call and put by Monte Carlo under the Black–Scholes model, and
// gives the closed-form prices beside the estimates.
//
// It is the kernel of the option-pricing example (see its README section
// "Your own kernels"): [Spec] is the half the API program links, to
// validate params and size the work; [Runner] is the half the worker
// program links, to simulate paths and merge the chunks. It uses only
// crunch's public packages (tasks, and kerneltest in its tests).
//
// # Params and result
//
// Params: spot and strike (0.001 to 10^8), rate (−0.5 to 0.5, default 0,
// continuously compounded per year), volatility (0.001 to 1, per √year),
// maturity (0.001 to 10 years), paths (2 to 10^10, default 10^6) and seed
// (0 to 2^63−1, default 0). Result:
//
//	{"paths": N,
//	 "call": {"price": …, "stderr": …, "interval95": [lo, hi], "black_scholes": …},
//	 "put":  {"price": …, "stderr": …, "interval95": [lo, hi], "black_scholes": …},
//	 "resolution": spot·2^−24}
//
// # The simulation, exactly
//
// The stock follows geometric Brownian motion, so its price at expiry is
// S_T = spot·exp((rate − volatility²/2)·maturity + volatility·√maturity·Z)
// with Z standard normal. Path i, for 0 ≤ i < paths, is a pure function
// of (seed, i) — a counter-based generator, with no state carried from one
// path to the next:
//
//	h = the (i+1)-th output of SplitMix64 seeded with seed (as in crunch's pi kernel)
//	u = (⌊h / 2^12⌋ + ½) / 2^52          in [2^−53, 1 − 2^−53], exact
//	Z = Φ⁻¹(u)                           by Wichura's AS 241, |Z| < 8.21
//	x = exp(drift + vol·Z)               S_T / spot
//	call units = round((x − strike/spot) · 2^24)   if positive, else 0
//	put units  = round((strike/spot − x) · 2^24)   if positive, else 0
//
// with drift = (rate − volatility²/2)·maturity and vol = volatility·√maturity.
// exp, log and Φ⁻¹ are computed with basic IEEE operations only (see
// portable.go): math.Exp and math.Log differ between CPUs, and a fleet of
// mixed workers would then compute the same path differently.
//
// # Why the result is the same for every chunking
//
// Each path contributes whole numbers of units, summed in exact integers:
// Σ units in 128 bits and Σ units² in 192 bits per option. A chunk
// simulates the paths [Lo, Hi) of its range (split further over the cores)
// and reports its sums; Reduce adds them. Integer addition is exact and
// associative, so the sums, and everything computed from them, do not
// depend on how [0, paths) was cut, nor on which worker ran what.
//
// Summing float64 payoffs instead would give a result that changes in its
// last digits with the chunking, because float addition is not
// associative. The fixed-point grid is the user-side way to an exact sum
// without crunch's internal accumulator: its price is a rounding of each
// payoff to a multiple of spot·2^−24 (6·10^−8 of spot), a bias of at most
// half of that in the mean, far below the standard error of any feasible
// number of paths. math/big would avoid even that, at several times the
// cost per path; here it is used only once per job, in Reduce.
//
// The bounds make the units fit: |Z| < 8.21 and the param bounds give
// x < e^26.3 < 2^38 and strike/spot ≤ 10^11 < 2^37, so every payoff is
// below 2^62 units and 10^10 of them sum to less than 2^96 (their squares
// to less than 2^158). Run checks the bound on every path anyway.
//
// # The final arithmetic
//
// Reduce turns the exact sums over n paths into float64 by exact rationals
// (math/big), each rounded once: mean = Σv/n and the sample variance
// (n·Σv² − (Σv)²)/(n·(n−1)); then price = mean·unit and stderr =
// √(variance/n)·unit with unit = spot·e^(−rate·maturity)·2^−24, and
// interval95 = price ∓ 1.959963984540054·stderr.
//
// # Partials
//
// 89 bytes: a version byte (1), the chunk's number of paths (a
// little-endian uint64), then for the call and then the put Σ units (two
// little-endian uint64 words, low first) and Σ units² (three words).
// Reduce checks the version, the length and the path count against the
// chunk's range.
package pricing
