/// Mean and standard deviation over a cell's seeds.
///
/// The standard deviation is numpy's `std` with `ddof` delta degrees of freedom: the square root of
/// Σ(x − mean)² / (n − ddof). The report's default is `ddof = 0` (population std, numpy's default, which is what
/// `np.std` in the paper's analysis gives unless told otherwise; MEDMNIST.md §1.6 records that the published figures
/// do not settle it). With `ddof = 1` a single value has no std (nil).
public struct MeanStd: Sendable, Equatable, Codable {
    public var mean: Double
    /// nil when it is undefined (n ≤ ddof).
    public var std: Double?
    public var count: Int

    public init(mean: Double, std: Double?, count: Int) {
        self.mean = mean
        self.std = std
        self.count = count
    }

    /// The mean and std of `values` (nil when there are none).
    public init?(_ values: [Double], ddof: Int) {
        guard !values.isEmpty else { return nil }
        let n = Double(values.count)
        let mean = values.reduce(0, +) / n
        self.mean = mean
        count = values.count
        if values.count > ddof {
            let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
            std = (squares / (n - Double(ddof))).squareRoot()
        } else {
            std = nil
        }
    }
}
