package conv

// chooseAlgorithm picks the algorithm for a geometry when the caller asked for Auto.
// Only algorithms with a registered kernel may be returned.
func chooseAlgorithm(g Geometry, n int) Algorithm {
	return Im2col
}
