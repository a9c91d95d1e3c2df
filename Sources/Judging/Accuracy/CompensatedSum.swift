/// Neumaier's compensated summation: the sum of n terms with error about one rounding instead of
/// growing with n, so means and sums of squares over millions of rows stay accurate to ~1e-16.
struct CompensatedSum {
    private var sum = 0.0
    private var compensation = 0.0

    @inline(__always)
    mutating func add(_ x: Double) {
        let t = sum + x
        if abs(sum) >= abs(x) {
            compensation += (sum - t) + x
        } else {
            compensation += (x - t) + sum
        }
        sum = t
    }

    var value: Double { sum + compensation }
}
