//go:build amd64 && !purego

package primes

func init() {
	crossTab = crossEightAsm
	crossPaths = append(crossPaths, crossPath{"amd64", crossEightAsm})
}
