import Foundation

/// The paper's tables over a set of result records: for each scheme, model, size and dataset the mean ± std over
/// seeds of test ACC and AUC in percent, and for each scheme, model and size their average over datasets.
///
/// **Missing cells.** The table spans every dataset, size, model and scheme that occurs in at least one record;
/// a combination without a successful record is missing (nil), shown as "—" and never as zero.
///
/// **Average over datasets** (MEDMNIST.md §1.6, as the paper's "Average" table): the arithmetic mean of the
/// per-dataset means, and as its "±" the arithmetic mean of the per-dataset stds. It is *complete* when every
/// dataset of the table is present for that scheme, model and size; otherwise it is computed over the datasets
/// present and marked *partial* with their count (`datasets` < `expectedDatasets`), and never compared with the
/// paper. Datasets with a single seed (kNN) have no spread and do not enter the mean std, so an average of
/// single-seed cells has no "±" (as the paper's kNN table).
public struct ReportTable: Sendable {
    /// One scheme × model × size × dataset cell.
    public struct Entry: Sendable, Equatable {
        public var dataset: String
        public var size: Int
        public var model: String
        public var scheme: ExperimentScheme
        /// The seeds found, sorted.
        public var seeds: [Int]
        /// Test ACC and AUC in percent over the seeds.
        public var acc: MeanStd
        public var auc: MeanStd
        /// Mean wall time of the cell's records (the grid's `seconds`: loading, training and evaluation).
        public var seconds: Double
        /// Mean peak RSS of the records that have one, in bytes.
        public var peakRSSBytes: Double?
    }

    /// The average over datasets of one scheme × model × size.
    public struct Average: Sendable, Equatable {
        public var size: Int
        public var model: String
        public var scheme: ExperimentScheme
        /// Mean of the per-dataset means, and mean of the per-dataset stds (nil when none is defined).
        public var accMean: Double
        public var accStd: Double?
        public var aucMean: Double
        public var aucStd: Double?
        /// Mean of the per-dataset mean seconds.
        public var seconds: Double
        /// Datasets present, and how many the table has.
        public var datasets: Int
        public var expectedDatasets: Int
        public var isComplete: Bool { datasets == expectedDatasets }
    }

    public struct Key: Hashable, Sendable {
        public var scheme: ExperimentScheme
        public var model: String
        public var size: Int
        public var dataset: String
    }

    /// The table's axes: datasets alphabetically (as the paper's figures), sizes ascending, the paper's models
    /// in its order then others alphabetically, schemes in ``ExperimentScheme`` order.
    public let datasets: [String]
    public let sizes: [Int]
    public let models: [String]
    public let schemes: [ExperimentScheme]
    public let ddof: Int
    public let recordCount: Int
    private let entries: [Key: Entry]

    /// Aggregates `records` (successful ones; failed ones are ignored) with std's `ddof` (0 or 1).
    public init(_ records: [GridRecord], ddof: Int = 0) {
        precondition(ddof >= 0, "ddof must not be negative")
        self.ddof = ddof
        let ok = records.filter { $0.status == .ok && $0.result != nil }
        recordCount = ok.count
        datasets = Set(ok.map(\.cell.dataset)).sorted()
        sizes = Set(ok.map(\.cell.size)).sorted()
        models = Self.ordered(Set(ok.map(\.cell.model)), by: GridSelection.paperModels)
        schemes = ExperimentScheme.allCases.filter { scheme in ok.contains { $0.cell.scheme == scheme } }
        var groups: [Key: [GridRecord]] = [:]
        for record in ok {
            let cell = record.cell
            groups[Key(scheme: cell.scheme, model: cell.model, size: cell.size, dataset: cell.dataset), default: []].append(record)
        }
        var entries: [Key: Entry] = [:]
        for (key, group) in groups {
            let sorted = group.sorted { $0.cell.seed < $1.cell.seed }
            let rss = sorted.compactMap(\.peakRSSBytes).map(Double.init)
            entries[key] = Entry(
                dataset: key.dataset, size: key.size, model: key.model, scheme: key.scheme, seeds: sorted.map(\.cell.seed),
                acc: MeanStd(sorted.map { $0.result!.test.acc * 100 }, ddof: ddof)!,
                auc: MeanStd(sorted.map { $0.result!.test.auc * 100 }, ddof: ddof)!,
                seconds: sorted.map(\.seconds).reduce(0, +) / Double(sorted.count),
                peakRSSBytes: rss.isEmpty ? nil : rss.reduce(0, +) / Double(rss.count))
        }
        self.entries = entries
    }

    /// The cell, or nil when it is missing.
    public func entry(scheme: ExperimentScheme, model: String, size: Int, dataset: String) -> Entry? {
        entries[Key(scheme: scheme, model: model, size: size, dataset: dataset)]
    }

    /// The average over datasets, or nil when no dataset has the cell.
    public func average(scheme: ExperimentScheme, model: String, size: Int) -> Average? {
        let present = datasets.compactMap { entry(scheme: scheme, model: model, size: size, dataset: $0) }
        guard !present.isEmpty else { return nil }
        let n = Double(present.count)
        func meanStd(_ values: [Double?]) -> Double? {
            let defined = values.compactMap { $0 }
            return defined.isEmpty ? nil : defined.reduce(0, +) / Double(defined.count)
        }
        return Average(
            size: size, model: model, scheme: scheme,
            accMean: present.map(\.acc.mean).reduce(0, +) / n, accStd: meanStd(present.map { $0.seeds.count > 1 ? $0.acc.std : nil }),
            aucMean: present.map(\.auc.mean).reduce(0, +) / n, aucStd: meanStd(present.map { $0.seeds.count > 1 ? $0.auc.std : nil }),
            seconds: present.map(\.seconds).reduce(0, +) / n,
            datasets: present.count, expectedDatasets: datasets.count)
    }

    /// The models that have at least one cell under `scheme`.
    public func models(for scheme: ExperimentScheme) -> [String] {
        models.filter { model in entries.keys.contains { $0.scheme == scheme && $0.model == model } }
    }

    /// The largest seed count of any cell of `scheme` (what a complete cell of it has).
    public func expectedSeeds(for scheme: ExperimentScheme) -> Int {
        entries.values.filter { $0.scheme == scheme }.map(\.seeds.count).max() ?? 0
    }

    /// `names` in the order of `reference`, the rest after them alphabetically.
    static func ordered(_ names: Set<String>, by reference: [String]) -> [String] {
        reference.filter(names.contains) + names.subtracting(reference).sorted()
    }
}
