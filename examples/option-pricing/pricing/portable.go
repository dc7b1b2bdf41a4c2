package pricing

import "math"

// The functions of this file compute exp, log, the standard normal CDF and
// its inverse with IEEE-754 additions, multiplications and divisions,
// math.Sqrt (correctly rounded everywhere) and the exact math.Frexp and
// math.Floor only. Every product is converted with
// float64(…) before it is added, which forbids the compiler to fuse it
// into a multiply-add (the Go specification allows fusion otherwise, and
// arm64 or GOAMD64=v3 builds do it).
//
// Why not math.Exp and math.Log: on amd64 they are assembly whose result
// depends on the CPU (math.Exp uses FMA instructions when the CPU has
// them), and other architectures have their own versions. A worker fleet
// of mixed machines would then compute path i differently on different
// workers, and the result of a job would depend on which worker ran which
// chunk. These versions give the same bits on every machine. They are
// accurate to a few units in the last place, which is far below the
// Monte Carlo error.

const (
	ln2Hi  = 6.93147180369123816490e-01 // the upper bits of ln 2: k·ln2Hi is exact for |k| < 2^20
	ln2Lo  = 1.90821492927058770002e-10 // ln 2 − ln2Hi
	log2e  = 1.44269504088896338700e+00
	sqrtHf = 0.70710678118654752440
)

// exp returns e^x, for |x| ≤ 700.
func exp(x float64) float64 {
	k := math.Floor(float64(x*log2e) + 0.5)
	r := float64(x-float64(k*ln2Hi)) - float64(k*ln2Lo) // |r| ≤ 0.35, x = k·ln 2 + r
	// Taylor series of e^r to degree 14: the first omitted term is below
	// 2^−60 of the result.
	p := 1.0 / 87178291200
	for _, c := range [...]float64{1.0 / 6227020800, 1.0 / 479001600, 1.0 / 39916800, 1.0 / 3628800,
		1.0 / 362880, 1.0 / 40320, 1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1, 1} {
		p = float64(p*r) + c
	}
	return p * math.Float64frombits(uint64(int64(k)+1023)<<52) // p·2^k, exact: −1010 ≤ k ≤ 1010
}

// log returns the natural logarithm of x > 0.
func log(x float64) float64 {
	m, e := math.Frexp(x) // x = m·2^e, m in [0.5, 1)
	if m < sqrtHf {
		m, e = m*2, e-1 // m in [√½, √2), exactly
	}
	f := m - 1 // exact
	s := f / (2 + f)
	w := float64(s * s) // ≤ 0.0295
	// log m = 2·atanh s = 2s·(1 + w/3 + w²/5 + …); the terms to w^11 leave
	// less than 2^−60.
	p := 1.0 / 23
	for _, c := range [...]float64{1.0 / 21, 1.0 / 19, 1.0 / 17, 1.0 / 15, 1.0 / 13, 1.0 / 11, 1.0 / 9, 1.0 / 7, 1.0 / 5, 1.0 / 3, 1} {
		p = float64(p*w) + c
	}
	k := float64(e)
	return float64(k*ln2Hi) + (float64(float64(2*s)*p) + float64(k*ln2Lo))
}

// horner evaluates c[0] + c[1]·x + … + c[n]·x^n without fused operations.
func horner(x float64, c ...float64) float64 {
	p := c[len(c)-1]
	for i := len(c) - 2; i >= 0; i-- {
		p = float64(p*x) + c[i]
	}
	return p
}

// normInv is the inverse of the standard normal CDF at u in (0, 1): the
// algorithm AS 241 (PPND16) of Wichura, "The percentage points of the
// normal distribution", Applied Statistics 37 (1988), accurate to about
// 1 part in 10^16.
func normInv(u float64) float64 {
	q := u - 0.5
	if math.Abs(q) <= 0.425 {
		r := 0.180625 - float64(q*q)
		return float64(q*horner(r, 3.387132872796366608, 133.14166789178437745, 1971.5909503065514427,
			13731.693765509461125, 45921.953931549871457, 67265.770927008700853, 33430.575583588128105,
			2509.0809287301226727)) /
			horner(r, 1, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077,
				21213.794301586595867, 39307.89580009271061, 28729.085735721942674, 5226.495278852545925)
	}
	r := u
	if q > 0 {
		r = 1 - u
	}
	r = math.Sqrt(-log(r))
	var z float64
	if r <= 5 {
		r -= 1.6
		z = horner(r, 1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055,
			3.64784832476320460504, 1.27045825245236838258, 0.24178072517745061177,
			0.0227238449892691845833, 7.7454501427834140764e-4) /
			horner(r, 1, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455,
				0.14810397642748007459, 0.0151986665636164571966, 5.475938084995344946e-4,
				1.05075007164441684324e-9)
	} else {
		r -= 5
		z = horner(r, 6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358,
			0.29656057182850489123, 0.026532189526576123093, 0.0012426609473880784386,
			2.71155556874348757815e-5, 2.01033439929228813265e-7) /
			horner(r, 1, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525,
				7.868691311456132591e-4, 1.8463183175100546818e-5, 1.4215117583164458887e-7,
				2.04426310338993978564e-15)
	}
	if q < 0 {
		return -z
	}
	return z
}

// normCDF is the standard normal CDF Φ(x), by Marsaglia's series
// ("Evaluating the normal distribution", J. Stat. Software 11, 2004):
// Φ(x) = ½ + φ(x)·(x + x³/3 + x⁵/(3·5) + …), with an absolute error of
// about 10^−15 (below −8.5 it is 0, above 8.5 it is 1), plenty for a
// price to compare with.
func normCDF(x float64) float64 {
	switch {
	case x < -8.5: // Φ(−8.5) < 10^−17
		return 0
	case x > 8.5:
		return 1
	}
	s, b, q := x, x, float64(x*x)
	for i := 3.0; ; i += 2 {
		b = float64(b*q) / i
		t := s + b
		if t == s {
			break
		}
		s = t
	}
	return 0.5 + float64(s*exp(float64(-0.5*q)-0.91893853320467274178)) // ln √(2π)
}
